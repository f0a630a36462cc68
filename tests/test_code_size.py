"""Size limits of the application code: no function over 60 lines, no module over 500.

A function's lines run from its ``def`` to its last line (docstring and comments
included, decorators not); a module's lines are its lines in the file. Checked with
``ast`` on ``scheduler/``, ``integrations/`` and ``web/`` (migrations excepted: each is
a frozen record of one schema change).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("scheduler", "integrations", "web")
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 500


def modules() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def long_functions(path: Path) -> list[str]:
    """``name (N lines)`` for every function in ``path`` over the limit."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                found.append(f"{node.name} at line {node.lineno} ({lines} lines)")
    return found


def test_the_packages_have_modules() -> None:
    names = {path.relative_to(ROOT).parts[0] for path in modules()}
    assert names == set(PACKAGES)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_size(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_function_size(path: Path) -> None:
    assert long_functions(path) == []


def test_the_checker_sees_a_long_function(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    sample = tmp_path / "sample.py"
    sample.write_text("class A:\n    def long(self):\n" + body.replace("    ", "        "))
    assert long_functions(sample) == [f"long at line 2 ({MAX_FUNCTION_LINES + 1} lines)"]
