"""Applicant tracking system connectors: read interview plans, write scheduled interviews."""

from integrations.ats.base import AtsConnector
from integrations.ats.errors import AtsAuthError, AtsError, WebhookPayloadError, WebhookRejected
from integrations.ats.model import (
    InterviewPlan,
    OtherEvent,
    PlanSession,
    PlanStage,
    PlanSummary,
    ScheduledSession,
    ScheduleWrite,
    StageChange,
    WrittenSession,
)

__all__ = [
    "AtsAuthError",
    "AtsConnector",
    "AtsError",
    "InterviewPlan",
    "OtherEvent",
    "PlanSession",
    "PlanStage",
    "PlanSummary",
    "ScheduleWrite",
    "ScheduledSession",
    "StageChange",
    "WebhookPayloadError",
    "WebhookRejected",
    "WrittenSession",
]
