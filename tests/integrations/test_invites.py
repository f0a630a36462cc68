"""iTIP objects for interviews: parsed back with icalendar and checked field by field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from integrations.calendars.base import InterviewEvent
from integrations.invites import (
    InviteError,
    Participant,
    SessionTime,
    build_invites,
    google_calendar_url,
    ics_download,
    invite_cancel,
    invite_request,
    loop_uid,
    session_from_event,
    session_uid,
)

KOLKATA = ZoneInfo("Asia/Kolkata")
LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DOMAIN = "panelslot.example.com"
ORG = Participant("recruiting@acme.example", "Acme Recruiting")
CANDIDATE = Participant("asha@mail.example", "Asha Rao")
ALICE = Participant("alice@acme.example", "Alice Smith")
BOB = Participant("bob@acme.example", "Bob, Jr.")


def sessions() -> list[SessionTime]:
    # 09:30 in Kolkata is 04:00 UTC; the second session starts 15 minutes after the first ends.
    first = datetime(2026, 12, 1, 9, 30, tzinfo=KOLKATA)
    return [
        SessionTime(
            session_uid(7, 0, DOMAIN), "Coding", first, first + timedelta(minutes=45), (ALICE,)
        ),
        SessionTime(
            session_uid(7, 1, DOMAIN),
            "System design",
            first + timedelta(hours=1),
            first + timedelta(hours=2),
            (BOB,),
        ),
    ]


def parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def events(cal: Calendar) -> list:
    return list(cal.walk("VEVENT"))


def attendees(event) -> dict[str, dict[str, str]]:
    raw = event.get("attendee")
    items = raw if isinstance(raw, list) else [raw]
    return {str(a).removeprefix("mailto:"): dict(a.params) for a in items}


def test_session_uids_are_stable_distinct_and_domain_scoped():
    assert session_uid(7, 0, DOMAIN) == session_uid("7", 0, DOMAIN)
    uids = {session_uid(7, i, DOMAIN) for i in range(4)} | {loop_uid(7, DOMAIN)}
    assert len(uids) == 5
    assert all(u.endswith("@" + DOMAIN) for u in uids)
    assert session_uid(7, 0, DOMAIN) != session_uid(8, 0, DOMAIN)


@pytest.mark.parametrize(
    ("booking", "index", "domain", "field"),
    [
        ("", 0, DOMAIN, "booking_id"),
        ("a b", 0, DOMAIN, "booking_id"),
        (1, -1, DOMAIN, "session_index"),
        (1, 0, "", "domain"),
        (1, 0, "x@y", "domain"),
    ],
)
def test_session_uid_rejects_bad_parts(booking, index, domain, field):
    with pytest.raises(InviteError) as info:
        session_uid(booking, index, domain)
    assert info.value.field == field


def test_request_for_one_session_is_a_complete_itip_request():
    s = sessions()[0]
    data = invite_request(
        [s],
        organizer=ORG,
        attendees=[CANDIDATE],
        sequence=0,
        now=NOW,
        summary="Interview with Acme",
        description="Bring your questions.",
        video_url="https://meet.example/abc-defg",
    )
    assert b"\r\n" in data and b"DTSTART:20261201T040000Z" in data
    cal = parse(data)
    assert cal["METHOD"] == "REQUEST"
    assert cal["VERSION"] == "2.0"
    assert "PRODID" in cal
    [event] = events(cal)
    assert str(event["UID"]) == session_uid(7, 0, DOMAIN)
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 12, 1, 4, 45, tzinfo=UTC)
    assert event.decoded("DTSTAMP") == NOW
    assert event["STATUS"] == "CONFIRMED"
    assert str(event["ORGANIZER"]) == "mailto:recruiting@acme.example"
    assert event["ORGANIZER"].params["CN"] == "Acme Recruiting"
    people = attendees(event)
    assert set(people) == {"asha@mail.example", "alice@acme.example"}
    for params in people.values():
        assert params["RSVP"] == "TRUE"
        assert params["PARTSTAT"] == "NEEDS-ACTION"
        assert params["ROLE"] == "REQ-PARTICIPANT"
    assert people["asha@mail.example"]["CN"] == "Asha Rao"
    assert str(event["LOCATION"]) == "https://meet.example/abc-defg"
    assert str(event["URL"]) == "https://meet.example/abc-defg"
    description = str(event["DESCRIPTION"])
    assert "Bring your questions." in description and "https://meet.example/abc-defg" in description


def test_times_are_written_in_utc_whatever_zone_they_come_in():
    la_start = datetime(2026, 12, 1, 9, 0, tzinfo=LA)  # 17:00 UTC in winter
    s = SessionTime("u1@x.example", "Chat", la_start, la_start + timedelta(minutes=30))
    data = invite_request(
        [s], organizer=ORG, attendees=[CANDIDATE], sequence=0, now=NOW, summary="S"
    )
    assert b"DTSTART:20261201T170000Z" in data
    assert b"DTEND:20261201T173000Z" in data
    assert b"VTIMEZONE" not in data and b"TZID" not in data


def test_reschedule_keeps_uid_and_raises_sequence():
    s = sessions()[0]
    moved = SessionTime(
        s.uid, s.name, s.start + timedelta(days=1), s.end + timedelta(days=1), s.attendees
    )
    first = events(
        parse(
            invite_request(
                [s], organizer=ORG, attendees=[CANDIDATE], sequence=0, now=NOW, summary="I"
            )
        )
    )[0]
    second = events(
        parse(
            invite_request(
                [moved], organizer=ORG, attendees=[CANDIDATE], sequence=1, now=NOW, summary="I"
            )
        )
    )[0]
    assert second["UID"] == first["UID"]
    assert second["SEQUENCE"] == first["SEQUENCE"] + 1
    assert second.decoded("DTSTART") - first.decoded("DTSTART") == timedelta(days=1)


def test_cancel_is_method_cancel_same_uid_next_sequence():
    s = sessions()[0]
    cal = parse(
        invite_cancel(
            [s], organizer=ORG, attendees=[CANDIDATE], last_sequence=2, now=NOW, summary="I"
        )
    )
    assert cal["METHOD"] == "CANCEL"
    [event] = events(cal)
    assert str(event["UID"]) == s.uid
    assert event["SEQUENCE"] == 3
    assert event["STATUS"] == "CANCELLED"
    assert "asha@mail.example" in attendees(event)


def test_loop_request_is_one_event_spanning_the_sessions_with_an_agenda():
    data = invite_request(
        sessions(),
        organizer=ORG,
        attendees=[CANDIDATE],
        sequence=0,
        now=NOW,
        summary="Interview loop",
        uid=loop_uid(7, DOMAIN),
        agenda_tz=KOLKATA,
    )
    [event] = events(parse(data))
    assert str(event["UID"]) == loop_uid(7, DOMAIN)
    assert event.decoded("DTSTART") == datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    assert set(attendees(event)) == {"asha@mail.example"}  # interviewers get per-session events
    text = str(event["DESCRIPTION"])
    assert "Asia/Kolkata" in text
    assert "09:30-10:15 Coding (with Alice Smith)" in text
    assert "10:30-11:30 System design (with Bob, Jr.)" in text


def test_several_sessions_without_a_uid_are_refused():
    with pytest.raises(InviteError) as info:
        invite_request(
            sessions(), organizer=ORG, attendees=[CANDIDATE], sequence=0, now=NOW, summary="I"
        )
    assert info.value.field == "uid"


def test_build_invites_per_session_gives_one_object_per_uid_with_its_people():
    invites = build_invites(
        sessions(),
        grouping="session",
        organizer=ORG,
        attendees=[CANDIDATE],
        sequence=0,
        now=NOW,
        summary="Acme",
    )
    assert [i.uid for i in invites] == [session_uid(7, 0, DOMAIN), session_uid(7, 1, DOMAIN)]
    assert invites[0].recipients == ("asha@mail.example", "alice@acme.example")
    assert invites[1].recipients == ("asha@mail.example", "bob@acme.example")
    for invite in invites:
        cal = parse(invite.ics)
        [event] = events(cal)
        assert cal["METHOD"] == "REQUEST"
        assert str(event["UID"]) == invite.uid
        assert event.decoded("DTSTART") == invite.start
        assert set(attendees(event)) == set(invite.recipients)
    assert invites[1].summary == "Acme: System design"


def test_build_invites_per_loop_gives_one_object():
    [invite] = build_invites(
        sessions(),
        grouping="loop",
        organizer=ORG,
        attendees=[CANDIDATE],
        sequence=4,
        now=NOW,
        summary="Acme",
        loop_uid=loop_uid(7, DOMAIN),
        method="CANCEL",
    )
    cal = parse(invite.ics)
    assert cal["METHOD"] == "CANCEL"
    [event] = events(cal)
    assert event["SEQUENCE"] == 4 and event["STATUS"] == "CANCELLED"
    assert invite.recipients == ("asha@mail.example",)
    assert set(attendees(event)) == {"asha@mail.example"}
    with pytest.raises(InviteError):
        build_invites(
            sessions(),
            grouping="loop",
            organizer=ORG,
            attendees=[],
            sequence=0,
            now=NOW,
            summary="A",
        )


def test_organizer_is_not_listed_as_attendee_and_duplicates_are_merged():
    s = sessions()[0]
    data = invite_request(
        [s],
        organizer=ORG,
        attendees=[CANDIDATE, Participant("ASHA@mail.example"), ORG],
        sequence=0,
        now=NOW,
        summary="I",
    )
    assert set(attendees(events(parse(data))[0])) == {"asha@mail.example", "alice@acme.example"}


def test_text_with_commas_semicolons_and_newlines_survives_a_round_trip():
    s = sessions()[0]
    summary = "Interview; round 1, with Bob"
    description = "Line one\nLine two; with, punctuation \\ and ünïcode"
    data = invite_request(
        [s],
        organizer=ORG,
        attendees=[BOB],
        sequence=0,
        now=NOW,
        summary=summary,
        description=description,
    )
    [event] = events(parse(data))
    assert str(event["SUMMARY"]) == summary
    assert str(event["DESCRIPTION"]) == description
    assert attendees(event)["bob@acme.example"]["CN"] == "Bob, Jr."


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start": datetime(2026, 12, 1, 9, 0)}, "session 'Coding' start"),
        ({"end": datetime(2026, 12, 1, 3, 0, tzinfo=UTC)}, "session 'Coding' end"),
    ],
)
def test_bad_session_times_are_refused(change, field):
    s = sessions()[0]
    bad = SessionTime(s.uid, s.name, change.get("start", s.start), change.get("end", s.end))
    with pytest.raises(InviteError) as info:
        invite_request(
            [bad], organizer=ORG, attendees=[CANDIDATE], sequence=0, now=NOW, summary="I"
        )
    assert info.value.field == field


def test_other_bad_inputs_name_their_field():
    s = sessions()[0]
    base = {"organizer": ORG, "attendees": [CANDIDATE], "sequence": 0, "now": NOW, "summary": "I"}
    cases = [
        ({"now": datetime(2026, 1, 1)}, "now"),
        ({"sequence": -1}, "sequence"),
        ({"summary": "  "}, "summary"),
        ({"attendees": [Participant("not-an-address")]}, "email"),
        ({"attendees": [Participant("a@b.example", role="BOSS")]}, "role"),  # type: ignore[arg-type]
        ({"method": "PUBLISH"}, "method"),
    ]
    for change, field in cases:
        with pytest.raises(InviteError) as info:
            invite_request([s], **{**base, **change})
        assert info.value.field == field, change


def test_ics_download_is_publish_without_attendees_and_keeps_uids():
    data = ics_download(
        sessions(),
        organizer=ORG,
        now=NOW,
        summary="Acme interview",
        video_url="https://v.example/x",
    )
    cal = parse(data)
    assert cal["METHOD"] == "PUBLISH"
    evs = events(cal)
    assert [str(e["UID"]) for e in evs] == [session_uid(7, 0, DOMAIN), session_uid(7, 1, DOMAIN)]
    assert all("ATTENDEE" not in e for e in evs)
    assert all(str(e["ORGANIZER"]) == "mailto:recruiting@acme.example" for e in evs)
    assert [str(e["SUMMARY"]) for e in evs] == [
        "Acme interview: Coding",
        "Acme interview: System design",
    ]
    assert evs[1].decoded("DTSTART") == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)

    [loop] = events(
        parse(
            ics_download(
                sessions(),
                organizer=ORG,
                now=NOW,
                summary="A",
                grouping="loop",
                loop_uid=loop_uid(7, DOMAIN),
            )
        )
    )
    assert str(loop["UID"]) == loop_uid(7, DOMAIN)
    assert loop.decoded("DTEND") == datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def test_google_calendar_url_has_utc_dates_and_encoded_text():
    s = sessions()[0]
    url = google_calendar_url(
        title="Interview & chat",
        start=s.start,
        end=s.end,
        details="Line 1\nhttps://v.example/x?a=1&b=2",
        location="Room #3",
    )
    parts = urlsplit(url)
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}"
        == "https://calendar.google.com/calendar/render"
    )
    assert "dates=20261201T040000Z/20261201T044500Z" in url
    query = parse_qs(parts.query)
    assert query == {
        "action": ["TEMPLATE"],
        "text": ["Interview & chat"],
        "dates": ["20261201T040000Z/20261201T044500Z"],
        "details": ["Line 1\nhttps://v.example/x?a=1&b=2"],
        "location": ["Room #3"],
    }
    with pytest.raises(InviteError):
        google_calendar_url(title="x", start=s.end, end=s.start)


def test_session_from_calendar_event():
    ev = InterviewEvent(
        uid="u@x",
        summary="Coding",
        start=NOW,
        end=NOW + timedelta(hours=1),
        organizer_email="o@x.example",
        attendees=("a@x.example",),
    )
    s = session_from_event(ev)
    assert (s.uid, s.name, s.start, s.end) == ("u@x", "Coding", ev.start, ev.end)
    assert s.attendees == (Participant("a@x.example"),)


ZONES = [
    "UTC",
    "Asia/Kolkata",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
]


@settings(max_examples=200, deadline=None)
@given(
    minutes=st.integers(min_value=0, max_value=60 * 24 * 800),
    duration=st.integers(min_value=15, max_value=240),
    zone=st.sampled_from(ZONES),
)
def test_any_zone_round_trips_to_the_same_instant(minutes, duration, zone):
    start = (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)).astimezone(
        ZoneInfo(zone)
    )
    s = SessionTime("p@x.example", "S", start, start + timedelta(minutes=duration))
    [event] = events(
        parse(
            invite_request(
                [s], organizer=ORG, attendees=[CANDIDATE], sequence=0, now=NOW, summary="S"
            )
        )
    )
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=duration)
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
