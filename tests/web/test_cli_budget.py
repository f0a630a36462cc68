"""`panelslot busy` and `slots` read calendars under --read-seconds / --read-memory-mb."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tests.integrations.test_budget import many_events
from web.cli import main


def test_a_calendar_over_the_memory_budget_is_one_line_and_exit_2(tmp_path: Path) -> None:
    big = tmp_path / "big.ics"
    big.write_bytes(many_events(70_000))
    args = ["busy", str(big), "--timezone", "UTC", "--from", "2026-03-02", "--to", "2026-03-15"]
    res = CliRunner().invoke(main, [*args, "--read-memory-mb", "100"])
    assert res.exit_code == 2
    assert "more than 100 MB of memory (the read budget)" in res.output
    assert "Traceback" not in res.output


def test_the_same_calendar_reads_within_a_larger_budget(tmp_path: Path) -> None:
    small = tmp_path / "small.ics"
    small.write_bytes(many_events(400))
    args = ["busy", str(small), "--timezone", "UTC", "--from", "2026-03-02", "--to", "2026-03-02"]
    res = CliRunner().invoke(main, [*args, "--json", "--read-seconds", "60"])
    assert res.exit_code == 0, res.output
    assert '"busy"' in res.output


def test_budget_flags_are_in_help() -> None:
    res = CliRunner().invoke(main, ["slots", "--help"])
    assert "--read-seconds" in res.output and "--read-memory-mb" in res.output
