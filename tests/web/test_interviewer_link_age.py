"""The interviewer's personal link lives ``security.interviewer_link_max_age_days``, counted
from the app's (pinned) now, not the wall clock."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tests.fixtures.webapp import NOW
from web.store.db import Database
from web.store.models import Interviewer


def test_the_personal_link_expires_exactly_at_the_setting(signed_in: Any, db: Database) -> None:
    app = signed_in.application
    days = app.extensions["panelslot.settings"].security.interviewer_link_max_age_days
    with db.session() as s:
        iid = s.scalar(select(Interviewer.id).where(Interviewer.key == "devi"))
    page = signed_in.get(f"/interviewers/{iid}").get_data(as_text=True)
    link = re.search(r'value="http://panelslot.test(/i/[^"]+)"', page)
    assert link
    other = app.test_client()
    app.config["PANELSLOT_NOW"] = NOW + timedelta(days=days)
    assert other.get(link.group(1)).status_code == 200
    app.config["PANELSLOT_NOW"] = NOW + timedelta(days=days, seconds=1)
    assert other.get(link.group(1)).status_code == 404
