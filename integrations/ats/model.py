"""Typed values exchanged with an applicant tracking system (ATS).

Nothing here knows a provider's wire format: the connectors translate to and
from these values, and the web app maps them onto its own loops and bookings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PlanSession:
    """One interview the ATS's plan wants scheduled at a stage.

    ``interview_id`` is the ATS's id of the interview type (what a scheduled
    interview is "of"); ``interviewer_emails`` is empty when the ATS's plan does
    not name interviewers (Ashby's does not: they are chosen when scheduling).
    """

    interview_id: str
    title: str
    duration_minutes: int
    interviewer_emails: tuple[str, ...] = ()
    schedulable: bool = True


@dataclass(frozen=True)
class PlanStage:
    """A stage of a job's interview plan, with the sessions to schedule in it."""

    stage_id: str
    title: str
    order: int
    sessions: tuple[PlanSession, ...] = ()


@dataclass(frozen=True)
class InterviewPlan:
    """A job's interview plan: its stages in plan order."""

    job_id: str
    plan_id: str
    stages: tuple[PlanStage, ...]

    def stage(self, stage_id: str) -> PlanStage | None:
        """The stage with this id, or ``None``."""
        return next((s for s in self.stages if s.stage_id == stage_id), None)


@dataclass(frozen=True)
class PlanSummary:
    """A published interview plan as listed by the ATS."""

    plan_id: str
    title: str


@dataclass(frozen=True)
class ScheduledSession:
    """One booked session to write back to the ATS as one scheduled interview.

    ``external_id`` is panelslot's stable id of the session (the booking
    session's UID); it is stored on the ATS's record and is how a retry, a
    reschedule or a cancel finds what an earlier call wrote.
    """

    external_id: str
    start: datetime
    end: datetime
    interviewer_emails: tuple[str, ...]
    interview_id: str | None = None


@dataclass(frozen=True)
class WrittenSession:
    """Where one session lives in the ATS after a write."""

    external_id: str
    ats_event_id: str


@dataclass(frozen=True)
class ScheduleWrite:
    """The outcome of writing a booking's sessions to the ATS.

    ``created``/``updated``/``cancelled``/``unchanged`` hold external ids, so a
    caller (and a test) can see that a retry created nothing new.
    """

    schedule_id: str
    sessions: tuple[WrittenSession, ...]
    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    cancelled: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()


@dataclass(frozen=True)
class StageChange:
    """A candidate moved to a stage of an application (the inbound webhook)."""

    event_id: str
    application_id: str
    candidate_id: str
    candidate_name: str
    candidate_email: str | None
    job_id: str
    job_title: str
    stage_id: str
    stage_title: str
    stage_type: str
    plan_id: str | None = None


@dataclass(frozen=True)
class OtherEvent:
    """A verified webhook that is not a stage change (a ping, or an event we ignore)."""

    event_id: str | None
    action: str
