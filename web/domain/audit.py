"""The audit trail: who did what, when (one writer for the views and the use cases)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from web.store.models import AuditLog


@dataclass(frozen=True)
class Actor:
    """Who acts: ``name`` as the audit log shows it ("coordinator:ana@example.com")."""

    name: str
    coordinator_id: int | None = None


def record(
    s: Session,
    now: datetime,
    actor: str,
    action: str,
    obj_type: str = "",
    obj_id: object = "",
    *,
    coordinator_id: int | None = None,
    **detail: Any,
) -> None:
    """Add one audit row (the caller commits)."""
    s.add(
        AuditLog(
            at=now,
            actor=actor,
            coordinator_id=coordinator_id,
            action=action,
            object_type=obj_type,
            object_id=str(obj_id),
            detail=detail,
        )
    )


def record_by(
    s: Session, now: datetime, who: Actor, action: str, obj_type: str, obj_id: object, **detail: Any
) -> None:
    """:func:`record` for an :class:`Actor`."""
    record(s, now, who.name, action, obj_type, obj_id, coordinator_id=who.coordinator_id, **detail)
