"""The layers hold: the import-linter contracts of pyproject.toml, and no clock in the engine."""

import shutil
import subprocess
import sys
from pathlib import Path

import scheduler

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept():
    """scheduler imports nothing of integrations/web; integrations nothing of web;
    the domain and the store nothing of the ui or flask (pyproject's [tool.importlinter]).

    Run as its own process: import-linter configures logging, which in-process would
    disable every logger the other tests rely on."""
    command = shutil.which("lint-imports")
    args = [command] if command else [sys.executable, "-m", "importlinter.cli"]
    done = subprocess.run(
        [*args, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_scheduler_reads_no_clock():
    package = Path(scheduler.__file__).parent
    for path in package.rglob("*.py"):
        text = path.read_text()
        assert "datetime.now(" not in text and "utcnow(" not in text and "time.time(" not in text
