"""Pure helpers for the web app's mapping page: ATS plan stage -> panelslot loop.

An ATS stage lists the interviews to schedule with their durations; a
panelslot loop needs sessions with durations and a pool of interviewers. The
coordinator picks the pool; these helpers propose the sessions and check
interviewers against the ATS's users by email (written-back interviews name
interviewers by email, so an interviewer unknown to the ATS cannot be written).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from integrations.ats.model import PlanStage


@dataclass(frozen=True)
class ProposedSession:
    """A loop session proposed from one schedulable interview of the stage."""

    name: str
    duration_minutes: int
    interview_id: str
    interviewer_emails: tuple[str, ...]


def propose_sessions(stage: PlanStage) -> list[ProposedSession]:
    """The stage's schedulable interviews with a duration, in plan order."""
    return [
        ProposedSession(s.title, s.duration_minutes, s.interview_id, s.interviewer_emails)
        for s in stage.sessions
        if s.schedulable and s.duration_minutes > 0
    ]


@dataclass(frozen=True)
class InterviewerMatch:
    """Which panelslot interviewers the ATS knows (by email, case-insensitively)."""

    matched: tuple[str, ...]  # panelslot interviewer keys
    unknown: tuple[str, ...]  # keys whose email the ATS has no active user for
    ats_only: tuple[str, ...]  # ATS emails named by the plan that no interviewer has


def match_interviewers(
    interviewers: Mapping[str, str],
    ats_emails: Iterable[str],
    plan_emails: Iterable[str] = (),
) -> InterviewerMatch:
    """Match ``{interviewer key: email}`` against the ATS's user emails."""
    known = {e.strip().lower() for e in ats_emails}
    ours = {key: email.strip().lower() for key, email in interviewers.items()}
    ours_emails = set(ours.values())
    return InterviewerMatch(
        matched=tuple(sorted(k for k, e in ours.items() if e in known)),
        unknown=tuple(sorted(k for k, e in ours.items() if e not in known)),
        ats_only=tuple(sorted({e.strip().lower() for e in plan_emails} - ours_emails)),
    )
