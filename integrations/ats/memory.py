"""An in-memory ATS: the connector for tests and demos of the web app.

It keeps the same promises as the real connectors: writes are keyed by
panelslot's ids, a repeated write changes nothing, and a rescheduled booking
keeps its event ids for the sessions it still has.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC

from integrations.ats.errors import AtsError
from integrations.ats.model import (
    InterviewPlan,
    PlanSummary,
    ScheduledSession,
    ScheduleWrite,
    WrittenSession,
)


@dataclass
class MemorySchedule:
    """What the in-memory ATS holds for one booking."""

    schedule_id: str
    application_id: str
    booking_ref: str
    events: dict[str, tuple[str, ScheduledSession]] = field(default_factory=dict)
    cancelled: bool = False


def _normalised(session: ScheduledSession) -> ScheduledSession:
    return replace(
        session,
        start=session.start.astimezone(UTC),
        end=session.end.astimezone(UTC),
        interviewer_emails=tuple(sorted(e.lower() for e in session.interviewer_emails)),
    )


class InMemoryAts:
    """:class:`~integrations.ats.base.AtsConnector` backed by dictionaries."""

    kind = "memory"

    def __init__(
        self,
        plans: Iterable[InterviewPlan] = (),
        *,
        plan_titles: dict[str, str] | None = None,
        users: Iterable[str] = (),
    ) -> None:
        self.plans = {plan.job_id: plan for plan in plans}
        self.plan_titles = dict(plan_titles or {})
        self.users = {email.lower() for email in users}
        self.schedules: list[MemorySchedule] = []
        self._ids = itertools.count(1)

    def list_plans(self) -> list[PlanSummary]:
        ids = dict.fromkeys(plan.plan_id for plan in self.plans.values())
        return [PlanSummary(pid, self.plan_titles.get(pid, pid)) for pid in ids]

    def interview_plan(self, job_id: str) -> InterviewPlan:
        try:
            return self.plans[job_id]
        except KeyError:
            raise AtsError("interview_plan", f"no job {job_id}", code="job_not_found") from None

    def user_emails(self) -> frozenset[str]:
        return frozenset(self.users)

    def live_schedule(self, booking_ref: str) -> MemorySchedule | None:
        """The booking's schedule unless it was cancelled."""
        return next(
            (s for s in self.schedules if s.booking_ref == booking_ref and not s.cancelled), None
        )

    def write_schedule(
        self, application_id: str, booking_ref: str, sessions: Sequence[ScheduledSession]
    ) -> ScheduleWrite:
        if not sessions:
            raise ValueError("write_schedule needs at least one session; use cancel_schedule")
        unknown = {e.lower() for s in sessions for e in s.interviewer_emails} - self.users
        if self.users and unknown:
            raise AtsError(
                "write_schedule", f"unknown users {sorted(unknown)}", code="user_not_found"
            )
        schedule = self.live_schedule(booking_ref)
        if schedule is None:
            schedule = MemorySchedule(f"sched-{next(self._ids)}", application_id, booking_ref)
            self.schedules.append(schedule)
        created, updated, unchanged = [], [], []
        for session in map(_normalised, sessions):
            current = schedule.events.get(session.external_id)
            if current is None:
                schedule.events[session.external_id] = (f"event-{next(self._ids)}", session)
                created.append(session.external_id)
            elif current[1] == session:
                unchanged.append(session.external_id)
            else:
                schedule.events[session.external_id] = (current[0], session)
                updated.append(session.external_id)
        wanted = {s.external_id for s in sessions}
        cancelled = sorted(ext for ext in schedule.events if ext not in wanted)
        for ext in cancelled:
            del schedule.events[ext]
        return ScheduleWrite(
            schedule_id=schedule.schedule_id,
            sessions=tuple(WrittenSession(ext, ev[0]) for ext, ev in schedule.events.items()),
            created=tuple(created),
            updated=tuple(updated),
            cancelled=tuple(cancelled),
            unchanged=tuple(unchanged),
        )

    def cancel_schedule(self, application_id: str, booking_ref: str) -> bool:
        schedule = self.live_schedule(booking_ref)
        if schedule is None:
            return False
        schedule.cancelled = True
        return True
