"""`panelslot slots` / `busy` start without the web app's modules (lazy commands), and
every command is still there."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tests.subproc import run_python
from web.cli import LAZY, main

PROBE = """
import sys
from web.cli import main
try:
    main(["slots", "--help"])
except SystemExit:
    pass
heavy = [m for m in ("alembic", "sqlalchemy", "flask", "requests") if m in sys.modules]
print("heavy:", ",".join(heavy))
"""


def test_slots_starts_without_web_modules() -> None:
    done = run_python("-c", PROBE, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == "heavy: "


def test_every_command_is_listed_and_runs() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in [*LAZY, "slots", "busy"]:
        assert f"  {name} " in result.output or f"  {name}\n" in result.output
    assert CliRunner().invoke(main, ["db", "--help"]).exit_code == 0
    assert CliRunner().invoke(main, ["sync", "--help"]).exit_code == 0


def test_python_m_web_cli() -> None:
    done = run_python("-m", "web.cli", "--help", timeout=120)
    assert done.returncode == 0 and "slots" in done.stdout


HOOK = """
import atexit, runpy, sys
def report():
    libs = [m for m in ("icalendar", "recurring_ical_events", "dateutil") if m in sys.modules]
    print("calendar libraries:", ",".join(libs), file=sys.stderr)
atexit.register(report)
sys.argv = ["web.cli", *sys.argv[1:]]
runpy.run_module("web.cli", run_name="__main__", alter_sys=True)
"""

CONFIG = """[scheduling]
granularity_minutes = 60
min_notice_hours = 0

[[interviewers]]
id = "p0"
email = "p0@example.com"
timezone = "Europe/Berlin"
calendars = ["{calendar}"]
[interviewers.working_hours]
mon = ["09:00-12:00"]

[[loops]]
id = "panel"
[[loops.sessions]]
name = "Panel"
duration_minutes = 60
interviewers = ["p0"]
"""


def test_slots_parent_never_imports_the_calendar_libraries(tmp_path: Path) -> None:
    """The readers' children parse the calendar; the CLI process only unpickles the
    results, so icalendar, recurring-ical-events and dateutil stay out of it."""
    calendar = Path(__file__).parents[1] / "calendars" / "recurring_weekly_with_exdate.ics"
    config = tmp_path / "panel.toml"
    config.write_text(CONFIG.format(calendar=calendar))
    args = ["slots", str(config), "--loop", "panel", "--from", "2027-03-01", "--to", "2027-03-01"]
    args += ["--candidate-tz", "Europe/Berlin", "--candidate-hours", "00:00-24:00"]
    args += ["--now", "2027-02-01T00:00:00+00:00", "--limit", "0", "--json"]
    done = run_python("-c", HOOK, *args, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    starts = [s["sessions"][0]["start"] for s in json.loads(done.stdout)["options"]]
    # Monday 1 March: 10:00-11:00 Berlin (09:00 UTC) is the weekly event, read by a child
    assert "2027-03-01T09:00:00Z" not in starts and "2027-03-01T10:00:00Z" in starts
    assert done.stderr.splitlines()[-1] == "calendar libraries: "
