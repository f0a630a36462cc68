"""The export never carries a private feed URL (a capability): it is shown redacted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from web.store.db import Database
from web.store.models import CalendarSource, Interviewer

SECRET = "private-9f8e7d6c5b4a"


def test_the_export_redacts_feed_urls(signed_in: Any, db: Database) -> None:
    url = f"https://calendar.example.com/ical/alice%40x/{SECRET}/basic.ics"
    with db.session() as s:
        alice = s.scalar(select(Interviewer).where(Interviewer.key == "alice"))
        assert alice is not None
        alice.calendars.append(CalendarSource(kind="ics", label="work", url=url))
        s.commit()
    text = signed_in.get("/export.toml").get_data(as_text=True)
    assert SECRET not in text and "calendar.example.com" in text and "basic.ics" in text
