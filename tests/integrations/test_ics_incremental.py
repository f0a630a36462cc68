"""The incremental re-read (``ics.incremental``) against a full read of the new copy.

A calendar is read, some of its events are edited, removed or added (and
sometimes its header or zones change), and the new copy is read again with
the first read's state: busy intervals, counts, unknown TZIDs, warnings and
errors with their lines must be those of the full (reference) path.
"""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from integrations.budget import ReadBudget, Reader
from integrations.calendars.feed import FeedSnapshots, ICSFeedBackend
from integrations.errors import CalendarError
from integrations.ics.incremental import (
    MAX_GROUPS,
    GroupState,
    expand_changes,
    expand_changes_through,
)
from integrations.ics.limits import ExpansionRefused
from integrations.ics.window import expand_ics_bytes
from scheduler.model import Interval
from tests.integrations.ics_differential import Outcome
from tests.integrations.test_ics_differential import CORPUS, corpus_files, need_corpus
from tests.integrations.test_ics_differential_generated import (
    CUSTOM,
    EMAIL,
    READ_ZONES,
    series,
    windows,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_sync import NOW, make_feed  # noqa: E402

SPAN = Interval(datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 12, 1, tzinfo=UTC))


def full(
    data: bytes, span: Interval, window: Interval, timezone: str, email: str | None
) -> Outcome:
    try:
        expansion, notes = expand_ics_bytes(
            data, source="cal.ics", timezone=timezone, span=span, email=email, reader="full"
        )
    except CalendarError as exc:
        return Outcome(error=f"{type(exc).__name__}: {exc}", line=exc.line)
    read = expansion.read(window)
    return Outcome(read.busy, read.events_read, read.unknown_tzids, notes + read.warnings)


def incremental(
    data: bytes,
    span: Interval,
    window: Interval,
    timezone: str,
    email: str | None,
    previous: GroupState | None,
    reader: str = "fast",
) -> tuple[Outcome, GroupState | None, int]:
    """The outcome, the new state and how many groups were reused."""
    try:
        changes = expand_changes(
            data,
            previous,
            source="cal.ics",
            timezone=timezone,
            span=span,
            email=email,
            reader=reader,
        )
    except CalendarError as exc:
        return Outcome(error=f"{type(exc).__name__}: {exc}", line=exc.line), None, 0
    read = changes.expansion.read(window)
    found = Outcome(read.busy, read.events_read, read.unknown_tzids, changes.notes + read.warnings)
    return found, changes.state, changes.reused


def document(head: list[str], groups: list[list[str]], zones: str = "") -> bytes:
    body = "".join(f"{x}\r\n" for x in head) + zones
    for group in groups:
        body += "".join(group)
    return (body + "END:VCALENDAR\r\n").encode()


HEAD = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//generated//EN"]


# What makes the generated events warn (odd lines, an unknown TZID): a tidy calendar has
# none of it, so that its reads leave a state and the next read reuses groups.
_ODD = ("SUMMARY:again", "summary:lower", "DTSTAMP:2027", "NOCOLON", "TRIGGER:soon", "REPEAT:x")


def _tidy(group: list[str], tidy: bool) -> list[str]:
    if not tidy:
        return group
    found = []
    for block in group:
        lines = block.replace("Nowhere Standard Time", "Asia/Kathmandu").split("\r\n")
        found.append("\r\n".join(x for x in lines if x not in _ODD))
    return found


@st.composite
def edited_calendars(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A calendar and an edited copy: some groups replaced, removed, added, moved; now
    and then the zones or the header change, or the copy breaks."""
    n = draw(st.integers(1, 10))
    tidy = draw(st.booleans())
    groups = [_tidy(draw(series(f"e{i}@gen")), tidy) for i in range(n)]
    zones = CUSTOM if draw(st.booleans()) else ""
    before = document(HEAD, groups, zones)
    edited = list(groups)
    for i in draw(st.lists(st.integers(0, n - 1), max_size=3, unique=True)):
        edited[i] = _tidy(draw(series(f"e{i}@gen")), tidy)
    for i in sorted(draw(st.lists(st.integers(0, n - 1), max_size=2, unique=True)), reverse=True):
        if len(edited) > 1:
            del edited[i]
    for k in range(draw(st.integers(0, 2))):
        edited.insert(draw(st.integers(0, len(edited))), _tidy(draw(series(f"new{k}@gen")), tidy))
    if draw(st.integers(0, 5)) == 0:
        zones = CUSTOM if not zones else ""
    head = list(HEAD)
    if draw(st.integers(0, 6)) == 0:
        head.append("X-WR-TIMEZONE:America/Los_Angeles")
    after = document(head, edited, zones)
    if draw(st.integers(0, 8)) == 0:
        after = after.replace(b"END:VEVENT\r\n", b"", 1)  # truncated: an error with its line
    return before, after


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edited_calendars(),
    windows(),
    st.sampled_from(READ_ZONES),
    st.sampled_from([None, EMAIL]),
    st.sampled_from(["fast", "windowed"]),
)
def test_edited_calendars_read_as_a_full_read(
    pair: tuple[bytes, bytes], window: Interval, timezone: str, email: str | None, reader: str
) -> None:
    before, after = pair
    span = Interval(window.start - timedelta(days=3), window.end + timedelta(days=5))
    first, state, _ = incremental(before, span, window, timezone, email, None, reader)
    assert first == full(before, span, window, timezone, email)
    again, later, reused = incremental(after, span, window, timezone, email, state, reader)
    event("groups reused" if reused else "nothing reused")
    assert again == full(after, span, window, timezone, email)
    # and a third read, from the second's state, of the first copy
    back, _, _ = incremental(before, span, window, timezone, email, later, reader)
    assert back == first


def bench_feed(seed: int, events: int = 300) -> bytes:
    return make_feed(seed, events)


def test_one_changed_event_reads_one_group() -> None:
    data = bench_feed(1)
    span = Interval(NOW - timedelta(days=2), NOW + timedelta(days=111))
    first, state, reused = incremental(data, span, span, "Europe/London", None, None)
    assert state is not None and reused == 0 and len(state.groups) == 300
    moved = data.replace(b"SUMMARY:Meeting 1\r\n", b"SUMMARY:Moved\r\n")
    moved = moved.replace(
        b"UID:bench-1-3@panelslot\r\n", b"UID:bench-1-3@panelslot\r\nTRANSP:TRANSPARENT\r\n"
    )
    again, later, reused = incremental(moved, span, span, "Europe/London", None, state)
    assert reused == 298
    assert again == full(moved, span, span, "Europe/London", None)
    assert again.busy != first.busy  # the transparent one is gone
    assert later is not None and len(later.groups) == 300


def test_removed_and_added_groups() -> None:
    data = bench_feed(2)
    span = Interval(NOW - timedelta(days=2), NOW + timedelta(days=111))
    _, state, _ = incremental(data, span, span, "Asia/Kolkata", None, None)
    start = data.index(b"BEGIN:VEVENT")
    end = data.index(b"END:VEVENT\r\n", start) + len(b"END:VEVENT\r\n")
    block = data[start:end]
    changed = data.replace(block, b"") + b""
    changed = changed.replace(
        b"END:VCALENDAR", block.replace(b"UID:bench-2-0@", b"UID:added@") + b"END:VCALENDAR"
    )
    again, _, reused = incremental(changed, span, span, "Asia/Kolkata", None, state)
    assert reused == 299
    assert again == full(changed, span, span, "Asia/Kolkata", None)


def test_changed_zones_read_everything_again() -> None:
    groups = [
        [
            f"BEGIN:VEVENT\r\nUID:z{i}\r\nDTSTART;TZID=Custom Zone:20270310T0{i}0000\r\n"
            "DURATION:PT1H\r\nEND:VEVENT\r\n"
        ]
        for i in range(5)
    ]
    before = document(HEAD, groups, CUSTOM)
    after = document(HEAD, groups, CUSTOM.replace("+0330", "+0400"))
    _, state, _ = incremental(before, SPAN, SPAN, "Europe/Berlin", None, None)
    assert state is not None
    again, _, reused = incremental(after, SPAN, SPAN, "Europe/Berlin", None, state)
    assert reused == 0
    assert again == full(after, SPAN, SPAN, "Europe/Berlin", None)


def test_errors_keep_their_lines() -> None:
    data = bench_feed(3, 50)
    _, state, _ = incremental(data, SPAN, SPAN, "Europe/London", None, None)
    broken = data.replace(b"DTSTART:", b"DTSTART:2027-13-45", 1)
    got, _, _ = incremental(broken, SPAN, SPAN, "Europe/London", None, state)
    want = full(broken, SPAN, SPAN, "Europe/London", None)
    assert got.error is not None and got.line is not None
    assert got == want


def test_a_refusal_counts_the_unchanged_groups() -> None:
    """The limits see the whole calendar: rules of groups not read again count."""
    lines = [
        f"BEGIN:VEVENT\r\nUID:m{i}\r\nDTSTART:20270101T000000Z\r\nDURATION:PT1M\r\n"
        "RRULE:FREQ=MINUTELY;INTERVAL=7\r\nEND:VEVENT\r\n"
        for i in range(2)
    ]
    before = document(HEAD, [[lines[0]]])
    _, state, _ = incremental(before, SPAN, SPAN, "UTC", None, None)
    after = document(HEAD, [[lines[0]], [lines[1]]])
    got, _, _ = incremental(after, SPAN, SPAN, "UTC", None, state)
    assert got == full(after, SPAN, SPAN, "UTC", None)
    assert got.error is not None


def test_no_state_for_a_file_with_repairs() -> None:
    meeting = b"SUMMARY:Meeting 1\r\n"
    data = bench_feed(4, 20).replace(meeting, meeting + b"RRULE:\r\n")  # repaired, with a warning
    got, state, _ = incremental(data, SPAN, SPAN, "Europe/London", None, None)
    assert state is None and got.warnings
    assert got == full(data, SPAN, SPAN, "Europe/London", None)


def test_state_is_bounded() -> None:
    assert MAX_GROUPS == 20_000
    data = bench_feed(5, 200)
    _, state, _ = incremental(data, SPAN, SPAN, "Europe/London", None, None)
    assert state is not None and 0 < state.weight() < 200 * 2_000


def test_the_feed_backend_reads_changed_groups_only(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    data = bench_feed(6)
    path.write_bytes(data)
    snapshots = FeedSnapshots()
    window = Interval(NOW, NOW + timedelta(days=30))

    def read() -> tuple[ICSFeedBackend, Interval]:
        backend = ICSFeedBackend(path, timezone="Europe/London", snapshots=snapshots)
        return backend, backend.read_busy(window).busy  # type: ignore[return-value]

    backend, _ = read()
    assert backend.last_good is not None
    state = backend.last_good.groups[("Europe/London", None)]
    assert len(state.groups) == 300
    path.write_bytes(data.replace(b"SUMMARY:Meeting 2\r\n", b"SUMMARY:x\r\nTRANSP:TRANSPARENT\r\n"))
    backend, busy = read()
    assert backend.last_good is not None
    assert backend.last_good.groups[("Europe/London", None)].span == state.span
    reference = ICSFeedBackend(path, timezone="Europe/London").read_busy(window)
    assert busy == reference.busy


@pytest.mark.parametrize("name", corpus_files())
def test_corpus_files_with_an_edited_event(name: str) -> None:
    need_corpus()
    data = (CORPUS / name).read_bytes()
    rnd = random.Random(name)
    span = Interval(datetime(2000, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC))
    for zone in READ_ZONES[:2]:
        _, state, _ = incremental(data, span, span, zone, None, None)
        marks = [i for i in range(len(data)) if data.startswith(b"\nSUMMARY", i)]
        if marks:
            at = rnd.choice(marks) + 1
            newline = b"\r\n" if b"\r\n" in data else b"\n"
            edited = data[:at] + b"TRANSP:TRANSPARENT" + newline + data[at:]
        else:
            edited = data + b"\r\n"
        got, _, _ = incremental(edited, span, span, zone, None, state)
        assert got == full(edited, span, span, zone, None)


def test_the_snapshot_cache_counts_the_states(tmp_path: Path) -> None:
    """A copy's incremental state counts toward the cache's bound: it stays bounded."""
    paths = [tmp_path / f"c{n}.ics" for n in range(2)]
    for n, path in enumerate(paths):
        path.write_bytes(bench_feed(10 + n, 100))
    sizes = sum(p.stat().st_size for p in paths)
    window = Interval(NOW, NOW + timedelta(days=30))
    roomy, tight = FeedSnapshots(max_bytes=sizes * 10), FeedSnapshots(max_bytes=sizes + 100)
    for cache in (roomy, tight):
        for path in paths:
            ICSFeedBackend(path, timezone="UTC", snapshots=cache).read_busy(window)
    assert len(roomy) == 2
    assert len(tight) == 1  # the copies alone would fit; with their states they do not


def test_a_reread_through_the_budget_ships_only_the_changed_groups() -> None:
    """``expand_changes_through``: the parent cuts the file and keeps the state; the
    child reads the changed group with the context; the result is a full read's."""
    data = bench_feed(4)
    span = Interval(NOW - timedelta(days=2), NOW + timedelta(days=111))
    options = {"source": "cal.ics", "timezone": "Europe/London", "span": span, "email": None}
    reader = Reader(ReadBudget(seconds=60))
    first = expand_changes_through(reader, data, None, **options)
    assert first.state is not None and first.reused == 0
    moved = data.replace(
        b"UID:bench-4-3@panelslot\r\n", b"UID:bench-4-3@panelslot\r\nTRANSP:TRANSPARENT\r\n"
    )
    again = expand_changes_through(reader, moved, first.state, **options)
    assert (again.read, again.reused) == (1, 299)
    read = again.expansion.read(span)
    got = Outcome(read.busy, read.events_read, read.unknown_tzids, again.notes + read.warnings)
    assert got == full(moved, span, span, "Europe/London", None)
    assert again.state is not None and len(again.state.groups) == 300
    broken = moved.replace(b"DTSTART:", b"DTSTART:2027-13-45", 1)
    with pytest.raises(CalendarError) as caught:
        expand_changes_through(reader, broken, again.state, **options)
    assert caught.value.line == full(broken, span, span, "Europe/London", None).line


def test_a_reread_through_the_budget_keeps_the_refusal() -> None:
    """A changed group that adds a MINUTELY rule is refused by the child as a whole read is."""
    rule = (
        "BEGIN:VEVENT\r\nUID:m{}\r\nDTSTART:20270101T000000Z\r\nDURATION:PT1M\r\n"
        "RRULE:FREQ=MINUTELY;INTERVAL=30\r\nEND:VEVENT\r\n"
    )
    options = {"source": "cal.ics", "timezone": "UTC", "span": SPAN, "email": None}
    reader = Reader(ReadBudget(seconds=60))
    first = expand_changes_through(reader, document(HEAD, [[rule.format(0)]]), None, **options)
    assert first.state is not None  # about 16,000 instances: read
    after = document(HEAD, [[rule.format(0)], [rule.format(1)]])
    with pytest.raises(ExpansionRefused):
        expand_changes_through(reader, after, first.state, **options)
    assert full(after, SPAN, SPAN, "UTC", None).error is not None
