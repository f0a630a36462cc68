"""The ATS connector contract, run against the in-memory ATS and Ashby's emulator (real HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from integrations.ats.ashby import AshbyConnector, AshbyOptions
from integrations.ats.base import AtsConnector
from integrations.ats.errors import AtsError
from integrations.ats.memory import InMemoryAts
from integrations.ats.model import InterviewPlan, PlanSession, PlanStage, ScheduledSession
from integrations.backoff import Backoff
from tests.integrations.ats_emulator import AshbyEmulator

ADA, BOB, CY = "ada@example.com", "bob@example.com", "Cy@Example.com"
START = datetime(2027, 3, 2, 14, 0, tzinfo=UTC)
STAGES = [
    {"title": "Screen", "interviews": [("Recruiter screen", 30)]},
    {"title": "Onsite", "interviews": [("System design", 60), ("Coding", 45)]},
]


@dataclass
class World:
    ats: AtsConnector
    job_id: str
    application_id: str
    emulator: AshbyEmulator | None = None


def memory_world() -> World:
    stages = tuple(
        PlanStage(
            stage_id=f"stage-{i}",
            title=stage["title"],
            order=i,
            sessions=tuple(
                PlanSession(f"iv-{i}-{j}", name, minutes)
                for j, (name, minutes) in enumerate(stage["interviews"])
            ),
        )
        for i, stage in enumerate(STAGES)
    )
    plan = InterviewPlan(job_id="job-1", plan_id="plan-1", stages=stages)
    ats = InMemoryAts([plan], plan_titles={"plan-1": "Engineering"}, users=[ADA, BOB, CY])
    return World(ats, "job-1", "app-1")


@pytest.fixture(params=["memory", "ashby"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    if request.param == "memory":
        yield memory_world()
        return
    with AshbyEmulator(page_size=2) as emu:
        for email in (ADA, BOB, CY):
            emu.add_user(email)
        emu.add_job_plan("job-1", "Engineering", STAGES)
        app = emu.add_application("job-1", "Dana Candidate", "dana@example.org")
        options = AshbyOptions(base_url=emu.base_url, backoff=Backoff(sleep=lambda _s: None))
        yield World(AshbyConnector("ashby-test-key", options=options), "job-1", app, emu)


def sessions(shift: timedelta = timedelta(0)) -> list[ScheduledSession]:
    return [
        ScheduledSession("uid-1", START + shift, START + shift + timedelta(hours=1), (ADA,)),
        ScheduledSession(
            "uid-2",
            START + timedelta(hours=1, minutes=10),
            START + timedelta(hours=1, minutes=55),
            (BOB, CY),
        ),
    ]


def test_interview_plan_has_stages_in_order_with_durations(world: World) -> None:
    plan = world.ats.interview_plan(world.job_id)
    assert [s.title for s in plan.stages] == ["Screen", "Onsite"]
    onsite = plan.stages[1]
    assert [(s.title, s.duration_minutes) for s in onsite.sessions] == [
        ("System design", 60),
        ("Coding", 45),
    ]
    assert all(s.interview_id for s in onsite.sessions)
    assert plan.stage(onsite.stage_id) == onsite


def test_plans_and_users_are_listed(world: World) -> None:
    assert [p.title for p in world.ats.list_plans()] == ["Engineering"]
    assert world.ats.user_emails() == {ADA, BOB, CY.lower()}


def test_unknown_job_is_an_error(world: World) -> None:
    with pytest.raises(AtsError) as caught:
        world.ats.interview_plan("no-such-job")
    assert caught.value.code == "job_not_found"


def test_write_creates_one_interview_per_session_and_a_repeat_changes_nothing(
    world: World,
) -> None:
    first = world.ats.write_schedule(world.application_id, "booking-7", sessions())
    assert first.created == ("uid-1", "uid-2")
    assert {s.external_id for s in first.sessions} == {"uid-1", "uid-2"}
    again = world.ats.write_schedule(world.application_id, "booking-7", sessions())
    assert again.created == () and again.updated == ()
    assert again.unchanged == ("uid-1", "uid-2")
    assert again.schedule_id == first.schedule_id
    assert set(again.sessions) == set(first.sessions)
    if world.emulator is not None:
        assert len(world.emulator.calls("interviewSchedule.create")) == 1
        assert len(world.emulator.live_events(world.application_id)) == 2


def test_reschedule_moves_the_changed_session_and_keeps_its_event(world: World) -> None:
    first = world.ats.write_schedule(world.application_id, "booking-7", sessions())
    moved = world.ats.write_schedule(
        world.application_id, "booking-7", sessions(shift=timedelta(minutes=-30))
    )
    assert moved.updated == ("uid-1",) and moved.unchanged == ("uid-2",)
    assert set(moved.sessions) == set(first.sessions)  # same ATS event ids
    if world.emulator is not None:
        (event,) = [
            e
            for e in world.emulator.live_events(world.application_id)
            if e["extraData"]["panelslot_session"] == "uid-1"
        ]
        assert event["startTime"] == "2027-03-02T13:30:00.000Z"


def test_a_session_dropped_from_the_booking_is_cancelled(world: World) -> None:
    world.ats.write_schedule(world.application_id, "booking-7", sessions())
    result = world.ats.write_schedule(world.application_id, "booking-7", sessions()[:1])
    assert result.cancelled == ("uid-2",)
    assert [s.external_id for s in result.sessions] == ["uid-1"]


def test_cancel_then_rebook(world: World) -> None:
    first = world.ats.write_schedule(world.application_id, "booking-7", sessions())
    assert world.ats.cancel_schedule(world.application_id, "booking-7") is True
    assert world.ats.cancel_schedule(world.application_id, "booking-7") is False
    rebooked = world.ats.write_schedule(world.application_id, "booking-7", sessions())
    assert rebooked.schedule_id != first.schedule_id
    assert rebooked.created == ("uid-1", "uid-2")


def test_bookings_do_not_touch_each_other(world: World) -> None:
    world.ats.write_schedule(world.application_id, "booking-7", sessions())
    other = [ScheduledSession("uid-9", START, START + timedelta(minutes=30), (ADA,))]
    world.ats.write_schedule(world.application_id, "booking-8", other)
    assert world.ats.cancel_schedule(world.application_id, "booking-8") is True
    again = world.ats.write_schedule(world.application_id, "booking-7", sessions())
    assert again.unchanged == ("uid-1", "uid-2")


def test_an_interviewer_the_ats_does_not_know_is_refused(world: World) -> None:
    stranger = [ScheduledSession("uid-1", START, START + timedelta(hours=1), ("x@nowhere.io",))]
    with pytest.raises(AtsError) as caught:
        world.ats.write_schedule(world.application_id, "booking-7", stranger)
    assert caught.value.code in {"interviewer_not_found", "user_not_found"}


def test_bad_inputs_are_refused_before_any_call(world: World) -> None:
    with pytest.raises(ValueError):
        world.ats.write_schedule(world.application_id, "booking-7", [])
    if isinstance(world.ats, AshbyConnector):
        twice = [sessions()[0], sessions()[0]]
        with pytest.raises(ValueError):
            world.ats.write_schedule(world.application_id, "booking-7", twice)
