"""Calendar reads under a budget: a real child process, a real wall clock, a real RLIMIT_AS."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime, timedelta

import pytest

from integrations.budget import BudgetExceeded, ReadBudget, Reader, ReaderCrashed
from integrations.errors import CalendarError
from integrations.ics.window import expand_ics_bytes
from scheduler.model import Interval

SPAN = Interval(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC))


def many_events(count: int) -> bytes:
    """``count`` plain events over a year from 2026-01-01 (about 4% of them in ``SPAN``)."""
    start = datetime(2026, 1, 1, 7, tzinfo=UTC)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//panelslot tests//EN"]
    for n in range(count):
        a = start + timedelta(days=n % 365, minutes=(n // 365) * 5)
        lines += [
            "BEGIN:VEVENT",
            f"UID:e{n}@tests",
            f"DTSTAMP:{a:%Y%m%dT%H%M%SZ}",
            f"DTSTART:{a:%Y%m%dT%H%M%SZ}",
            f"DTEND:{a + timedelta(minutes=15):%Y%m%dT%H%M%SZ}",
            f"SUMMARY:meeting {n} with a longer summary line to take some room",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def _expand(reader: Reader, data: bytes) -> object:
    return reader.run(
        "feed.ics", expand_ics_bytes, data, source="feed.ics", timezone="UTC", span=SPAN
    )


def sleep_then(seconds: float, value: int) -> int:
    import time

    time.sleep(seconds)
    return value


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


@pytest.fixture
def reader() -> Reader:
    return Reader(ReadBudget(seconds=60, memory_mb=1024))


def test_a_read_in_the_child_equals_the_read_in_process(reader: Reader) -> None:
    data = many_events(300)
    inline = Reader(ReadBudget(isolated=False))
    assert _expand(reader, data) == _expand(inline, data)


def test_errors_cross_the_process_boundary_with_their_fields(reader: Reader) -> None:
    data = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n"
    with pytest.raises(CalendarError) as in_child:
        _expand(reader, data)
    with pytest.raises(CalendarError) as in_process:
        _expand(Reader(ReadBudget(isolated=False)), data)
    assert type(in_child.value) is type(in_process.value)
    assert str(in_child.value) == str(in_process.value)
    assert in_child.value.line == in_process.value.line and in_child.value.source == "feed.ics"


def test_a_read_over_its_memory_budget_is_refused(reader: Reader) -> None:
    small = Reader(ReadBudget(seconds=120, memory_mb=120))
    with pytest.raises(BudgetExceeded) as refused:
        _expand(small, many_events(70_000))
    assert refused.value.resource == "memory" and refused.value.limit == 120
    assert "120 MB of memory" in str(refused.value) and "last good copy is kept" in str(
        refused.value
    )


def test_a_read_over_its_time_budget_is_stopped() -> None:
    quick = Reader(ReadBudget(seconds=0.5, memory_mb=1024))
    with pytest.raises(BudgetExceeded) as refused:
        quick.run("slow", sleep_then, 30.0, 1)
    assert refused.value.resource == "time" and refused.value.source == "slow"


def test_the_same_reader_answers_again_after_a_refusal(reader: Reader) -> None:
    with pytest.raises(BudgetExceeded):
        reader.run_with(ReadBudget(seconds=0.3), "slow", sleep_then, 30.0, 1)
    assert reader.run("quick", sleep_then, 0.0, 7) == 7


def test_allocation_past_the_limit_is_a_memory_refusal(reader: Reader) -> None:
    assert reader.run("alloc", allocate, 10) == 10 * 1024 * 1024
    with pytest.raises(BudgetExceeded) as refused:
        reader.run_with(ReadBudget(memory_mb=300), "alloc", allocate, 2000)
    assert refused.value.resource == "memory"


def test_a_reader_that_dies_is_a_calendar_error(reader: Reader) -> None:
    with pytest.raises(ReaderCrashed) as crashed:
        reader.run("doomed", die)
    assert crashed.value.exitcode == -signal.SIGKILL and isinstance(crashed.value, CalendarError)


def test_shorter_keeps_memory_and_never_lengthens() -> None:
    budget = ReadBudget(seconds=30, memory_mb=512)
    assert budget.shorter(5) == ReadBudget(5, 512) and budget.shorter(60).seconds == 30
