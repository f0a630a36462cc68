"""``benchmarks/bench_sync.py --quick`` runs end to end (a smoke test; no timing is asserted)."""

from __future__ import annotations

from tests.subproc import ROOT, run_python


def test_bench_sync_quick_runs() -> None:
    done = run_python(str(ROOT / "benchmarks" / "bench_sync.py"), "--quick", timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    steps = [row.split("|")[1].strip() for row in rows[1:]]
    assert steps == [
        "full sync (empty database)",
        "no-change resync (ETag -> 304)",
        "no-change resync, fresh process",
        "one event changed in every feed",
        "same, read whole (reference)",
    ]
    assert "4 of 4" in rows[2] and "0 of 4" in rows[4]  # 304s, then re-reads
    assert "x the wall time" in done.stdout
