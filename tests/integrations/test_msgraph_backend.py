"""MicrosoftGraphBackend against the loopback emulator: reading, throttling, write-back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from integrations.calendars.base import InterviewEvent
from integrations.calendars.msgraph_backend import (
    DeltaState,
    MicrosoftGraphBackend,
    event_is_busy,
    status_is_busy,
)
from integrations.calendars.msgraph_http import GraphApiError, GraphThrottled, retry_after_seconds
from integrations.errors import CalendarError, ReconnectRequired
from integrations.msgraph_auth import MicrosoftCredentials
from scheduler.model import Interval
from tests.integrations.msgraph_emulator import MicrosoftEmulator
from tests.integrations.msgraph_fixtures import USER, RecordingSleep, connect, make_backend, prepare

pytestmark = pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended")

WEEK = Interval(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 8, tzinfo=UTC))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def at(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def graph_event(start: datetime, hours: float = 1, **extra: Any) -> dict[str, Any]:
    return {"subject": "x", "start": at(start), "end": at(start + timedelta(hours=hours)), **extra}


def interview(uid: str, start: datetime, minutes: int = 60) -> InterviewEvent:
    return InterviewEvent(
        uid=uid,
        summary=f"Interview {uid}",
        start=start,
        end=start + timedelta(minutes=minutes),
        organizer_email="coordinator@example.com",
        attendees=(USER,),
        description="Panel interview",
        location="",
    )


@pytest.fixture
def emulator() -> Iterator[MicrosoftEmulator]:
    with MicrosoftEmulator(page_size=2) as emu:
        prepare(emu)
        yield emu


@pytest.fixture
def creds(emulator: MicrosoftEmulator) -> MicrosoftCredentials:
    return connect(emulator)


# -- busy rules ------------------------------------------------------------------------


def test_status_rules() -> None:
    assert [status_is_busy(s) for s in ("free", "workingElsewhere", "Free")] == [False] * 3
    assert all(status_is_busy(s) for s in ("tentative", "busy", "oof", "Busy", "unknown"))
    assert not event_is_busy({"showAs": "busy", "isCancelled": True})
    assert not event_is_busy({"showAs": "busy", "responseStatus": {"response": "declined"}})
    assert event_is_busy({"showAs": "tentative", "responseStatus": {"response": "accepted"}})


SHOW_AS = ["free", "workingElsewhere", "tentative", "busy", "oof", "unknown"]


@pytest.mark.parametrize("mode", ["freebusy", "sync"])
def test_show_as_declined_and_cancelled(
    emulator: MicrosoftEmulator, creds: MicrosoftCredentials, mode: str
) -> None:
    for day, show in enumerate(SHOW_AS, start=1):
        emulator.add_event(USER, graph_event(utc(2027, 3, day, 9), showAs=show))
    emulator.add_event(
        USER, graph_event(utc(2027, 3, 1, 14), responseStatus={"response": "declined"})
    )
    emulator.add_event(USER, graph_event(utc(2027, 3, 2, 14), isCancelled=True))
    read = make_backend(emulator, creds, mode=mode).read_busy(WEEK)
    assert sorted(iv.start.day for iv in read.busy) == [3, 4, 5, 6]


def test_schedule_reads_in_documented_chunks(
    emulator: MicrosoftEmulator, creds: MicrosoftCredentials
) -> None:
    others = tuple(f"user{i}@contoso.test" for i in range(24))
    for address in others:
        emulator.add_mailbox(address)
    emulator.add_event(others[-1], graph_event(utc(2027, 5, 20, 9)))
    backend = make_backend(emulator, creds, schedules=(USER, *others))
    window = Interval(utc(2027, 3, 1), utc(2027, 7, 9))  # 130 days
    read = backend.read_busy(window)
    assert read.busy == (Interval(utc(2027, 5, 20, 9), utc(2027, 5, 20, 10)),)
    calls = emulator.graph_requests("POST", "getSchedule")
    assert len(calls) == 3 * 2  # three windows under 62 days, two chunks of at most 20
    for call in calls:
        assert len(call.body["schedules"]) <= 20
        start = datetime.fromisoformat(call.body["startTime"]["dateTime"])
        end = datetime.fromisoformat(call.body["endTime"]["dateTime"])
        assert timedelta(0) < end - start < timedelta(days=62)
        assert call.body["startTime"]["timeZone"] == "UTC"


def test_unknown_schedule_is_named(
    emulator: MicrosoftEmulator, creds: MicrosoftCredentials
) -> None:
    backend = make_backend(emulator, creds, schedules=("ghost@contoso.test",))
    with pytest.raises(CalendarError, match="ghost@contoso.test.*ErrorMailRecipientNotFound"):
        backend.read_busy(WEEK)


# -- delta -------------------------------------------------------------------------------


def test_delta_round_then_incremental_changes(
    emulator: MicrosoftEmulator, creds: MicrosoftCredentials
) -> None:
    ids = [emulator.add_event(USER, graph_event(utc(2027, 3, d, 9))) for d in range(1, 6)]
    backend = make_backend(emulator, creds, mode="sync", page_size=50)
    first = backend.read_busy(WEEK)
    assert len(first.busy) == 5 and not first.unchanged
    initial = emulator.graph_requests("GET", "delta")
    assert initial[0].args["startDateTime"] == "2027-03-01T00:00:00Z"
    assert initial[0].args["endDateTime"] == "2027-03-15T00:00:00Z"  # window + 7 days slack
    assert initial[0].headers["Prefer"] == "odata.maxpagesize=50"
    assert len(initial) == 3  # five events, two a page (the emulator's cap)
    assert all("$skiptoken" in r.args for r in initial[1:])
    again = backend.read_busy(WEEK)
    assert again.unchanged and again.busy == first.busy
    assert "$deltatoken" in emulator.graph_requests("GET", "delta")[-1].args
    emulator.change_event(USER, ids[0], {"showAs": "free"})
    emulator.remove_event(USER, ids[1])
    emulator.add_event(USER, graph_event(utc(2027, 3, 7, 9)))
    changed = backend.read_busy(WEEK)
    assert not changed.unchanged
    assert sorted(iv.start.day for iv in changed.busy) == [3, 4, 5, 7]


@pytest.mark.parametrize("with_location", [False, True])
def test_expired_delta_token_reads_in_full(
    emulator: MicrosoftEmulator, creds: MicrosoftCredentials, with_location: bool
) -> None:
    emulator.add_event(USER, graph_event(utc(2027, 3, 2, 9)))
    backend = make_backend(emulator, creds, mode="sync")
    backend.read_busy(WEEK)
    emulator.expire_delta_tokens(with_location=with_location)
    emulator.add_event(USER, graph_event(utc(2027, 3, 3, 9)))
    read = backend.read_busy(WEEK)
    assert sorted(iv.start.day for iv in read.busy) == [2, 3]
    gets = emulator.graph_requests("GET", "delta")
    assert "$deltatoken" in gets[-2].args and "startDateTime" in gets[-1].args


def test_moving_window_past_the_delta_window_reads_in_full(
    emulator: MicrosoftEmulator, creds: MicrosoftCredentials
) -> None:
    emulator.add_event(USER, graph_event(utc(2027, 3, 20, 9)))
    backend = make_backend(emulator, creds, mode="sync")
    assert backend.read_busy(WEEK).busy == ()
    later = Interval(utc(2027, 3, 15), utc(2027, 3, 22))
    assert backend.read_busy(later).busy == (Interval(utc(2027, 3, 20, 9), utc(2027, 3, 20, 10)),)
    assert (
        emulator.graph_requests("GET", "delta")[-1].args["startDateTime"] == "2027-03-15T00:00:00Z"
    )


def test_delta_state_survives_a_restart(
    emulator: MicrosoftEmulator, creds: MicrosoftCredentials
) -> None:
    emulator.add_event(USER, graph_event(utc(2027, 3, 2, 9)))
    first = make_backend(emulator, creds, mode="sync")
    first.read_busy(WEEK)
    kept = DeltaState.from_json(first.delta_state.to_json())
    second = MicrosoftGraphBackend(
        creds, first.options, delta_state=kept, backoff=first.client.backoff
    )
    read = second.read_busy(WEEK)
    assert read.unchanged and len(read.busy) == 1
    assert DeltaState.from_json("garbage").delta_link is None


def test_all_day_events_are_read_in_the_interviewers_zone(
    emulator: MicrosoftEmulator, creds: MicrosoftCredentials
) -> None:
    emulator.add_event(
        USER,
        {
            "subject": "offsite",
            "isAllDay": True,
            "showAs": "oof",
            "start": {"dateTime": "2027-03-03T00:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2027-03-04T00:00:00", "timeZone": "UTC"},
        },
    )
    backend = make_backend(emulator, creds, mode="sync", timezone="Asia/Kolkata")
    assert backend.read_busy(WEEK).busy == (
        Interval(utc(2027, 3, 2, 18, 30), utc(2027, 3, 3, 18, 30)),
    )


# -- throttling and failures ---------------------------------------------------------------


def test_429_waits_the_retry_after_it_names(
    emulator: MicrosoftEmulator, creds: MicrosoftCredentials
) -> None:
    sleep = RecordingSleep()
    emulator.fail_next(429, times=2, retry_after="7", path_contains="getSchedule")
    read = make_backend(emulator, creds, sleep=sleep).read_busy(WEEK)
    assert read.busy == () and sleep.waits == [7.0, 7.0]
    assert len(emulator.graph_requests("POST", "getSchedule")) == 3


def test_a_retry_after_beyond_the_limit_is_left_to_the_next_sync(
    emulator: MicrosoftEmulator, creds: MicrosoftCredentials
) -> None:
    sleep = RecordingSleep()
    emulator.fail_next(429, retry_after="3600")
    with pytest.raises(GraphThrottled, match="wait 3600 s") as info:
        make_backend(emulator, creds, sleep=sleep).read_busy(WEEK)
    assert info.value.retry_after == 3600 and sleep.waits == []


def test_retry_after_as_an_http_date() -> None:
    answer = requests.Response()
    answer.headers["Date"] = "Wed, 21 Oct 2026 07:28:00 GMT"
    answer.headers["Retry-After"] = "Wed, 21 Oct 2026 07:28:30 GMT"
    assert retry_after_seconds(answer) == 30


def test_server_errors_back_off_then_give_up(
    emulator: MicrosoftEmulator, creds: MicrosoftCredentials
) -> None:
    sleep = RecordingSleep()
    emulator.fail_next(503, times=2)
    make_backend(emulator, creds, sleep=sleep).read_busy(WEEK)
    assert sleep.waits == [1.0, 2.0]
    emulator.fail_next(500, times=10)
    with pytest.raises(GraphApiError, match="kept failing.*after 4 attempts") as info:
        make_backend(emulator, creds).read_busy(WEEK)
    assert info.value.status == 500


def test_expired_access_token_is_refreshed_once(
    emulator: MicrosoftEmulator, creds: MicrosoftCredentials
) -> None:
    backend = make_backend(emulator, creds)
    backend.read_busy(WEEK)
    emulator.expire_access_tokens()
    assert backend.read_busy(WEEK).busy == ()
    assert emulator.token_requests[-1]["grant_type"] == "refresh_token"


def test_revoked_consent_asks_to_reconnect(
    emulator: MicrosoftEmulator, creds: MicrosoftCredentials
) -> None:
    backend = make_backend(emulator, creds, mode="sync")
    emulator.revoke(USER)
    with pytest.raises(ReconnectRequired, match="invalid_grant, AADSTS70008"):
        backend.read_busy(WEEK)


# -- writing -------------------------------------------------------------------------------


def test_write_move_delete(emulator: MicrosoftEmulator, creds: MicrosoftCredentials) -> None:
    backend = make_backend(emulator, creds)
    event_id = backend.write_event(interview("w1", utc(2027, 3, 3, 15)))
    posted = emulator.graph_requests("POST", "/me/calendar/events")[-1].body
    assert posted["subject"] == "Interview w1" and posted["showAs"] == "busy"
    assert posted["attendees"] == [{"emailAddress": {"address": USER}, "type": "required"}]
    assert posted["start"] == {"dateTime": "2027-03-03T15:00:00", "timeZone": "UTC"}
    assert posted["transactionId"] and "isOnlineMeeting" not in posted
    assert backend.conference_link(event_id) is None
    backend.update_event(event_id, interview("w1", utc(2027, 3, 4, 10), 90))
    assert backend.read_busy(WEEK).busy == (Interval(utc(2027, 3, 4, 10), utc(2027, 3, 4, 11, 30)),)
    backend.cancel_event(event_id)
    backend.cancel_event(event_id)
    assert backend.read_busy(WEEK).busy == ()


def test_a_create_whose_answer_was_lost_is_not_duplicated(
    emulator: MicrosoftEmulator, creds: MicrosoftCredentials
) -> None:
    emulator.fail_next(503, path_contains="/events", after_processing=True)
    backend = make_backend(emulator, creds)
    event_id = backend.write_event(interview("once", utc(2027, 3, 3, 15)))
    assert len(emulator.graph_requests("POST", "/events")) == 2
    assert list(emulator.mailbox(USER).events) == [event_id]


def test_teams_meeting_link(emulator: MicrosoftEmulator, creds: MicrosoftCredentials) -> None:
    backend = make_backend(emulator, creds, create_teams=True)
    event_id = backend.write_event(interview("t1", utc(2027, 3, 3, 15)))
    posted = emulator.graph_requests("POST", "/events")[-1].body
    assert posted["isOnlineMeeting"] is True
    assert posted["onlineMeetingProvider"] == "teamsForBusiness"
    link = backend.conference_link(event_id)
    assert link and link.startswith("https://teams.microsoft.test/l/meetup-join/")
    backend.update_event(event_id, interview("t1", utc(2027, 3, 4, 15)))
    assert "body" not in emulator.graph_requests("PATCH")[-1].body
    stored = emulator.event(USER, event_id)
    assert stored and stored["onlineMeeting"]["joinUrl"] == link  # the move kept the meeting


def test_teams_link_read_back_when_not_in_the_create_answer(
    emulator: MicrosoftEmulator, creds: MicrosoftCredentials
) -> None:
    emulator.mailbox(USER).teams_link_delayed = True
    backend = make_backend(emulator, creds, create_teams=True)
    event_id = backend.write_event(interview("t2", utc(2027, 3, 3, 15)))
    assert backend.conference_link(event_id)
    assert emulator.graph_requests("GET", "/me/events/")[-1].args["$select"]


def test_no_teams_for_the_mailbox_gives_no_link(emulator: MicrosoftEmulator) -> None:
    emulator.add_mailbox("bob@contoso.test", teams=False)
    emulator.sign_in("bob@contoso.test")
    creds = connect(emulator)
    backend = make_backend(emulator, creds, create_teams=True)
    event_id = backend.write_event(interview("t3", utc(2027, 3, 3, 15)))
    assert backend.conference_link(event_id) is None  # web falls back to the template
    assert len(emulator.graph_requests("GET", "/me/events/")) == 0


def test_read_only_connection_refuses_writes_before_calling_graph(
    emulator: MicrosoftEmulator,
) -> None:
    creds = connect(emulator, write=False)
    backend = make_backend(emulator, creds)
    with pytest.raises(CalendarError, match="read-only"):
        backend.write_event(interview("r", utc(2027, 3, 3, 15)))
    assert emulator.graph_requests("POST", "/events") == []
    assert make_backend(emulator, creds).read_busy(WEEK).busy == ()


def test_graph_denial_of_writes_is_reported(
    emulator: MicrosoftEmulator, creds: MicrosoftCredentials
) -> None:
    emulator.fail_next(403, code="ErrorAccessDenied", path_contains="/events")
    with pytest.raises(GraphApiError, match="denied access.*ErrorAccessDenied") as info:
        make_backend(emulator, creds).write_event(interview("d", utc(2027, 3, 3, 15)))
    assert info.value.status == 403 and info.value.code == "ErrorAccessDenied"
