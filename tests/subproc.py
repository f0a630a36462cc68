"""Run this checkout's Python code in a fresh interpreter (start-up, imports, main scripts)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_python(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python args...`` with this checkout first on the path; output as text."""
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
