"""The loop's repair policy in the configuration format: parsed, imported, exported, and a
bad value named by its field."""

from __future__ import annotations

import copy
import tomllib
from typing import Any

import pytest
from sqlalchemy import select

from scheduler.config import ConfigError, parse_config
from tests.fixtures.webapp import COMPANY
from web.domain.importer import export_toml, import_config
from web.store.db import Database
from web.store.models import Loop


def company(**repair: Any) -> dict[str, Any]:
    data = copy.deepcopy(COMPANY)
    data["loops"][0]["repair"] = repair
    return data


def test_defaults_and_round_trip(db: Database) -> None:
    config = parse_config(company(min_hours_before=72, max_auto_repairs=1), "team.toml")
    assert config.loops[0].repair.min_hours_before == 72
    assert config.loops[1].repair.auto_repair is True  # defaults: on, 48 h, 3
    assert (config.loops[1].repair.min_hours_before, config.loops[1].repair.max_auto_repairs) == (
        48,
        3,
    )
    with db.session() as s:
        import_config(s, config)
        s.flush()
        row = s.scalar(select(Loop).where(Loop.key == "onsite"))
        assert row is not None
        assert (row.auto_repair, row.repair_min_hours_before, row.max_auto_repairs) == (
            True,
            72,
            1,
        )
        text = export_toml(s)
    again = parse_config(tomllib.loads(text), "export.toml")
    assert again.loop("onsite").repair == config.loops[0].repair  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("repair", "field"),
    [
        ({"auto_repair": "yes"}, "loops[0].repair.auto_repair"),
        ({"min_hours_before": -1}, "loops[0].repair.min_hours_before"),
        ({"max_auto_repairs": 2.5}, "loops[0].repair.max_auto_repairs"),
        ({"max_repairs": 2}, "loops[0].repair.max_repairs"),
    ],
)
def test_bad_values_name_the_field(repair: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(company(**repair), "team.toml")
    assert err.value.field == field
