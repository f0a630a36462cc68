"""Reading .ics files and bytes into busy time."""

from __future__ import annotations

from pathlib import Path

from integrations.errors import CalendarError
from integrations.ics.busy import ICSRead, busy_from_calendar
from integrations.ics.parse import parse_calendar_with_warnings
from scheduler.model import Interval


def read_ics_file(
    path: str | Path,
    *,
    timezone: str,
    window: Interval,
    email: str | None = None,
) -> ICSRead:
    """Read an .ics file; every error names the file."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CalendarError(source, f"cannot read the file: {exc.strerror or exc}") from None
    cal, notes = parse_calendar_with_warnings(data, source)
    read = busy_from_calendar(cal, source=source, timezone=timezone, window=window, email=email)
    return ICSRead(
        busy=read.busy,
        events_read=read.events_read,
        unknown_tzids=read.unknown_tzids,
        warnings=notes + read.warnings,
    )
