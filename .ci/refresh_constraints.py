#!/usr/bin/env python3
"""Print the CI constraints: the installed version of every distribution that
``.[test]`` pulls in, from ``pip freeze --exclude-editable``.

Refresh: ``python3 -m pip install -U -e '.[test]'``, run the tests, then
``python3 .ci/refresh_constraints.py > .ci/constraints.txt`` and commit the diff.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def wanted_roots() -> list[tuple[Requirement, set[str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + project["optional-dependencies"]["test"]
    return [(Requirement(line), {""}) for line in lines]


def closure() -> set[str]:
    """The names of the installed distributions the requirements reach."""
    todo = wanted_roots()
    seen: set[str] = set()
    while todo:
        req, extras = todo.pop()
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in extras):
            continue
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            needs = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            sys.exit(f"{req.name} is not installed: pip install -e '.[test]' first")
        todo.extend((Requirement(line), {"", *req.extras}) for line in needs)
    return seen


def main() -> None:
    names = closure()
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    print("# CI constraints: written by .ci/refresh_constraints.py; see README, Tests.")
    for line in sorted(frozen, key=str.lower):
        if "==" in line and canonicalize_name(line.split("==")[0]) in names:
            print(line)


if __name__ == "__main__":
    main()
