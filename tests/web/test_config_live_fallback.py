"""The loop's ``live_fallback`` setting goes through the config export and import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from web.domain.importer import ImportError_, export_toml, import_config, read_config
from web.store.db import Database
from web.store.models import Loop


def _fallback(db: Database) -> dict[str, bool]:
    with db.session() as s:
        return {lp.key: bool(lp.live_fallback) for lp in s.scalars(select(Loop))}


def test_live_fallback_round_trips(company: dict[str, int], db: Database, tmp_path: Path) -> None:
    with db.session() as s:
        loops = list(s.scalars(select(Loop).order_by(Loop.key)))
        assert loops, "the fixture has loops"
        loops[0].live_fallback = False
        s.commit()
    before = _fallback(db)
    assert False in before.values()
    with db.session() as s:
        text = export_toml(s)
    assert "live_fallback = false" in text
    path = tmp_path / "exported.toml"
    path.write_text(text)
    read = read_config(str(path))
    assert read.loop_settings[loops[0].key] == {"live_fallback": False}
    with db.session() as s:  # the loop flips back on; the import turns it off again
        for lp in s.scalars(select(Loop)):
            lp.live_fallback = True
        s.commit()
    with db.session() as s:
        report = import_config(s, read.config, read.loop_settings)
        s.commit()
    assert f"loop {loops[0].key}" in report.updated
    assert _fallback(db) == before
    with db.session() as s:  # the same file again changes nothing
        again = import_config(s, read.config, read.loop_settings)
        s.commit()
    assert not again.changed


def test_live_fallback_must_be_a_boolean(company: Any, db: Database, tmp_path: Path) -> None:
    with db.session() as s:
        text = export_toml(s)
    path = tmp_path / "bad.toml"
    path.write_text(text.replace("live_fallback = true", 'live_fallback = "maybe"', 1))
    with pytest.raises(ImportError_) as caught:
        read_config(str(path))
    assert "live_fallback" in str(caught.value) and "maybe" in str(caught.value)
