"""Reading .ics files and bytes into busy time (through ``window``'s reader switch)."""

from __future__ import annotations

from pathlib import Path

from integrations.budget import Reader, run_read
from integrations.errors import CalendarError
from integrations.ics.model import Expansion, ICSRead
from scheduler.model import Interval


def expand_bytes(
    data: bytes,
    *,
    source: str,
    timezone: str,
    span: Interval,
    email: str | None,
    reader: str | None,
) -> tuple[Expansion, tuple[str, ...]]:
    """``window.expand_ics_bytes``, imported where it runs (a reader's child): the
    process that only asks for the read and unpickles its ``Expansion`` does not import
    the calendar libraries."""
    from integrations.ics.window import expand_ics_bytes

    return expand_ics_bytes(
        data, source=source, timezone=timezone, span=span, email=email, reader=reader
    )


def read_ics_bytes(
    data: bytes,
    *,
    source: str,
    timezone: str,
    window: Interval,
    email: str | None = None,
    reader: str | None = None,
    budget: Reader | None = None,
) -> ICSRead:
    """Busy time of an ICS document in ``window``; errors name ``source``.

    ``reader`` is "fast" (default), "windowed" or "full" (the reference);
    ``$PANELSLOT_ICS_READER`` sets it when the argument is None. With
    ``budget``, the document is read in its child process, under its limits.
    """
    expansion, notes = run_read(
        budget,
        source,
        expand_bytes,
        data,
        source=source,
        timezone=timezone,
        span=window,
        email=email,
        reader=reader,
    )
    read = expansion.read(window)
    return ICSRead(
        busy=read.busy,
        events_read=read.events_read,
        unknown_tzids=read.unknown_tzids,
        warnings=notes + read.warnings,
    )


def read_ics_file(
    path: str | Path,
    *,
    timezone: str,
    window: Interval,
    email: str | None = None,
    reader: str | None = None,
    budget: Reader | None = None,
) -> ICSRead:
    """Read an .ics file; every error names the file (see ``read_ics_bytes``)."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CalendarError(source, f"cannot read the file: {exc.strerror or exc}") from None
    return read_ics_bytes(
        data,
        source=source,
        timezone=timezone,
        window=window,
        email=email,
        reader=reader,
        budget=budget,
    )
