"""The loop setting ``offer_from_ranges``: on by default, in the loop form, the importer
and the export."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from scheduler.config import ConfigError, parse_config
from tests.fixtures.webapp import COMPANY, get_csrf
from tests.web.test_loops import _form, _ids
from web.domain.importer import export_toml, import_config
from web.store.db import Database
from web.store.models import Loop


def _flag(db: Database, key: str) -> bool:
    with db.session() as s:
        value = s.scalar(select(Loop.offer_from_ranges).where(Loop.key == key))
        assert value is not None
        return value


def test_on_by_default_and_from_the_importer(db: Database, tmp_path: Path) -> None:
    data = copy.deepcopy(COMPANY)
    data["loops"][1]["offer_from_ranges"] = False
    with db.session() as s:
        import_config(s, parse_config(data, str(tmp_path / "c.toml")))
    assert _flag(db, "onsite") is True and _flag(db, "screen") is False
    with db.session() as s:
        text = export_toml(s)
    back = {lp.id: lp.offer_from_ranges for lp in parse_config(tomllib.loads(text)).loops}
    assert back == {"onsite": True, "screen": False}


def test_a_bad_value_names_the_field(tmp_path: Path) -> None:
    data = copy.deepcopy(COMPANY)
    data["loops"][0]["offer_from_ranges"] = "yes"
    with pytest.raises(ConfigError) as info:
        parse_config(data, "c.toml")
    assert "loops[0].offer_from_ranges" in str(info.value)


def test_the_loop_form_sets_it(signed_in: Any, db: Database) -> None:
    page = signed_in.get("/loops/new").get_data(as_text=True)
    assert 'name="offer_from_ranges"' in page
    token = get_csrf(signed_in, "/loops/new")
    data = {**_form(_ids(db)), "csrf_token": token, "offer_from_ranges": "y"}
    assert signed_in.post("/loops/new", data=data).status_code == 302
    assert _flag(db, "final") is True
    with db.session() as s:
        lid = s.scalar(select(Loop.id).where(Loop.key == "final"))
    token = get_csrf(signed_in, f"/loops/{lid}/edit")
    data = {**_form(_ids(db)), "csrf_token": token}
    resp = signed_in.post(f"/loops/{lid}/edit", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert _flag(db, "final") is False
