"""Mapping an ATS plan stage onto a panelslot loop."""

from __future__ import annotations

from integrations.ats.mapping import match_interviewers, propose_sessions
from integrations.ats.model import PlanSession, PlanStage


def test_sessions_are_proposed_from_schedulable_interviews_in_order() -> None:
    stage = PlanStage(
        "s1",
        "Onsite",
        1,
        (
            PlanSession("iv-1", "System design", 60, ("ada@example.com",)),
            PlanSession("iv-2", "Lunch", 45, schedulable=False),
            PlanSession("iv-3", "Debrief", 0),
            PlanSession("iv-4", "Coding", 45),
        ),
    )
    proposed = propose_sessions(stage)
    assert [(p.name, p.duration_minutes, p.interview_id) for p in proposed] == [
        ("System design", 60, "iv-1"),
        ("Coding", 45, "iv-4"),
    ]
    assert proposed[0].interviewer_emails == ("ada@example.com",)


def test_interviewers_match_by_email_ignoring_case() -> None:
    match = match_interviewers(
        {"ada": "Ada@Example.com", "bob": "bob@example.com", "cy": "cy@elsewhere.io"},
        ["ada@example.com", "BOB@example.com", "dee@example.com"],
        plan_emails=["dee@example.com", "ada@example.com"],
    )
    assert match.matched == ("ada", "bob")
    assert match.unknown == ("cy",)
    assert match.ats_only == ("dee@example.com",)
