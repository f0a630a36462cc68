"""The naive `slots` the whole-process benchmark compares against (not used by panelslot).

What a short script would do for a one-session loop whose whole pool is required:
read the TOML with ``tomllib``, every calendar with ``naive_reader`` (icalendar +
recurring-ical-events over the whole file), and find the valid starts with the
brute-force checker (``tests/engine/bruteforce.py``, which tries every grid start
against every rule). Prints the starts as JSON, one per line.

    python benchmarks/naive_slots.py CONFIG LOOP FROM TO CANDIDATE_TZ NOW
"""

from __future__ import annotations

import sys
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from naive_reader import naive_busy  # noqa: E402

from scheduler import model  # noqa: E402
from tests.engine.bruteforce import valid_starts_single_all_of  # noqa: E402


def minutes(text: str) -> int:
    hours, mins = text.split(":")
    return int(hours) * 60 + int(mins)


def hours_of(table: dict[str, list[str]]) -> model.WorkingHours:
    ranges = {}
    for day, spans in table.items():
        ranges[model.WEEKDAYS.index(day)] = tuple(
            (minutes(a), minutes(b)) for a, b in (s.split("-") for s in spans)
        )
    return model.WorkingHours(ranges)


def main(config: str, loop_id: str, first: str, last: str, tz: str, now: str) -> None:
    folder = Path(config).parent
    data = tomllib.loads(Path(config).read_text())
    people = {
        p["id"]: model.Interviewer(
            p["id"], p["id"], p["email"], p["timezone"], hours_of(p["working_hours"])
        )
        for p in data["interviewers"]
    }
    spec = next(x for x in data["loops"] if x["id"] == loop_id)
    session = spec["sessions"][0]
    pool = tuple(session["interviewers"])
    settings = model.Settings(**data.get("scheduling", {}))
    loop = model.Loop(
        loop_id,
        loop_id,
        (model.SessionSpec(session["name"], session["duration_minutes"], pool, len(pool)),),
        settings=settings,
    )
    day_from, day_to = date.fromisoformat(first), date.fromisoformat(last)
    zone = ZoneInfo(tz)
    window = model.Interval(
        datetime.combine(day_from - timedelta(days=1), datetime.min.time(), zone).astimezone(UTC),
        datetime.combine(day_to + timedelta(days=2), datetime.min.time(), zone).astimezone(UTC),
    )
    busy = {}
    for p in data["interviewers"]:
        found = []
        for cal in p["calendars"]:
            found += naive_busy(folder / cal, p["timezone"], window)
        busy[p["id"]] = found
    starts = valid_starts_single_all_of(
        loop,
        people,
        busy,
        candidate_tz=tz,
        date_from=day_from,
        date_to=day_to,
        now=datetime.fromisoformat(now),
        candidate_hours=(0, 1440),
    )
    for start in sorted(starts):
        print(start.isoformat())


if __name__ == "__main__":
    main(*sys.argv[1:7])
