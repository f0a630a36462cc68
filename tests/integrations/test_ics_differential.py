"""The fast and windowed readers against the full (reference) path, on real files.

Busy intervals, counts, unknown TZIDs, warnings and errors (with their line
numbers) must be identical, on every file of the shared corpus
(``../shared/corpus/ics``) and on the fixtures in ``tests/calendars``, for
the whole range and for windows cut through each file's busy time.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from integrations.ics import reader_mode
from tests.integrations.ics_differential import EVERYTHING, ZONES, assert_same, windows_around

CORPUS = Path(
    os.environ.get("PANELSLOT_ICS_CORPUS")
    or Path(__file__).resolve().parents[3] / "shared" / "corpus" / "ics"
)
CALENDARS = Path(__file__).resolve().parent.parent / "calendars"
IN_CI = os.environ.get("CI", "").lower() == "true"


def corpus_files() -> list[str]:
    if not CORPUS.is_dir():
        return ["<corpus missing>"]
    return sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.ics"))


def need_corpus() -> None:
    if not CORPUS.is_dir():
        reason = f"ICS corpus not found at {CORPUS}"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: the differential corpus test must run)")
        pytest.skip(reason)


def check_file(data: bytes) -> None:
    for zone in ZONES[:2]:
        whole = assert_same(data, EVERYTHING, zone)
        for window in windows_around(whole.busy):
            assert_same(data, window, zone)
    assert_same(data, EVERYTHING, ZONES[2], email="mailto:bob@example.com")
    assert_same(data, EVERYTHING, ZONES[3], email="alice@example.com")


@pytest.mark.parametrize("name", corpus_files())
def test_corpus_file(name: str) -> None:
    need_corpus()
    check_file((CORPUS / name).read_bytes())


@pytest.mark.parametrize("name", sorted(p.name for p in CALENDARS.glob("*.ics")))
def test_fixture(name: str) -> None:
    check_file((CALENDARS / name).read_bytes())


def test_the_reader_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    assert reader_mode("full") == "full"
    monkeypatch.setenv("PANELSLOT_ICS_READER", "windowed")
    assert reader_mode() == "windowed"
    assert reader_mode("fast") == "fast"
    monkeypatch.delenv("PANELSLOT_ICS_READER")
    assert reader_mode() == "fast"
    with pytest.raises(ValueError, match="unknown ICS reader"):
        reader_mode("quick")
