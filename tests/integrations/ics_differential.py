"""Helpers of the differential tests: one read on every reader, compared."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from integrations.errors import CalendarError
from integrations.ics import READERS, read_ics_bytes
from scheduler.model import Interval

EVERYTHING = Interval(datetime(1990, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC))
# Interviewer zones at the ends of the offset range, with :30/:45 offsets and DST.
ZONES = ("Europe/Berlin", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu")


@dataclass(frozen=True)
class Outcome:
    """Everything a read shows: busy time and counts, or the error."""

    busy: tuple[Interval, ...] = ()
    events_read: int = 0
    unknown_tzids: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None  # the error class and its full text (source, line, message)
    line: int | None = None


def outcome(
    data: bytes, window: Interval, timezone: str, email: str | None, reader: str
) -> Outcome:
    try:
        read = read_ics_bytes(
            data, source="cal.ics", timezone=timezone, window=window, email=email, reader=reader
        )
    except CalendarError as exc:
        return Outcome(error=f"{type(exc).__name__}: {exc}", line=exc.line)
    return Outcome(read.busy, read.events_read, read.unknown_tzids, read.warnings)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def assert_same(data: bytes, window: Interval, timezone: str, email: str | None = None) -> Outcome:
    """Every reader gives the reference's outcome; that outcome is returned.

    A windowed reader that failed and let the full path answer would still
    agree; it logs a warning, so a failure of the fast path fails here too.
    """
    reference = outcome(data, window, timezone, email, "full")
    records = _Records()
    logger = logging.getLogger("integrations.ics.window")
    logger.addHandler(records)
    try:
        for reader in READERS:
            if reader != "full":
                got = outcome(data, window, timezone, email, reader)
                assert got == reference, f"reader {reader!r} differs in {window} ({timezone})"
    finally:
        logger.removeHandler(records)
    assert records.messages == []
    return reference


def windows_around(busy: tuple[Interval, ...], limit: int = 4) -> list[Interval]:
    """Windows that cut through a calendar's busy time: around some events, and
    with edges exactly on event edges (where "touches the window" is decided)."""
    if not busy:
        return []
    picks = [busy[i * (len(busy) - 1) // max(1, limit - 1)] for i in range(limit)]
    found = []
    for iv in dict.fromkeys(picks):
        found.append(Interval(iv.start - timedelta(days=3), iv.start + timedelta(days=4)))
        found.append(Interval(iv.end, iv.end + timedelta(days=7)))
        found.append(Interval(iv.start - timedelta(days=7), iv.start))
    return found
