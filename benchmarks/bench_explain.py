"""Explanation benchmark: what ``scheduler.explain`` costs against one plain search (not a test).

    python benchmarks/bench_explain.py            # full table
    python benchmarks/bench_explain.py --quick    # fewer repeats

The standard problems of ``bench_engine.py`` (A: one all-of panel of 8 over 14 days;
B: 4 sessions, pools of 6 of 30, 10 working days) and infeasible variants of them
(the candidate's hours cut to an hour no pool fits). The explanation is always asked
for (a limit no search reaches), so every relaxation is searched and verified: the
worst case. Its cost is given as a multiple of the plain search (top 20).
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_engine import FIRST, NOW, problem_a, problem_b, timed  # noqa: E402

from scheduler.explain import Search, explain  # noqa: E402

ALWAYS = 10**9


def searches() -> list[tuple[str, Search]]:
    people, _raw, busy, loop = problem_a(random.Random(1))
    last = FIRST + timedelta(days=13)
    index = {p.id: p for p in people}
    a = Search(loop, index, busy, "Europe/London", FIRST, last, NOW, (0, 1440))
    people, busy, loop, last = problem_b(random.Random(7), 4, 6, 10)
    index = {p.id: p for p in people}
    b = Search(loop, index, busy, "Europe/London", FIRST, last, NOW, (6 * 60, 22 * 60))
    return [
        ("A  8 people/6 zones, 14 d, all-of", a),
        ("A  infeasible (candidate hours 03:00-04:00)", replace(a, candidate_hours=(180, 240))),
        ("B  4 sessions, pools of 6 of 30, 10 working days", b),
        ("B  infeasible (candidate hours 03:00-05:00)", replace(b, candidate_hours=(180, 300))),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    rows = []
    for label, search in searches():
        plain_ms, options = timed(lambda s=search: s.options(20), repeats)
        count_ms, count = timed(lambda s=search: s.count(), repeats)
        explain_ms, result = timed(lambda s=search, n=count: explain(s, ALWAYS, n), repeats)
        print(label, f"search {plain_ms:.1f} ms, explain {explain_ms:.1f} ms", flush=True)
        rows.append(
            (
                label,
                f"{plain_ms:.1f} ms",
                f"{count_ms:.1f} ms",
                f"{explain_ms:.1f} ms",
                f"x{explain_ms / plain_ms:.1f}",
                f"{len(options)} shown, {count} in all, {len(result.why)} why, "
                f"{len(result.suggestions)} suggestions",
            )
        )
    head = ("problem", "search", "--limit 0", "explain", "ratio", "note")
    width = max(len(r[0]) for r in rows)
    print(f"{head[0]:<{width}}  {head[1]:>10}  {head[2]:>10}  {head[3]:>10}  {head[4]:>6}  note")
    for name, plain, every, cost, ratio, note in rows:
        print(f"{name:<{width}}  {plain:>10}  {every:>10}  {cost:>10}  {ratio:>6}  {note}")


if __name__ == "__main__":
    main()
