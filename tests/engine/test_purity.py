"""The engine is pure: it imports nothing from the outside world."""

import ast
from pathlib import Path

import scheduler

FORBIDDEN = ("web", "integrations", "flask", "requests", "google", "caldav", "sqlalchemy", "httpx")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_scheduler_imports_nothing_from_outside():
    package = Path(scheduler.__file__).parent
    offenders = {
        f"{path.name}: {name}"
        for path in package.rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN
    }
    assert offenders == set()


def test_scheduler_reads_no_clock():
    package = Path(scheduler.__file__).parent
    for path in package.rglob("*.py"):
        text = path.read_text()
        assert "datetime.now(" not in text and "utcnow(" not in text and "time.time(" not in text
