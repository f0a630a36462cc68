"""The fork server imports what a main script (run by path) imports, once: the readers it
forks then re-run the script as ``__mp_main__`` without importing its modules again."""

from __future__ import annotations

from pathlib import Path

from tests.subproc import run_python

SCRIPT = """
import sys
ALREADY = "email.mime.text" in sys.modules  # in a reader: imported by the fork server
from email.mime.text import MIMEText
from integrations.budget import Reader, ReadBudget, main_imports


def loaded() -> bool:
    return sys.modules["__mp_main__"].ALREADY


if __name__ == "__main__":
    print(main_imports())
    print(Reader(ReadBudget(seconds=60)).run("probe", sys.modules["__main__"].loaded))
"""


def test_main_script_imports_are_preloaded(tmp_path: Path) -> None:
    script = tmp_path / "main_script.py"
    script.write_text(SCRIPT)
    done = run_python(str(script), timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    names, answer = done.stdout.splitlines()
    assert "email.mime.text" in names and "integrations.budget" in names
    assert answer == "True"
