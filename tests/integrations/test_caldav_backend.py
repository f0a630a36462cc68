"""CalDAVBackend against a real Radicale server on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import caldav
import icalendar
import pytest

from integrations.calendars.base import InterviewEvent
from integrations.calendars.caldav_backend import CalDAVBackend, interview_to_ical
from integrations.errors import CalendarError, ReconnectRequired
from scheduler.model import Interval
from tests.integrations.radicale_server import RadicaleServer, start_radicale

WEEK = Interval(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 8, tzinfo=UTC))
PASSWORD = "s3cret-Pa55word"

RECURRING = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:STANDARD
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:standup
DTSTAMP:20270101T000000Z
DTSTART;TZID=Europe/Berlin:20270301T100000
DTEND;TZID=Europe/Berlin:20270301T103000
RRULE:FREQ=DAILY
EXDATE;TZID=Europe/Berlin:20270303T100000
SUMMARY:Standup
END:VEVENT
BEGIN:VEVENT
UID:standup
DTSTAMP:20270101T000000Z
RECURRENCE-ID;TZID=Europe/Berlin:20270304T100000
DTSTART;TZID=Europe/Berlin:20270304T150000
DTEND;TZID=Europe/Berlin:20270304T160000
SUMMARY:Standup (moved)
END:VEVENT
END:VCALENDAR
"""


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def vevent(uid: str, start: str, end: str, *extra: str) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//test//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20270101T000000Z",
        f"DTSTART{start}",
        f"DTEND{end}",
        "SUMMARY:Busy",
        *extra,
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines).encode()


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    server = start_radicale(tmp_path_factory.mktemp("radicale"))
    yield server
    server.stop()


@pytest.fixture
def user() -> str:
    return f"u{uuid.uuid4().hex[:10]}"


@pytest.fixture
def client(radicale: RadicaleServer, user: str) -> caldav.DAVClient:
    return caldav.DAVClient(url=radicale.url, username=user, password="any", auth_type="basic")


def make_calendar(client: caldav.DAVClient, name: str) -> caldav.Calendar:
    return client.principal().make_calendar(name=name, cal_id=name)


def backend_for(radicale: RadicaleServer, user: str, **kwargs: object) -> CalDAVBackend:
    return CalDAVBackend(radicale.url, user, "any", **kwargs)  # type: ignore[arg-type]


def interview(uid: str, start: datetime, end: datetime, sequence: int = 0) -> InterviewEvent:
    return InterviewEvent(
        uid=uid,
        summary="Interview: Coding",
        start=start,
        end=end,
        organizer_email="coordinator@example.com",
        attendees=("alice@example.com", "bob@example.com"),
        description="Panel",
        sequence=sequence,
    )


def test_discovers_every_calendar_from_the_principal(
    radicale: RadicaleServer, user: str, client: caldav.DAVClient
) -> None:
    work, home = make_calendar(client, "work"), make_calendar(client, "home")
    work.add_event(ical=vevent("w", ":20270302T090000Z", ":20270302T100000Z").decode())
    home.add_event(ical=vevent("h", ":20270303T090000Z", ":20270303T100000Z").decode())

    backend = backend_for(radicale, user)
    names = sorted(info.name for info in backend.discover_calendars())
    assert names == ["home", "work"]
    read = backend.read_busy(WEEK)
    assert sorted(read.busy) == [
        Interval(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)),
        Interval(utc(2027, 3, 3, 9), utc(2027, 3, 3, 10)),
    ]
    assert read.events_read == 2

    only_work = backend_for(radicale, user, calendar_urls=[str(work.url)])
    assert only_work.read_busy(WEEK).busy == (Interval(utc(2027, 3, 2, 9), utc(2027, 3, 2, 10)),)


@pytest.mark.parametrize("mode", ["server", "client", "auto"])
def test_recurrence_expanded_with_exdate_and_override(
    radicale: RadicaleServer, user: str, client: caldav.DAVClient, mode: str
) -> None:
    cal = make_calendar(client, "work")
    cal.add_event(ical=RECURRING.decode())
    backend = backend_for(radicale, user, expand=mode)

    read = backend.read_busy(WEEK)

    expected = [Interval(utc(2027, 3, d, 9), utc(2027, 3, d, 9, 30)) for d in (1, 2, 5, 6, 7)]
    expected.append(Interval(utc(2027, 3, 4, 14), utc(2027, 3, 4, 15)))  # the moved one
    assert sorted(read.busy) == sorted(expected)
    used = backend.last_expansion[str(cal.url)]
    assert used == ("server" if mode == "auto" else mode)  # Radicale expands on the server


def test_auto_falls_back_to_client_expansion_when_the_server_fails(
    radicale: RadicaleServer, user: str, client: caldav.DAVClient
) -> None:
    # Radicale answers 500 when asked to expand a recurring event in floating time
    cal = make_calendar(client, "work")
    cal.add_event(
        ical=vevent(
            "floating", ":20270302T090000", ":20270302T100000", "RRULE:FREQ=DAILY;COUNT=2"
        ).decode()
    )
    with pytest.raises(CalendarError, match="HTTP 500") as caught:
        backend_for(radicale, user, expand="server").read_busy(WEEK)
    assert "\n" not in str(caught.value)

    backend = backend_for(radicale, user, timezone="America/New_York")
    read = backend.read_busy(WEEK)
    # floating times are read in the interviewer's zone: 09:00 EST = 14:00Z
    assert read.busy == (
        Interval(utc(2027, 3, 2, 14), utc(2027, 3, 2, 15)),
        Interval(utc(2027, 3, 3, 14), utc(2027, 3, 3, 15)),
    )
    assert backend.last_expansion[str(cal.url)] == "client"


def test_principal_url_works_as_the_account_url(
    radicale: RadicaleServer, user: str, client: caldav.DAVClient
) -> None:
    cal = make_calendar(client, "work")
    cal.add_event(ical=vevent("w", ":20270302T090000Z", ":20270302T100000Z").decode())
    backend = CalDAVBackend(f"{radicale.url}{user}/", user, "any")
    assert [info.url for info in backend.discover_calendars()] == [str(cal.url)]
    assert len(backend.read_busy(WEEK).busy) == 1


def test_declined_and_all_day_follow_the_busy_rules(
    radicale: RadicaleServer, user: str, client: caldav.DAVClient
) -> None:
    cal = make_calendar(client, "work")
    cal.add_event(
        ical=vevent(
            "declined",
            ":20270302T090000Z",
            ":20270302T100000Z",
            "ATTENDEE;PARTSTAT=DECLINED:mailto:me@example.com",
        ).decode()
    )
    cal.add_event(ical=vevent("allday", ";VALUE=DATE:20270303", ";VALUE=DATE:20270304").decode())
    backend = backend_for(radicale, user, timezone="Asia/Tokyo", email="me@example.com")
    # the all-day event is a whole day in Tokyo: 2027-03-02 15:00Z .. 2027-03-03 15:00Z
    assert backend.read_busy(WEEK).busy == (Interval(utc(2027, 3, 2, 15), utc(2027, 3, 3, 15)),)


def test_write_puts_a_complete_vevent(
    radicale: RadicaleServer, user: str, client: caldav.DAVClient
) -> None:
    cal = make_calendar(client, "work")
    stamp = utc(2027, 2, 1, 12)
    backend = backend_for(radicale, user, clock=lambda: stamp)
    event_id = backend.write_event(
        interview("int-7@panelslot", utc(2027, 3, 3, 15), utc(2027, 3, 3, 16))
    )

    assert event_id.startswith(str(cal.url))
    stored = icalendar.Calendar.from_ical(cal.event_by_url(event_id).load().data)
    (ev,) = stored.walk("VEVENT")
    assert str(ev["UID"]) == "int-7@panelslot"
    assert ev.decoded("DTSTART") == utc(2027, 3, 3, 15)
    assert ev.decoded("DTEND") == utc(2027, 3, 3, 16)
    assert ev.decoded("DTSTAMP") == stamp
    assert str(ev["ORGANIZER"]) == "mailto:coordinator@example.com"
    assert [str(a) for a in ev["ATTENDEE"]] == [
        "mailto:alice@example.com",
        "mailto:bob@example.com",
    ]
    assert int(ev["SEQUENCE"]) == 0
    assert str(ev["SUMMARY"]) == "Interview: Coding"

    backend.update_event(
        event_id, interview("int-7@panelslot", utc(2027, 3, 4, 9), utc(2027, 3, 4, 10), sequence=1)
    )
    (moved,) = icalendar.Calendar.from_ical(cal.event_by_url(event_id).load().data).walk("VEVENT")
    assert moved.decoded("DTSTART") == utc(2027, 3, 4, 9) and int(moved["SEQUENCE"]) == 1
    assert backend.read_busy(WEEK).busy == (Interval(utc(2027, 3, 4, 9), utc(2027, 3, 4, 10)),)

    backend.cancel_event(event_id)
    backend.cancel_event(event_id)
    assert backend.read_busy(WEEK).busy == ()


def test_writes_go_to_the_chosen_calendar(
    radicale: RadicaleServer, user: str, client: caldav.DAVClient
) -> None:
    make_calendar(client, "work")
    interviews = make_calendar(client, "interviews")
    backend = backend_for(radicale, user, write_calendar_url=str(interviews.url))
    event_id = backend.write_event(interview("i1", utc(2027, 3, 3, 15), utc(2027, 3, 3, 16)))
    assert event_id.startswith(str(interviews.url))
    assert len(interviews.search(event=True)) == 1


def test_event_id_on_another_server_is_refused(
    radicale: RadicaleServer, user: str, client: caldav.DAVClient
) -> None:
    make_calendar(client, "work")
    backend = backend_for(radicale, user)
    with pytest.raises(CalendarError, match="another server"):
        backend.cancel_event("http://evil.example.com/x.ics")


def test_interview_to_ical_needs_aware_times() -> None:
    naive = InterviewEvent("u", "s", datetime(2027, 3, 3, 15), datetime(2027, 3, 3, 16), "o@x")
    with pytest.raises(ValueError, match="aware"):
        interview_to_ical(naive, now=utc(2027, 1, 1))


# -- faults -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    server = start_radicale(tmp_path_factory.mktemp("guarded"), users={"dana": PASSWORD})
    yield server
    server.stop()


def test_auth_failure_asks_to_reconnect_without_leaking_the_password(
    guarded: RadicaleServer,
) -> None:
    wrong = "not-the-Pa55word"
    backend = CalDAVBackend(guarded.url, "dana", wrong)
    with pytest.raises(ReconnectRequired, match=r"refused the username or password") as caught:
        backend.read_busy(WEEK)
    message = str(caught.value)
    assert wrong not in message and PASSWORD not in message
    assert caught.value.source == guarded.url
    assert "\n" not in message

    ok = CalDAVBackend(guarded.url, "dana", PASSWORD)
    ok.discover_calendars()  # the right password works (no calendars yet)
    assert ok.read_busy(WEEK).busy == ()


def test_credentials_in_the_url_are_redacted(guarded: RadicaleServer) -> None:
    url = guarded.url.replace("http://", f"http://dana:{PASSWORD}@")
    backend = CalDAVBackend(url, "dana", "wrong-one")
    assert PASSWORD not in backend.source
    with pytest.raises(ReconnectRequired) as caught:
        backend.read_busy(WEEK)
    assert PASSWORD not in str(caught.value) and "wrong-one" not in str(caught.value)


def test_unreachable_server_is_a_calendar_error(refused_port: int) -> None:
    url = f"http://127.0.0.1:{refused_port}/"
    backend = CalDAVBackend(url, "x", PASSWORD, timeout_seconds=2)
    with pytest.raises(CalendarError, match="could not reach the CalDAV server") as caught:
        backend.read_busy(WEEK)
    assert not isinstance(caught.value, ReconnectRequired)
    assert PASSWORD not in str(caught.value)


def test_missing_calendar_url_is_a_calendar_error(
    radicale: RadicaleServer, user: str, client: caldav.DAVClient
) -> None:
    make_calendar(client, "work")
    backend = backend_for(radicale, user, calendar_urls=[f"{radicale.url}{user}/nope/"])
    with pytest.raises(CalendarError, match="nope"):
        backend.read_busy(WEEK)
