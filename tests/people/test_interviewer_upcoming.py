"""The interviewer's personal page lists upcoming interviews first: the candidate, loop and
session, the local time in the interviewer's zone inside ``<time datetime>`` (UTC), and the
video link; each row has an actions cell (for "can't make it")."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.fixtures.booking import policy
from tests.fixtures.webapp import NOW, get_csrf
from tests.people.helpers import book_first
from web.domain import booking, services
from web.store.db import Database
from web.store.models import Interviewer, Loop

TEMPLATE = "https://meet.example.com/panel-{booking}"


def _page_of(app: Any, db: Database, key: str) -> str:
    with db.session() as s:
        who = s.scalar(select(Interviewer).where(Interviewer.key == key))
        assert who is not None
        return f"/i/{services.interviewer_token(app.config['SECRET_KEY'], who, now=NOW)}"


def _book(db: Database, key: str) -> Any:
    with db.session() as s:
        loop = s.scalar(select(Loop).where(Loop.key == "onsite"))
        assert loop is not None
        loop.video_url_template = TEMPLATE
    return book_first(db, f"upcoming-{key}")


def test_upcoming_interviews_come_first_with_candidate_loop_time_and_video(
    app: Any, client: Any, db: Database, company: Any
) -> None:
    b = _book(db, "first")
    first = b.sessions[0]
    who = first.interviewer
    html = client.get(_page_of(app, db, who.key)).get_data(as_text=True)
    headings = re.findall(r"<h2>([^<]+)</h2>", html)
    assert headings[0] == "Upcoming interviews"
    row = re.search(rf'<tr data-booked-session="{first.id}">(.*?)</tr>', html, re.S)
    assert row is not None
    cells = row.group(1)
    assert "Priya Nair" in cells and f"Backend onsite: {first.session_name}" in cells
    start_z = first.start.strftime("%Y-%m-%dT%H:%M:%SZ")
    local = first.start.astimezone(ZoneInfo(who.timezone))
    assert f'<time datetime="{start_z}">{local:%a %d %b %Y, %H:%M}–' in cells
    assert f'href="https://meet.example.com/panel-r{b.request_id}b{b.id}"' in cells
    assert '<td class="actions">' in cells
    assert f"In your zone, {who.timezone}" in html


def test_cancelled_and_past_interviews_are_not_listed(
    app: Any, client: Any, db: Database, company: Any
) -> None:
    b = _book(db, "cancel")
    first = b.sessions[0]
    page = _page_of(app, db, first.interviewer.key)
    later = first.end + (first.end - first.start)
    app.config["PANELSLOT_NOW"] = later  # the interview is over
    over = client.get(page).get_data(as_text=True)
    app.config["PANELSLOT_NOW"] = NOW
    assert f'data-booked-session="{first.id}"' not in over
    booking.cancel(db, b.request_id, now=NOW, policy=policy(), actor="coordinator:ann@example.com")
    html = client.get(page).get_data(as_text=True)
    assert f'data-booked-session="{first.id}"' not in html and "No interviews booked." in html


def test_a_loop_that_hides_names_shows_no_candidate(
    app: Any, signed_in: Any, db: Database, company: Any
) -> None:
    from tests.web.test_loops import _form as loop_form
    from tests.web.test_loops import _ids as loop_ids

    token = get_csrf(signed_in, "/loops/new")
    assert 'name="hide_candidate_names"' in signed_in.get("/loops/new").get_data(as_text=True)
    data = {**loop_form(loop_ids(db), hide_candidate_names="y"), "csrf_token": token}
    assert signed_in.post("/loops/new", data=data).status_code == 302
    with db.session() as s:
        made = s.scalar(select(Loop).where(Loop.key == "final"))
        assert made is not None and made.hide_candidate_names is True
        onsite = s.scalar(select(Loop).where(Loop.key == "onsite"))
        assert onsite is not None and onsite.hide_candidate_names is False
    b = _book(db, "hidden")
    first = b.sessions[0]
    page = _page_of(app, db, first.interviewer.key)
    assert "Priya Nair" in signed_in.get(page).get_data(as_text=True)
    with db.session() as s:
        onsite = s.scalar(select(Loop).where(Loop.key == "onsite"))
        assert onsite is not None
        onsite.hide_candidate_names = True
    html = signed_in.get(page).get_data(as_text=True)
    row = re.search(rf'<tr data-booked-session="{first.id}">(.*?)</tr>', html, re.S)
    assert row is not None
    assert "Priya Nair" not in html and "name hidden" in row.group(1)
    assert f"Backend onsite: {first.session_name}" in row.group(1)
