"""AshbyConnector on the wire: retries, refusals, paging and request shapes (real HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from integrations.ats.ashby import AshbyConnector, AshbyOptions, ashby_time
from integrations.ats.errors import AtsAuthError, AtsError
from integrations.ats.model import ScheduledSession
from integrations.backoff import Backoff
from tests.integrations.ats_emulator import AshbyEmulator

KEY = "ashby-test-key"
ADA, BOB = "ada@example.com", "bob@example.com"
START = datetime(2027, 3, 2, 14, 0, tzinfo=UTC)


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def emu() -> Iterator[AshbyEmulator]:
    with AshbyEmulator(api_key=KEY, page_size=2) as emulator:
        emulator.add_user(ADA)
        emulator.add_user(BOB)
        emulator.add_job_plan("job-1", "Engineering", [{"title": "Onsite", "interviews": []}])
        yield emulator


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def connector(emu: AshbyEmulator, sleeps: Sleeps, key: str = KEY) -> AshbyConnector:
    options = AshbyOptions(
        base_url=emu.base_url, backoff=Backoff(attempts=3, sleep=sleeps, random=lambda: 0.0)
    )
    return AshbyConnector(key, options=options)


def booking() -> list[ScheduledSession]:
    return [
        ScheduledSession("uid-1", START, START + timedelta(hours=1), (ADA,), interview_id="iv-1"),
        ScheduledSession("uid-2", START + timedelta(hours=1), START + timedelta(hours=2), (BOB,)),
    ]


def test_a_create_whose_answer_was_lost_is_found_not_repeated(
    emu: AshbyEmulator, sleeps: Sleeps
) -> None:
    app = emu.add_application("job-1", "Dana", "dana@example.org")
    emu.fail_next("interviewSchedule.create", 502, after_processing=True)
    result = connector(emu, sleeps).write_schedule(app, "booking-1", booking())
    assert len(emu.calls("interviewSchedule.create")) == 1
    assert len(emu.live_events(app)) == 2
    assert result.unchanged == ("uid-1", "uid-2")  # the retry found both
    assert sleeps.calls == [1.0]


def test_a_lost_update_is_not_applied_twice(emu: AshbyEmulator, sleeps: Sleeps) -> None:
    app = emu.add_application("job-1", "Dana", "dana@example.org")
    ats = connector(emu, sleeps)
    ats.write_schedule(app, "booking-1", booking())
    emu.fail_next("interviewSchedule.update", 503, after_processing=True)
    moved = [ScheduledSession("uid-1", START, START + timedelta(minutes=45), (ADA,))]
    result = ats.write_schedule(app, "booking-1", moved + booking()[1:])
    assert result.unchanged == ("uid-1", "uid-2")
    assert len(emu.calls("interviewSchedule.update")) == 1
    (event,) = [e for e in emu.live_events(app) if e["extraData"]["panelslot_session"] == "uid-1"]
    assert event["endTime"] == "2027-03-02T14:45:00.000Z"


def test_requests_follow_ashbys_documented_shapes(emu: AshbyEmulator, sleeps: Sleeps) -> None:
    app = emu.add_application("job-1", "Dana", "dana@example.org")
    connector(emu, sleeps).write_schedule(app, "booking-1", booking())
    (create,) = emu.calls("interviewSchedule.create")
    assert create.api_key == KEY  # Basic auth, key as user name, empty password
    assert create.body["applicationId"] == app
    first = create.body["interviewEvents"][0]
    assert first == {
        "startTime": "2027-03-02T14:00:00.000Z",
        "endTime": "2027-03-02T15:00:00.000Z",
        "interviewers": [{"email": ADA, "feedbackRequired": True}],
        "extraData": {"panelslot_booking": "booking-1", "panelslot_session": "uid-1"},
        "interviewId": "iv-1",
    }
    assert "interviewId" not in create.body["interviewEvents"][1]  # Ashby's default interview


def test_a_reschedule_sends_updates_and_cancels_as_separate_calls(
    emu: AshbyEmulator, sleeps: Sleeps
) -> None:
    app = emu.add_application("job-1", "Dana", "dana@example.org")
    ats = connector(emu, sleeps)
    ats.write_schedule(app, "booking-1", booking())
    later = ScheduledSession(
        "uid-3", START + timedelta(days=1), START + timedelta(days=1, hours=1), (BOB,)
    )
    result = ats.write_schedule(app, "booking-1", [booking()[0], later])
    assert result.created == ("uid-3",) and result.cancelled == ("uid-2",)
    first, second = (c.body for c in emu.calls("interviewSchedule.update"))
    assert set(first) == {"interviewScheduleId", "interviewEvent"}
    assert set(second) == {"interviewScheduleId", "interviewEventIdToCancel"}


def test_a_refused_key_is_an_auth_error_and_is_not_retried(
    emu: AshbyEmulator, sleeps: Sleeps
) -> None:
    with pytest.raises(AtsAuthError) as caught:
        connector(emu, sleeps, key="wrong").list_plans()
    assert caught.value.status == 401
    assert len(emu.calls("interviewPlan.list")) == 1 and sleeps.calls == []


def test_throttling_and_outages_are_retried(emu: AshbyEmulator, sleeps: Sleeps) -> None:
    emu.fail_next("jobInterviewPlan.info", 429)
    emu.fail_next("jobInterviewPlan.info", 500)
    plan = connector(emu, sleeps).interview_plan("job-1")
    assert [s.title for s in plan.stages] == ["Onsite"]
    assert len(emu.calls("jobInterviewPlan.info")) == 3
    assert sleeps.calls == [1.0, 2.0]


def test_retries_give_up_with_the_last_error(emu: AshbyEmulator, sleeps: Sleeps) -> None:
    emu.fail_next("user.list", 503, times=3)
    with pytest.raises(AtsError) as caught:
        connector(emu, sleeps).user_emails()
    assert caught.value.status == 503 and caught.value.retryable


def test_a_refusal_carries_ashbys_error_code(emu: AshbyEmulator, sleeps: Sleeps) -> None:
    with pytest.raises(AtsError) as caught:
        connector(emu, sleeps).write_schedule("no-such-app", "booking-1", booking())
    assert caught.value.code == "application_not_found"
    assert caught.value.retryable is False and sleeps.calls == []


def test_lists_are_followed_across_pages(emu: AshbyEmulator, sleeps: Sleeps) -> None:
    for n in range(3):
        emu.add_user(f"user{n}@example.com")
    emu.add_user("gone@example.com", isEnabled=False)
    emails = connector(emu, sleeps).user_emails()
    assert len(emails) == 5 and "gone@example.com" not in emails
    cursors = [c.body.get("cursor") for c in emu.calls("user.list")]
    assert cursors == [None, "2", "4"]


def test_only_the_key_that_made_a_schedule_can_change_it(
    emu: AshbyEmulator, sleeps: Sleeps
) -> None:
    app = emu.add_application("job-1", "Dana", "dana@example.org")
    connector(emu, sleeps).write_schedule(app, "booking-1", booking())
    emu.api_keys.add("other-key")
    with pytest.raises(AtsError) as caught:
        connector(emu, sleeps, key="other-key").write_schedule(app, "booking-1", booking()[:1])
    assert caught.value.code == "forbidden"


def test_no_server_is_a_retryable_error(sleeps: Sleeps, refused_port: int) -> None:
    options = AshbyOptions(
        base_url=f"http://127.0.0.1:{refused_port}", backoff=Backoff(attempts=2, sleep=sleeps)
    )
    with pytest.raises(AtsError) as caught:
        AshbyConnector(KEY, options=options).list_plans()
    assert caught.value.retryable and "ConnectionError" in caught.value.message


def test_ashby_time_needs_an_aware_datetime() -> None:
    assert ashby_time(datetime(2027, 1, 1, 9, 30, 0, 123456, tzinfo=UTC)) == (
        "2027-01-01T09:30:00.123Z"
    )
    with pytest.raises(ValueError):
        ashby_time(datetime(2027, 1, 1))
