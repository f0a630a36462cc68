"""Coordinators: a request sent without options ("let the candidate choose from live
availability"), and the loop's switch for live options in the candidate's zone."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from tests.fixtures.live import LIVE_RE
from tests.fixtures.webapp import SECRET, get_csrf
from tests.web.test_loops import _form, _ids
from tests.web.test_requests import draft
from web.domain import services
from web.store.db import Database
from web.store.models import Hold, Loop, OfferedOption, OutboxMail, SchedulingRequest


def test_a_request_sent_for_live_availability(signed_in: Any, db: Database, app: Any) -> None:
    rid = draft(signed_in, db)
    page = signed_in.get(f"/requests/{rid}/preview").get_data(as_text=True)
    assert 'name="live"' in page
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    resp = signed_in.post(f"/requests/{rid}/send", data={"csrf_token": token.group(1), "live": "y"})
    assert resp.status_code == 302
    with db.session() as s:
        req = s.get(SchedulingRequest, rid)
        assert req is not None
        assert req.live and req.status == "sent" and req.candidate_tz is None
        assert s.scalar(select(func.count()).select_from(OfferedOption)) == 0
        assert s.scalar(select(func.count()).select_from(Hold)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxMail)) == 1
        link = services.candidate_token(SECRET, req, now=req.sent_at)  # type: ignore[arg-type]
    html = signed_in.get(f"/c/{link}", query_string={"tz": "Asia/Kolkata"}).get_data(as_text=True)
    assert LIVE_RE.search(html) and "These times were planned" not in html
    detail = signed_in.get(f"/requests/{rid}").get_data(as_text=True)
    assert "live request" in detail and "Asia/Kolkata (detected or chosen)" in detail


def test_neither_options_nor_live_is_refused(signed_in: Any, db: Database) -> None:
    rid = draft(signed_in, db)
    token = get_csrf(signed_in, f"/requests/{rid}/preview")
    resp = signed_in.post(f"/requests/{rid}/send", data={"csrf_token": token})
    assert resp.status_code == 400


def test_the_loop_form_switches_the_fallback(signed_in: Any, db: Database) -> None:
    with db.session() as s:
        lid = s.scalar(select(Loop.id).where(Loop.key == "onsite"))
        assert s.get(Loop, lid).live_fallback  # type: ignore[union-attr]  (on by default)
    page = signed_in.get(f"/loops/{lid}/edit").get_data(as_text=True)
    assert re.search(r'<input checked id="live_fallback" name="live_fallback"', page), page
    for key, extra, want in (("off", {}, False), ("on", {"live_fallback": "y"}, True)):
        token = get_csrf(signed_in, "/loops/new")
        data = {**_form(_ids(db), key=key, **extra), "csrf_token": token}
        assert signed_in.post("/loops/new", data=data).status_code == 302
        with db.session() as s:
            assert s.scalar(select(Loop.live_fallback).where(Loop.key == key)) is want
