"""What ``benchmarks/bench_engine.py`` measures the engine against.

The package itself is a frozen copy of the slot engine as it was before issue 9
(prepared busy time, integer hot path), kept only so that the benchmark can time
the new engine against it in the same run and assert that both return the same
options; ``bitmap.py`` is the numpy minute-bitmap solver of Panel A.

Never imported by the application or the tests; do not change it. It reads the
same value types as ``scheduler`` by attribute (``Loop``, ``Interviewer``,
``Interval``), and returns its own ``Option`` objects.
"""

from .engine import find_options

__all__ = ["find_options"]
