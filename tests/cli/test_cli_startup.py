"""`panelslot slots` / `busy` start without the web app's modules (lazy commands), and
every command is still there."""

from __future__ import annotations

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
