"""`panelslot slots` with a multi-day loop (issue 14): JSON shape unchanged, the table
names each block's date, contract errors exit 2 with one line."""

import json
from pathlib import Path

import pytest

from tests.engine.test_multiday import day_two

from .test_cli_engine import ALICE_ICS, CONFIG, assert_clean_error
from .test_cli_engine import slots as one_day_slots

TWO_DAYS = CONFIG.replace(
    'tue = ["09:00-12:00"]', 'tue = ["09:00-12:00"]\nwed = ["09:00-11:00"]'
) + day_two("Coding", 60, "alice")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "team.toml").write_text(TWO_DAYS)
    (tmp_path / "alice.ics").write_text(ALICE_ICS)
    return tmp_path


def slots(workdir: Path, *extra: str):
    return one_day_slots(workdir, *extra, dates=("2027-03-01", "2027-03-05"))


def test_two_day_loop_json_has_the_same_shape(workdir):
    result = slots(workdir, "--json", "--limit", "0")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    pairs = sorted(tuple(s["start"] for s in o["sessions"]) for o in data["options"])
    # Tuesday 09:00, 10:30, 11:00 (busy 10:00-10:30), then Wednesday 09:00 or 10:00
    firsts = ["2027-03-02T09:00:00Z", "2027-03-02T10:30:00Z", "2027-03-02T11:00:00Z"]
    seconds = ["2027-03-03T09:00:00Z", "2027-03-03T09:30:00Z", "2027-03-03T10:00:00Z"]
    assert pairs == [(a, b) for a in firsts for b in seconds]
    for option in data["options"]:
        assert list(option) == ["score", "sessions"]
        assert [list(s) for s in option["sessions"]] == [
            ["name", "start", "end", "interviewers"]
        ] * 2


def test_two_day_loop_table_names_the_second_date(workdir):
    result = slots(workdir, "--limit", "1")
    assert result.exit_code == 0, result.output
    assert "Tue 02 Mar 2027 (candidate)" in result.output
    assert "then Wed 03 Mar 2027 (candidate)" in result.output


def test_days_not_from_one_exit_2(workdir):
    (workdir / "team.toml").write_text(TWO_DAYS.replace("day = 2", "day = 3"))
    assert_clean_error(slots(workdir), "team.toml", "loops[0].sessions[1].day", "3")


def test_min_above_max_exit_2(workdir):
    text = TWO_DAYS.replace(
        'id = "screen"', 'id = "screen"\nmin_days_between = 3\nmax_days_between = 2'
    )
    (workdir / "team.toml").write_text(text)
    assert_clean_error(slots(workdir), "loops[0].max_days_between", "2")
