"""'Sync now' and 'none of these work' are rate limited per (thing, address), like sign-in."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from tests.fixtures.webapp import get_csrf
from web.store.db import Database
from web.store.models import Interviewer, JobRequest
from web.ui.auth import SYNC_NOW_LIMIT


def test_sync_now_is_limited(signed_in: Any, db: Database) -> None:
    with db.session() as s:
        iid = s.scalar(select(Interviewer.id).where(Interviewer.key == "alice"))
    for _ in range(SYNC_NOW_LIMIT + 3):
        token = get_csrf(signed_in, f"/interviewers/{iid}")
        resp = signed_in.post(f"/interviewers/{iid}/sync", data={"csrf_token": token})
        assert resp.status_code == 302
    with db.session() as s:
        queued = s.scalars(select(JobRequest).where(JobRequest.kind == "sync_interviewer")).all()
    assert len(queued) <= SYNC_NOW_LIMIT
    page = signed_in.get(f"/interviewers/{iid}").get_data(as_text=True)
    assert "Synced often already" in page


def test_none_of_these_work_is_limited(signed_in: Any, db: Database, app: Any) -> None:
    from tests.web.test_requests import draft, send
    from web.store.models import OutboxMail

    rid = draft(signed_in, db)
    send(signed_in, rid)
    with db.session() as s:
        body = s.scalar(select(OutboxMail.text_body).where(OutboxMail.request_id == rid))
    path = re.search(r"http://panelslot.test(/c/\S+)", body or "").group(1)  # type: ignore[union-attr]
    candidate = app.test_client()
    codes = []
    for _ in range(8):
        page = candidate.get(path).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        token = token or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
        assert token is not None
        resp = candidate.post(
            f"{path}/none", data={"csrf_token": token.group(1), "ranges": "Tue 9-12"}
        )
        codes.append(resp.status_code)
    assert codes.count(429) >= 3 and 500 not in codes
