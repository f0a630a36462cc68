"""The audit log's one writer: every entry, from a view or from the booking service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from web.store.models import AuditLog, SchedulingRequest


def record(
    s: Session,
    at: datetime,
    actor: str,
    action: str,
    obj_type: str = "",
    obj_id: object = "",
    *,
    coordinator_id: int | None = None,
    **detail: Any,
) -> AuditLog:
    """Add one audit entry at ``at`` (the caller's clock) in the caller's transaction."""
    row = AuditLog(
        at=at,
        actor=actor,
        coordinator_id=coordinator_id,
        action=action,
        object_type=obj_type,
        object_id=str(obj_id),
        detail=detail,
    )
    s.add(row)
    return row


def record_request(
    s: Session, at: datetime, actor: str, action: str, req: SchedulingRequest, **detail: Any
) -> AuditLog:
    """An entry about ``req``; a coordinator actor is the request's coordinator."""
    coordinator = req.coordinator_id if actor.startswith("coordinator") else None
    return record(s, at, actor, action, "request", req.id, coordinator_id=coordinator, **detail)
