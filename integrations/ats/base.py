"""The small interface every ATS connector implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from integrations.ats.model import InterviewPlan, PlanSummary, ScheduledSession, ScheduleWrite


class AtsConnector(Protocol):
    """Read interview plans; write, move and cancel a booking's scheduled interviews.

    Writes are keyed by panelslot's ids, never by the ATS's: ``booking_ref``
    names the booking and each :class:`ScheduledSession` carries its own
    ``external_id``. Every write first looks up what an earlier call left in
    the ATS under those ids, so retrying any call is safe.
    """

    kind: str

    def list_plans(self) -> list[PlanSummary]:
        """The published interview plans."""
        ...

    def interview_plan(self, job_id: str) -> InterviewPlan:
        """The job's interview plan with the sessions to schedule at each stage."""
        ...

    def user_emails(self) -> frozenset[str]:
        """Lower-cased emails of the ATS's active users (to match interviewers)."""
        ...

    def write_schedule(
        self, application_id: str, booking_ref: str, sessions: Sequence[ScheduledSession]
    ) -> ScheduleWrite:
        """Create or bring up to date one scheduled interview per session.

        Sessions written earlier under the same ``booking_ref`` and no longer
        in ``sessions`` are cancelled, so a reschedule is the same call.
        """
        ...

    def cancel_schedule(self, application_id: str, booking_ref: str) -> bool:
        """Cancel what was written for ``booking_ref``; ``False`` if nothing was live."""
        ...
