"""read_responses: attendees' answers on written interview events, per backend.

Memory (the reference), CalDAV against a real Radicale (the interviewer's own client
changes PARTSTAT on the stored object, as Thunderbird or Apple Calendar do) and Google
through the real client library against the loopback emulator (``responseStatus``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import caldav
import icalendar
import pytest
from google.oauth2.credentials import Credentials

from integrations.backoff import Backoff
from integrations.calendars.base import AttendeeResponse, InterviewEvent
from integrations.calendars.caldav_backend import CalDAVBackend
from integrations.calendars.feed import ICSFeedBackend
from integrations.calendars.google_backend import (
    GoogleCalendarBackend,
    GoogleOptions,
    google_event_id,
)
from integrations.calendars.memory import MemoryCalendar
from integrations.errors import CalendarError, ReconnectRequired
from scheduler.model import Interval
from tests.integrations.google_emulator import GoogleEmulator
from tests.integrations.radicale_server import RadicaleServer, start_radicale

ALICE, BOB = "alice@example.com", "bob@example.com"
WEEK = Interval(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 8, tzinfo=UTC))
REFRESH = "refresh-secret-token"
ANSWERED = datetime(2027, 2, 20, 9, 30, tzinfo=UTC)


def interview(uid: str, sequence: int = 0, hour: int = 15) -> InterviewEvent:
    return InterviewEvent(
        uid=uid,
        summary="Interview: Systems design",
        start=datetime(2027, 3, 2, hour, tzinfo=UTC),
        end=datetime(2027, 3, 2, hour + 1, tzinfo=UTC),
        organizer_email="coordinator@example.com",
        attendees=(ALICE, BOB),
        sequence=sequence,
    )


def statuses(responses: list[AttendeeResponse]) -> dict[tuple[str, str], str]:
    return {(r.uid, r.attendee): r.partstat for r in responses}


# ---------------------------------------------------------------------------- memory


def test_memory_answers_and_a_new_request_asks_again() -> None:
    cal = MemoryCalendar("alice")
    event_id = cal.write_event(interview("u1@x"))
    cal.write_event(interview("u2@x"))
    assert statuses(cal.read_responses(["u1@x"])) == {
        ("u1@x", ALICE): "NEEDS-ACTION",
        ("u1@x", BOB): "NEEDS-ACTION",
    }
    cal.respond("u1@x", "Alice@Example.com", "declined", at=ANSWERED)
    (alice,) = [r for r in cal.read_responses(["u1@x", "gone@x"]) if r.attendee == ALICE]
    assert alice == AttendeeResponse("u1@x", 0, ALICE, "DECLINED", ANSWERED, "alice")
    cal.update_event(event_id, interview("u1@x", sequence=1, hour=16))  # rescheduled
    assert {r.partstat for r in cal.read_responses(["u1@x"])} == {"NEEDS-ACTION"}
    assert {r.sequence for r in cal.read_responses(["u1@x"])} == {1}
    with pytest.raises(CalendarError):
        cal.respond("u1@x", "mallory@example.com", "DECLINED")
    with pytest.raises(CalendarError):
        cal.respond("nope@x", ALICE, "DECLINED")


def test_a_read_only_feed_has_no_answers(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nEND:VCALENDAR\r\n")
    assert ICSFeedBackend(path, timezone="UTC").read_responses(["u1@x"]) == []
    assert MemoryCalendar().read_responses([]) == []


# ---------------------------------------------------------------------------- CalDAV


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    server = start_radicale(tmp_path_factory.mktemp("radicale-answers"))
    yield server
    server.stop()


@pytest.fixture
def user() -> str:
    return f"u{uuid.uuid4().hex[:10]}"


def answer_in_own_client(
    radicale: RadicaleServer, user: str, url: str, who: str, partstat: str
) -> None:
    """What the interviewer's calendar client does: rewrite the stored object."""
    client = caldav.DAVClient(url=radicale.url, username=user, password="any")
    stored = client.request(url, "GET")
    cal = icalendar.Calendar.from_ical(stored.raw)
    for vevent in cal.walk("VEVENT"):
        for prop in vevent.get("ATTENDEE", []):
            if str(prop).lower() == f"mailto:{who}":
                prop.params["PARTSTAT"] = partstat
        vevent.pop("DTSTAMP")
        vevent.add("dtstamp", ANSWERED)
    answer = client.put(url, cal.to_ical().decode(), {"Content-Type": "text/calendar"})
    assert answer.status in (201, 204), answer.status


def test_caldav_reads_partstat_on_the_written_object(radicale: RadicaleServer, user: str) -> None:
    caldav.DAVClient(url=radicale.url, username=user, password="any").principal().make_calendar(
        name="work", cal_id="work"
    )
    backend = CalDAVBackend(radicale.url, user, "any", write_calendar_url=f"/{user}/work/")
    event_id = backend.write_event(interview("caldav-1@panelslot.test", sequence=3))
    got = backend.read_responses(["caldav-1@panelslot.test", "never-written@x"])
    assert {(r.attendee, r.partstat, r.sequence) for r in got} == {
        (ALICE, "NEEDS-ACTION", 3),
        (BOB, "NEEDS-ACTION", 3),
    }
    assert "coordinator@example.com" not in {r.attendee for r in got}

    answer_in_own_client(radicale, user, event_id, ALICE, "DECLINED")
    (alice,) = [
        r for r in backend.read_responses(["caldav-1@panelslot.test"]) if r.attendee == ALICE
    ]
    assert (alice.partstat, alice.dtstamp, alice.sequence) == ("DECLINED", ANSWERED, 3)
    assert alice.source.startswith(radicale.url.rstrip("/"))

    backend.cancel_event(event_id)
    assert backend.read_responses(["caldav-1@panelslot.test"]) == []


def test_caldav_with_a_wrong_password_is_an_error(tmp_path_factory: pytest.TempPathFactory) -> None:
    server = start_radicale(tmp_path_factory.mktemp("radicale-auth"), users={"alice": "right"})
    try:
        backend = CalDAVBackend(server.url, "alice", "wrong", write_calendar_url="/alice/work/")
        with pytest.raises(ReconnectRequired) as caught:
            backend.read_responses(["x@y"])
        assert "wrong" not in str(caught.value)
    finally:
        server.stop()


# ---------------------------------------------------------------------------- Google


@pytest.fixture
def emulator() -> Iterator[GoogleEmulator]:
    with GoogleEmulator(page_size=3) as emu:
        emu.add_calendar("primary")
        emu.issue_refresh_token(REFRESH)
        yield emu


def google(emu: GoogleEmulator, **options: object) -> GoogleCalendarBackend:
    creds = Credentials(
        token=None,
        refresh_token=REFRESH,
        token_uri=emu.token_uri,
        client_id="client-id",
        client_secret="client-secret",
    )
    opts = GoogleOptions(api_endpoint=emu.api_endpoint, email=ALICE, **options)  # type: ignore[arg-type]
    backoff = Backoff(attempts=2, base_seconds=0.0, sleep=lambda _s: None, random=lambda: 0.5)
    return GoogleCalendarBackend(creds, opts, backoff=backoff)


def single_event_reads(emu: GoogleEmulator) -> int:
    return sum(1 for r in emu.api_requests("GET") if r.path.count("/") == 6)


def test_google_sync_mode_reads_answers_from_the_sync_without_more_requests(
    emulator: GoogleEmulator,
) -> None:
    backend = google(emulator, mode="sync")
    uid = "google-1@panelslot.test"
    backend.write_event(interview(uid))
    backend.read_busy(WEEK)
    assert statuses(backend.read_responses([uid])) == {
        (uid, ALICE): "NEEDS-ACTION",
        (uid, BOB): "NEEDS-ACTION",
    }
    emulator.respond("primary", google_event_id(uid), BOB, "declined", updated=ANSWERED)
    backend.read_busy(WEEK)  # the sync loop reads busy time first, by syncToken
    (bob,) = [r for r in backend.read_responses([uid]) if r.attendee == BOB]
    assert (bob.partstat, bob.dtstamp, bob.uid) == ("DECLINED", ANSWERED, uid)
    assert single_event_reads(emulator) == 0

    emulator.delete_event("primary", google_event_id(uid))
    backend.read_busy(WEEK)
    assert backend.read_responses([uid]) == []


def test_google_freebusy_mode_reads_each_event(emulator: GoogleEmulator) -> None:
    backend = google(emulator)
    uid, gone = "google-2@panelslot.test", "google-3@panelslot.test"
    backend.write_event(interview(uid))
    backend.write_event(interview(gone, hour=17))
    backend.cancel_event(google_event_id(gone))
    emulator.respond("primary", google_event_id(uid), ALICE, "tentative")
    emulator.respond("primary", google_event_id(uid), BOB, "accepted")
    got = backend.read_responses([uid, gone, "never-written@x"])
    assert statuses(got) == {(uid, ALICE): "TENTATIVE", (uid, BOB): "ACCEPTED"}
    assert single_event_reads(emulator) == 3


def test_google_leaves_the_organiser_out_and_survives_an_update(emulator: GoogleEmulator) -> None:
    backend = google(emulator)
    uid = "google-4@panelslot.test"
    event_id = backend.write_event(interview(uid))
    emulator.calendars["primary"].events[event_id].body["attendees"].append(
        {"email": "coordinator@example.com", "organizer": True, "responseStatus": "accepted"}
    )
    emulator.respond("primary", event_id, ALICE, "declined")
    backend.update_event(event_id, interview(uid, hour=16))
    got = statuses(backend.read_responses([uid]))
    assert got == {(uid, ALICE): "DECLINED", (uid, BOB): "NEEDS-ACTION"}
