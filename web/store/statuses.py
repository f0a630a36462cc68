"""One status enum per state machine (request, booking, job, mail); the database checks them."""

from __future__ import annotations

from enum import StrEnum


class RequestStatus(StrEnum):
    """A scheduling request, in the order it normally moves."""

    DRAFT = "draft"
    SENT = "sent"
    OPENED = "opened"
    BOOKED = "booked"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class BookingStatus(StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    REPLACED = "replaced"


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class MailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"  # a reminder withdrawn with its booking


# The candidate may book: the link went out and nothing is booked yet.
AWAITING_CANDIDATE = frozenset({RequestStatus.SENT, RequestStatus.OPENED})
# Booked, first time or after a reschedule.
BOOKED = frozenset({RequestStatus.BOOKED, RequestStatus.RESCHEDULED})
# Not decided yet, so it can still expire: a draft or a request awaiting the candidate.
UNDECIDED = frozenset({RequestStatus.DRAFT}) | AWAITING_CANDIDATE


def check_sql(column: str, enum: type[StrEnum]) -> str:
    """The CHECK constraint's SQL that keeps ``column`` inside ``enum``'s values."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"
