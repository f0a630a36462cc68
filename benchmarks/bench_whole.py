"""Whole-process benchmark: `panelslot slots` on Panel A read from ICS files, against the
naive script (``naive_slots.py``: ``naive_reader`` + the brute-force checker), each run
as its own process, as a user runs them.

    python benchmarks/bench_whole.py            # 7 runs each, interleaved
    python benchmarks/bench_whole.py --runs 3

Panel A from files: the eight year-long calendars of ``bench_read.py`` (about 700
VEVENTs each, Google, Outlook and Apple styles), one 60-minute session with all eight
required, 15-minute grid, every valid start (``--limit 0``) over two weeks, working
hours all day so that busy time decides. Wall time of each process from start to exit
(start-up and imports included), and its CPU (user + system) with every process it
started (the benchmark is their subreaper, so panelslot's fork server and readers are
counted); the runs take turns so a change of the machine's load touches both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_read import write_files  # noqa: E402

FIRST, LAST, NOW = "2027-03-01", "2027-03-14", "2027-02-01T00:00:00+00:00"


def write_config(folder: Path) -> Path:
    files, _ = write_files(str(folder))
    lines = ["[scheduling]", "granularity_minutes = 15", "min_notice_hours = 24", ""]
    for n, (path, zone) in enumerate(files):
        lines += [
            "[[interviewers]]",
            f'id = "p{n}"',
            f'email = "p{n}@example.com"',
            f'timezone = "{zone}"',
            f'calendars = ["{path.name}"]',
            "[interviewers.working_hours]",
            *(f'{d} = ["00:00-24:00"]' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
            "",
        ]
    pool = ", ".join(f'"p{n}"' for n in range(len(files)))
    lines += [
        "[[loops]]",
        'id = "panel"',
        "[[loops.sessions]]",
        'name = "Panel"',
        "duration_minutes = 60",
        f"interviewers = [{pool}]",
        "",
    ]
    config = folder / "panel.toml"
    config.write_text("\n".join(lines))
    return config


def commands(config: Path) -> dict[str, list[str]]:
    return {
        "panelslot slots": [
            sys.executable, "-m", "web.cli", "slots", str(config), "--loop", "panel",
            "--from", FIRST, "--to", LAST, "--candidate-tz", "UTC",
            "--candidate-hours", "00:00-24:00", "--now", NOW, "--limit", "0", "--json",
        ],
        "naive script": [
            sys.executable, str(ROOT / "benchmarks" / "naive_slots.py"), str(config),
            "panel", FIRST, LAST, "UTC", NOW,
        ],
    }  # fmt: skip


def run_once(argv: list[str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, stdout) of one process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PANELSLOT_ICS_READER", None)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed: {err.decode()[-800:]}")
    reap_orphans()
    return wall, cpu_of_children(), out.decode()


def become_subreaper() -> None:
    """Orphans of the processes we start (panelslot's fork server and its readers)
    become our children, so that their CPU is counted when we reap them."""
    import ctypes

    pr_set_child_subreaper = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) != 0:
        raise SystemExit("prctl(PR_SET_CHILD_SUBREAPER) failed: CPU would be undercounted")


def reap_orphans() -> None:
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


_seen = [0.0]


def cpu_of_children() -> float:
    """CPU of the process just waited for (and its own children): the growth of ours."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    spent, _seen[0] = total - _seen[0], total
    return spent


def starts_of(name: str, out: str) -> set[str]:
    if name == "naive script":
        return set(out.split())
    found = json.loads(out)["options"]
    return {o["sessions"][0]["start"].replace("Z", "+00:00") for o in found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    become_subreaper()
    with tempfile.TemporaryDirectory() as tmp:
        argvs = commands(write_config(Path(tmp)))
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in argvs}
        outputs: dict[str, set[str]] = {}
        for _ in range(args.runs):
            for name, argv in argvs.items():
                wall, cpu, out = run_once(argv)
                times[name].append((wall, cpu))
                outputs[name] = starts_of(name, out)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, {args.runs} runs each")
    print("| process | cold wall | median wall | median CPU | starts |")
    print("|---|---|---|---|---|")
    for name, rows in times.items():
        walls, cpus = [w for w, _ in rows], [c for _, c in rows]
        print(
            f"| {name} | {walls[0]:.2f} s | {statistics.median(walls):.2f} s "
            f"| {statistics.median(cpus):.2f} s | {len(outputs[name])} |"
        )
    ours, naive = (statistics.median(w for w, _ in times[n]) for n in argvs)
    ours_cpu, naive_cpu = (statistics.median(c for _, c in times[n]) for n in argvs)
    same = outputs["panelslot slots"] == outputs["naive script"]
    print(
        f"ratio panelslot / naive: {ours / naive:.2f}x wall, {ours_cpu / naive_cpu:.2f}x CPU "
        f"(target <= 0.4x); same starts: {same}"
    )


if __name__ == "__main__":
    main()
