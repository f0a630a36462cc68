"""What a dropout is, the loop's repair policy, and what handling one did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from web.store.models import Booking, BookingSession, Loop

CAUSES = ("declined", "conflict", "cant_make_it")
CAUSE_WORDS = {
    "declined": "declined",
    "conflict": "has a new conflict with",
    "cant_make_it": "can't make",
}


class DropoutError(ValueError):
    """A dropout that cannot be taken as given (names the field and the value)."""

    def __init__(self, field: str, value: object, hint: str) -> None:
        self.field, self.value, self.hint = field, value, hint
        super().__init__(f"{field} = {value!r}: {hint}")


@dataclass(frozen=True)
class Dropout:
    """An interviewer who will not sit in a booked session (one ``BookingSession`` row).

    ``cause``: ``declined`` (the calendar or an iTIP REPLY said so), ``conflict`` (a new
    busy time over the session), ``cant_make_it`` (their personal page); ``detail`` says
    where it was seen, for the audit log and the coordinator."""

    booking_session_id: int
    interviewer_id: int
    cause: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.cause not in CAUSES:
            raise DropoutError("cause", self.cause, f"use one of {', '.join(CAUSES)}")


@dataclass(frozen=True)
class RepairPolicy:
    """The loop's rules: replace automatically when the session is more than
    ``min_hours_before`` away and the booking has fewer than ``max_auto_repairs``."""

    auto_repair: bool = True
    min_hours_before: float = 48
    max_auto_repairs: int = 3

    @classmethod
    def of(cls, loop: Loop) -> RepairPolicy:
        return cls(
            auto_repair=bool(loop.auto_repair),
            min_hours_before=float(loop.repair_min_hours_before),
            max_auto_repairs=int(loop.max_auto_repairs),
        )

    def refusal(self, b: Booking, bs: BookingSession, now: datetime) -> str | None:
        """Why this dropout is not repaired automatically, or None when it may be."""
        if not self.auto_repair:
            return "the loop does not repair bookings automatically"
        if bs.start - now <= timedelta(hours=self.min_hours_before):
            return f"the session starts within {self.min_hours_before:g} hours"
        if b.auto_repairs >= self.max_auto_repairs:
            return f"the booking was already repaired {b.auto_repairs} times automatically"
        return None


@dataclass(frozen=True)
class RepairResult:
    """``action``: ``replaced`` (``replacement`` joined), ``escalated`` (the coordinator
    was told), ``ignored`` (nothing to do: already handled, past, not booked)."""

    action: str
    reason: str = ""
    booking_id: int | None = None
    replacement: str | None = None
