"""A mail that failed for good is told to the coordinator on the request page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.web.test_requests import draft, send
from web.store.db import Database
from web.store.models import OutboxMail


def test_the_request_page_says_which_mail_failed(signed_in: Any, db: Database) -> None:
    rid = draft(signed_in, db)
    send(signed_in, rid)
    with db.session() as s:
        mail = s.scalars(select(OutboxMail).where(OutboxMail.request_id == rid)).first()
        assert mail is not None
        mail.status, mail.last_error = "failed", "550 5.1.1 mailbox unavailable"
        s.commit()
    page = signed_in.get(f"/requests/{rid}").get_data(as_text=True)
    assert "could not be delivered: 550 5.1.1 mailbox unavailable" in page
    assert "priya@candidate.example" in page
