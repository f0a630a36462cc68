"""Why a booking operation was refused, and what a successful one returns."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)


class BookingError(Exception):
    """A booking operation refused; ``kind`` says why, ``message`` is one line for people."""

    kind = "error"

    def __init__(self, message: str, *, problems: Sequence[str] = ()) -> None:
        self.message = message
        self.problems = tuple(problems)
        super().__init__(message)


class OptionTaken(BookingError):
    """The option is no longer free (another booking won, or a calendar changed)."""

    kind = "taken"


class OptionUnknown(BookingError):
    """The option id is not one offered on this request."""

    kind = "unknown"


class BookingClosed(BookingError):
    """The request cannot take this operation now (not open, not booked, past the cut-off)."""

    kind = "closed"


@dataclass(frozen=True)
class Outcome:
    booking_id: int
    created: bool  # False: the idempotency key had booked this already
    status: str
