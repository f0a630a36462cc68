"""GoogleCalendarBackend: the real google-api-python-client against the loopback emulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from google.oauth2.credentials import Credentials

from integrations.backoff import Backoff
from integrations.calendars.base import InterviewEvent
from integrations.calendars.google_backend import (
    GoogleCalendarBackend,
    GoogleOptions,
    chunk_ids,
    chunk_windows,
    google_event_id,
    sync_state_from_json,
    sync_state_to_json,
)
from integrations.errors import CalendarError, ReconnectRequired
from scheduler.model import Interval
from tests.integrations.google_emulator import GoogleEmulator

REFRESH = "refresh-secret-token"
WEEK = Interval(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 8, tzinfo=UTC))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def timed(start: datetime, end: datetime, **extra: object) -> dict[str, object]:
    return {
        "summary": "Busy",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": end.isoformat()},
        **extra,
    }


class RecordingSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def emulator() -> Iterator[GoogleEmulator]:
    with GoogleEmulator(page_size=3) as emu:
        emu.add_calendar("primary")
        emu.issue_refresh_token(REFRESH)
        yield emu


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


def make_backend(
    emu: GoogleEmulator, sleeps: RecordingSleep | None = None, **options: object
) -> GoogleCalendarBackend:
    creds = Credentials(
        token=None,
        refresh_token=REFRESH,
        token_uri=emu.token_uri,
        client_id="client-id",
        client_secret="client-secret",
    )
    opts = GoogleOptions(api_endpoint=emu.api_endpoint, **options)  # type: ignore[arg-type]
    backoff = Backoff(
        attempts=4, base_seconds=1.0, sleep=sleeps or RecordingSleep(), random=lambda: 0.5
    )
    return GoogleCalendarBackend(creds, opts, backoff=backoff)


def interview(uid: str, start: datetime, end: datetime) -> InterviewEvent:
    return InterviewEvent(
        uid=uid,
        summary="Interview: Systems design",
        start=start,
        end=end,
        organizer_email="coordinator@example.com",
        attendees=("alice@example.com", "bob@example.com"),
        description="Panel interview",
        sequence=2,
    )


# -- pure helpers ---------------------------------------------------------------------


def test_chunk_windows_respects_the_span() -> None:
    window = Interval(utc(2027, 1, 1), utc(2027, 1, 1) + timedelta(days=200))
    pieces = chunk_windows(window)
    assert [p.duration for p in pieces] == [timedelta(days=90), timedelta(days=90), timedelta(20)]
    assert pieces[0].start == window.start and pieces[-1].end == window.end
    assert all(a.end == b.start for a, b in zip(pieces, pieces[1:], strict=False))


def test_chunk_ids_at_most_fifty() -> None:
    ids = [f"c{i}" for i in range(120)]
    assert [len(c) for c in chunk_ids(ids)] == [50, 50, 20]


def test_backoff_delays_grow_exponentially_with_jitter() -> None:
    backoff = Backoff(attempts=6, base_seconds=1.0, max_seconds=10.0, random=lambda: 0.25)
    assert list(backoff.delays()) == [1.25, 2.25, 4.25, 8.25, 10.0]


# -- reading with freeBusy ----------------------------------------------------------


def test_freebusy_reads_busy_blocks(emulator: GoogleEmulator) -> None:
    emulator.add_event("primary", timed(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)))
    emulator.add_event(
        "primary", timed(utc(2027, 3, 2, 11), utc(2027, 3, 2, 12), transparency="transparent")
    )
    emulator.add_event("primary", timed(utc(2027, 4, 2, 9), utc(2027, 4, 2, 10)))
    read = make_backend(emulator).read_busy(WEEK)
    assert read.busy == (Interval(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)),)
    body = emulator.api_requests("POST", "freeBusy")[0].body
    assert body["items"] == [{"id": "primary"}]
    assert body["timeMin"] == "2027-03-01T00:00:00Z" and body["timeMax"] == "2027-03-08T00:00:00Z"


def test_freebusy_chunks_over_fifty_calendars_and_ninety_days(emulator: GoogleEmulator) -> None:
    ids = [f"room{i}@group.calendar.google.com" for i in range(120)]
    for cal_id in ids:
        emulator.add_calendar(cal_id)
    emulator.add_event(ids[77], timed(utc(2027, 5, 10, 9), utc(2027, 5, 10, 10)))
    emulator.add_event(ids[3], timed(utc(2027, 8, 1, 9), utc(2027, 8, 1, 10)))
    window = Interval(utc(2027, 3, 1), utc(2027, 3, 1) + timedelta(days=200))

    read = make_backend(emulator, calendar_ids=tuple(ids)).read_busy(window)

    assert read.busy == (
        Interval(utc(2027, 5, 10, 9), utc(2027, 5, 10, 10)),
        Interval(utc(2027, 8, 1, 9), utc(2027, 8, 1, 10)),
    )
    seen = emulator.api_requests("POST", "freeBusy")
    assert len(seen) == 9  # 3 windows x 3 calendar chunks, none refused by the emulator
    assert max(len(r.body["items"]) for r in seen) == 50
    asked = {item["id"] for r in seen for item in r.body["items"]}
    assert asked == set(ids)


def test_freebusy_unknown_calendar_names_it(emulator: GoogleEmulator) -> None:
    backend = make_backend(emulator, calendar_ids=("primary", "gone@example.com"))
    with pytest.raises(CalendarError, match=r"gone@example\.com.*notFound"):
        backend.read_busy(WEEK)


# -- reading with events.list + syncToken ------------------------------------------------


def live_ids(backend: GoogleCalendarBackend) -> set[str]:
    return set(backend.sync_state["primary"].events)


def test_sync_pages_then_incremental(emulator: GoogleEmulator) -> None:
    for day in range(1, 8):
        emulator.add_event("primary", timed(utc(2027, 3, day, 9), utc(2027, 3, day, 10)))
    backend = make_backend(emulator, mode="sync")

    assert backend.sync_events() == 7
    assert live_ids(backend) == {e["id"] for e in emulator.live_events("primary")}
    full = emulator.api_requests("GET", "/events")
    assert len(full) == 3  # page size 3: 3 + 3 + 1; the token comes on the last page only
    assert all("syncToken" not in r.args for r in full)

    assert backend.sync_events() == 0
    incremental = emulator.api_requests("GET", "/events")[3:]
    assert len(incremental) == 1
    assert "syncToken" in incremental[0].args
    assert not {"timeMin", "timeMax", "q", "orderBy"} & set(incremental[0].args)

    gone = emulator.live_events("primary")[0]["id"]
    emulator.delete_event("primary", gone)
    added = emulator.add_event("primary", timed(utc(2027, 3, 3, 15), utc(2027, 3, 3, 16)))
    assert backend.sync_events() == 2
    assert gone not in live_ids(backend) and added in live_ids(backend)
    assert len(live_ids(backend)) == 7


def test_sync_read_busy_reports_unchanged(emulator: GoogleEmulator) -> None:
    for day in range(1, 8):
        emulator.add_event("primary", timed(utc(2027, 3, day, 9), utc(2027, 3, day, 10)))
    backend = make_backend(emulator, mode="sync")
    first = backend.read_busy(WEEK)
    assert len(first.busy) == 7 and first.events_read == 7 and not first.unchanged
    again = backend.read_busy(WEEK)
    assert again.unchanged and again.events_read == 7 and again.busy == first.busy
    emulator.add_event("primary", timed(utc(2027, 3, 9, 9), utc(2027, 3, 9, 10)))
    third = backend.read_busy(WEEK)  # a change outside the window is still a change
    assert not third.unchanged and third.busy == first.busy


def test_first_sync_of_an_empty_calendar_is_not_unchanged(emulator: GoogleEmulator) -> None:
    backend = make_backend(emulator, mode="sync")
    assert not backend.read_busy(WEEK).unchanged
    assert backend.read_busy(WEEK).unchanged


def test_sync_unknown_calendar_names_it(emulator: GoogleEmulator) -> None:
    backend = make_backend(emulator, mode="sync", calendar_ids=("primary", "gone@example.com"))
    with pytest.raises(CalendarError, match=r"HTTP 404.*calendar gone@example\.com"):
        backend.read_busy(WEEK)


def test_sync_token_gone_410_wipes_and_resyncs(emulator: GoogleEmulator) -> None:
    old = emulator.add_event("primary", timed(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)))
    backend = make_backend(emulator, mode="sync")
    backend.sync_events()
    # the event vanishes in a way the old token would never report, then tokens expire
    emulator.calendars["primary"].events.clear()
    new = emulator.add_event("primary", timed(utc(2027, 3, 4, 9), utc(2027, 3, 4, 10)))
    emulator.invalidate_sync_tokens()

    assert backend.sync_events() == 1

    assert live_ids(backend) == {new} and old not in live_ids(backend)
    lists = emulator.api_requests("GET", "/events")
    assert "syncToken" in lists[1].args  # refused with 410
    assert "syncToken" not in lists[2].args  # full resync
    assert backend.sync_state["primary"].sync_token is not None
    assert backend.sync_events() == 0  # the new token works


def test_sync_expands_recurrence_and_honours_exceptions(emulator: GoogleEmulator) -> None:
    master = emulator.add_event(
        "primary",
        {
            "summary": "Standup",
            "iCalUID": "standup@example.com",
            "start": {"dateTime": "2027-03-01T10:00:00+01:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2027-03-01T10:15:00+01:00", "timeZone": "Europe/Berlin"},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=5"],
        },
    )
    emulator.add_event(
        "primary",
        {
            "id": f"{master}_20270303T090000Z",
            "iCalUID": "standup@example.com",
            "recurringEventId": master,
            "originalStartTime": {"dateTime": "2027-03-03T10:00:00+01:00"},
            "status": "cancelled",
        },
    )
    read = make_backend(emulator, mode="sync").read_busy(WEEK)
    assert read.busy == tuple(
        Interval(utc(2027, 3, d, 9), utc(2027, 3, d, 9, 15)) for d in (1, 2, 4, 5)
    )


def test_sync_state_survives_a_restart(emulator: GoogleEmulator) -> None:
    emulator.add_event("primary", timed(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)))
    first = make_backend(emulator, mode="sync")
    first.read_busy(WEEK)
    saved = sync_state_to_json(first.sync_state)

    creds = first.credentials
    second = GoogleCalendarBackend(
        creds,
        first.options,
        backoff=first.backoff,
        sync_state=sync_state_from_json(saved),
    )
    read = second.read_busy(WEEK)
    assert read.unchanged and read.busy == (Interval(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)),)
    assert "syncToken" in emulator.api_requests("GET", "/events")[-1].args
    assert sync_state_from_json("garbage") == {}


def test_sync_invitations_declined_by_the_account_are_free(emulator: GoogleEmulator) -> None:
    me = {"email": "me@example.com", "self": True, "responseStatus": "declined"}
    other = {"email": "x@example.com", "responseStatus": "accepted"}
    emulator.add_event(
        "primary", timed(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10), attendees=[me, other])
    )
    accepted = {**me, "responseStatus": "accepted"}
    emulator.add_event(
        "primary", timed(utc(2027, 3, 3, 9), utc(2027, 3, 3, 10), attendees=[accepted, other])
    )
    read = make_backend(emulator, mode="sync").read_busy(WEEK)
    assert read.busy == (Interval(utc(2027, 3, 3, 9), utc(2027, 3, 3, 10)),)


def test_sync_all_day_events_use_the_interviewer_zone(emulator: GoogleEmulator) -> None:
    emulator.add_event(
        "primary",
        {"summary": "Off", "start": {"date": "2027-03-03"}, "end": {"date": "2027-03-04"}},
    )
    read = make_backend(emulator, mode="sync", timezone="Asia/Tokyo").read_busy(WEEK)
    assert read.busy == (Interval(utc(2027, 3, 2, 15), utc(2027, 3, 3, 15)),)


# -- faults and backoff ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (429, "rateLimitExceeded"),
        (500, "backendError"),
        (503, "backendError"),
        (403, "rateLimitExceeded"),
        (403, "userRateLimitExceeded"),
    ],
)
def test_transient_errors_are_retried_with_backoff(
    emulator: GoogleEmulator, sleeps: RecordingSleep, status: int, reason: str
) -> None:
    emulator.add_event("primary", timed(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)))
    emulator.fail_next(status, times=2, reason=reason)
    read = make_backend(emulator, sleeps).read_busy(WEEK)
    assert read.busy == (Interval(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)),)
    assert sleeps.calls == [1.5, 2.5]
    assert len(emulator.api_requests("POST", "freeBusy")) == 3


def test_persistent_500_gives_calendar_error(
    emulator: GoogleEmulator, sleeps: RecordingSleep
) -> None:
    emulator.fail_next(500, times=100)
    with pytest.raises(CalendarError, match=r"HTTP 500.*after 4 attempts") as caught:
        make_backend(emulator, sleeps).read_busy(WEEK)
    assert not isinstance(caught.value, ReconnectRequired)
    assert len(emulator.api_requests("POST", "freeBusy")) == 4
    assert sleeps.calls == [1.5, 2.5, 4.5]


def test_403_forbidden_is_not_retried(emulator: GoogleEmulator, sleeps: RecordingSleep) -> None:
    emulator.fail_next(403, reason="forbidden")
    with pytest.raises(CalendarError, match="HTTP 403, forbidden"):
        make_backend(emulator, sleeps).read_busy(WEEK)
    assert sleeps.calls == []


def test_revoked_refresh_token_asks_to_reconnect(emulator: GoogleEmulator) -> None:
    emulator.revoke(REFRESH)
    with pytest.raises(ReconnectRequired, match="reconnect") as caught:
        make_backend(emulator).read_busy(WEEK)
    assert REFRESH not in str(caught.value)
    assert "client-secret" not in str(caught.value)
    assert emulator.api_requests() == []  # never reached the API


def test_revoked_while_running_asks_to_reconnect(emulator: GoogleEmulator) -> None:
    backend = make_backend(emulator)
    backend.read_busy(WEEK)  # token works
    emulator.revoke(REFRESH)  # access token rejected (401), refresh refused (invalid_grant)
    with pytest.raises(ReconnectRequired, match="reconnect"):
        backend.read_busy(WEEK)


def test_misconfigured_oauth_client_is_not_the_interviewers_problem(
    emulator: GoogleEmulator,
) -> None:
    emulator.fail_token_next(401, "invalid_client")
    with pytest.raises(CalendarError, match="administrator must check") as caught:
        make_backend(emulator).read_busy(WEEK)
    assert not isinstance(caught.value, ReconnectRequired)


def test_token_service_outage_is_temporary(emulator: GoogleEmulator) -> None:
    # google-auth retries the token request itself (about 3 s of real sleeping)
    emulator.fail_token_next(503, "temporarily_unavailable", times=10)
    with pytest.raises(CalendarError, match="token service failed") as caught:
        make_backend(emulator).read_busy(WEEK)
    assert not isinstance(caught.value, ReconnectRequired)


def test_401_without_refresh_failure_asks_to_reconnect(emulator: GoogleEmulator) -> None:
    emulator.fail_next(401, times=5)
    with pytest.raises(ReconnectRequired, match="refused the credentials"):
        make_backend(emulator).read_busy(WEEK)


def test_expired_access_token_is_refreshed(emulator: GoogleEmulator) -> None:
    backend = make_backend(emulator)
    backend.read_busy(WEEK)
    assert emulator.token_requests == 1
    emulator.revoke("nothing")  # drops issued access tokens; the refresh token still works
    backend.read_busy(WEEK)
    assert emulator.token_requests == 2
    assert backend.credentials.token is not None


# -- writing -------------------------------------------------------------------------------


def test_write_update_cancel(emulator: GoogleEmulator) -> None:
    backend = make_backend(emulator, send_updates="externalOnly")
    event_id = backend.write_event(
        interview("int-1@panelslot", utc(2027, 3, 3, 15), utc(2027, 3, 3, 16))
    )

    stored = emulator.event("primary", event_id)
    assert stored is not None
    assert stored["iCalUID"] == "int-1@panelslot"
    assert stored["start"]["dateTime"] == "2027-03-03T15:00:00Z"
    assert [a["email"] for a in stored["attendees"]] == ["alice@example.com", "bob@example.com"]
    insert = emulator.api_requests("POST", "/events")[0]
    assert insert.args["sendUpdates"] == "externalOnly"
    assert "conferenceData" not in stored
    assert backend.conference_link(event_id) is None

    backend.update_event(
        event_id, interview("int-1@panelslot", utc(2027, 3, 4, 9), utc(2027, 3, 4, 10))
    )
    moved = emulator.event("primary", event_id)
    assert moved is not None and moved["start"]["dateTime"] == "2027-03-04T09:00:00Z"
    assert moved["sequence"] == 1  # Google counts the sequence itself
    assert emulator.api_requests("PATCH")[0].args["sendUpdates"] == "externalOnly"

    backend.cancel_event(event_id)
    assert emulator.event("primary", event_id) is None
    backend.cancel_event(event_id)  # 410 Gone: already cancelled, fine
    backend.cancel_event("never-existed")  # 404: fine


def test_write_with_google_meet(emulator: GoogleEmulator) -> None:
    backend = make_backend(emulator, create_meet=True)
    event_id = backend.write_event(
        interview("int-2@panelslot", utc(2027, 3, 3, 15), utc(2027, 3, 3, 16))
    )
    insert = emulator.api_requests("POST", "/events")[0]
    assert insert.args["conferenceDataVersion"] == "1"
    request = insert.body["conferenceData"]["createRequest"]
    assert request["conferenceSolutionKey"] == {"type": "hangoutsMeet"}
    assert request["requestId"]
    link = backend.conference_link(event_id)
    assert link is not None and link.startswith("https://meet.google.test/")


def test_write_retries_429_then_succeeds(emulator: GoogleEmulator, sleeps: RecordingSleep) -> None:
    emulator.fail_next(429, times=1)
    backend = make_backend(emulator, sleeps)
    event_id = backend.write_event(
        interview("int-3@panelslot", utc(2027, 3, 3, 15), utc(2027, 3, 3, 16))
    )
    assert emulator.event("primary", event_id) is not None
    assert len(emulator.live_events("primary")) == 1
    assert sleeps.calls == [1.5]


def test_retried_insert_that_went_through_makes_no_duplicate(
    emulator: GoogleEmulator, sleeps: RecordingSleep
) -> None:
    emulator.fail_next(503, path_contains="/events", after_processing=True)
    backend = make_backend(emulator, sleeps)
    event_id = backend.write_event(
        interview("dup@panelslot", utc(2027, 3, 3, 15), utc(2027, 3, 3, 16))
    )
    assert [e["id"] for e in emulator.live_events("primary")] == [event_id]
    assert [r.method for r in emulator.api_requests()] == ["POST", "POST", "PATCH"]
    assert event_id == google_event_id("dup@panelslot")


def test_writing_a_cancelled_interview_again_restores_it(emulator: GoogleEmulator) -> None:
    backend = make_backend(emulator)
    first = backend.write_event(
        interview("again@panelslot", utc(2027, 3, 3, 15), utc(2027, 3, 3, 16))
    )
    backend.cancel_event(first)
    second = backend.write_event(
        interview("again@panelslot", utc(2027, 3, 4, 9), utc(2027, 3, 4, 10))
    )
    assert second == first
    (live,) = emulator.live_events("primary")
    assert live["start"]["dateTime"] == "2027-03-04T09:00:00Z" and live["status"] == "confirmed"


def test_event_ids_use_the_google_alphabet() -> None:
    event_id = google_event_id("session-1.booking-42@panelslot.example.com")
    assert set(event_id) <= set("0123456789abcdefghijklmnopqrstuv")
    assert 5 <= len(event_id) <= 1024
    assert google_event_id("a") != google_event_id("b")


def test_write_to_missing_calendar_is_a_clear_error(emulator: GoogleEmulator) -> None:
    backend = make_backend(emulator, write_calendar_id="nope@example.com")
    with pytest.raises(CalendarError, match=r"HTTP 404.*create the interview event"):
        backend.write_event(interview("x", utc(2027, 3, 3, 15), utc(2027, 3, 3, 16)))
