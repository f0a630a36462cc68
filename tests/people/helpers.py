"""What the people tests share: a request sent and its first option booked."""

from __future__ import annotations

from typing import Any

from tests.fixtures.booking import policy, request_row, send_request
from tests.fixtures.webapp import NOW
from web.domain import booking
from web.domain.booking import BookingPolicy
from web.store.db import Database
from web.store.models import Booking


def book_first(db: Database, key: str, pol: BookingPolicy | None = None, **sending: Any) -> Booking:
    """Send a request (``send_request``'s defaults: Priya Nair, the onsite loop) and book its
    first option with the idempotency key ``key``; the booking, its people loaded."""
    sent = send_request(db, **sending)
    booking.book(
        db,
        sent.request_id,
        sent.option_ids[0],
        idempotency_key=f"people13-{key}",
        candidate_tz="Asia/Kolkata",
        now=NOW,
        policy=pol or policy(live_check=False),
    )
    return request_row(db, sent.request_id).bookings[0]
