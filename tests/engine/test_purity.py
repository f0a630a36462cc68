"""The layers hold: the import-linter contracts of pyproject.toml, and no clock in the engine."""

import os
from pathlib import Path

from importlinter.cli import lint_imports

import scheduler

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept(monkeypatch):
    """scheduler imports nothing of integrations/web; integrations nothing of web;
    the domain and the store nothing of the ui or flask (pyproject's [tool.importlinter])."""
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=os.fspath(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_scheduler_reads_no_clock():
    package = Path(scheduler.__file__).parent
    for path in package.rglob("*.py"):
        text = path.read_text()
        assert "datetime.now(" not in text and "utcnow(" not in text and "time.time(" not in text
