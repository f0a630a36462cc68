"""The request page: a dropout the coordinator must handle is a notice with "Find new
times"; the swap form is CSRF-protected and its POST re-checks the choice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tests.fixtures.booking import interviewer_id, policy
from tests.fixtures.webapp import NOW, csrf_of, get_csrf
from tests.repair.test_handle import _book, _seat, design_option
from web.domain import repair
from web.store.db import Database
from web.store.models import BookingSession


def test_notice_and_find_new_times(db: Database, signed_in: Any) -> None:
    rid, bid = _book(db, options=[design_option()])
    seat, alice, _ = _seat(db, bid, "System design")
    with db.session() as s:
        start = s.get(BookingSession, seat).start  # type: ignore[union-attr]
    d = repair.Dropout(seat, alice, "declined", "declined in Google Calendar")
    assert repair.handle_dropout(db, d, start - timedelta(hours=5), policy()).action == "escalated"
    html = signed_in.get(f"/requests/{rid}").get_data(as_text=True)
    assert "Alice Okafor declined System design" in html
    assert "Not repaired automatically: the session starts within 48 hours" in html
    assert f'href="/requests/{rid}/reschedule">Find new times</a>' in html
    assert signed_in.get(f"/requests/{rid}/reschedule").status_code == 200


def test_swap_post_needs_csrf_and_rechecks(db: Database, signed_in: Any) -> None:
    rid, bid = _book(db, options=[design_option()])
    seat, alice, _ = _seat(db, bid, "System design")
    form = {"seat": seat, "leaver": alice, "joiner": interviewer_id(db, "eli")}
    assert signed_in.post(f"/requests/{rid}/swap", data=form).status_code == 400  # no CSRF
    token = get_csrf(signed_in, f"/requests/{rid}")
    resp = signed_in.post(f"/requests/{rid}/swap", data={**form, "csrf_token": token})
    assert resp.status_code == 302
    page = signed_in.get(f"/requests/{rid}").get_data(as_text=True)
    assert "Not swapped: Eli Goldberg cannot take that session now" in page
    with db.session() as s:
        row = s.scalar(select(BookingSession).where(BookingSession.id == seat))
        assert row is not None and row.interviewer.key == "alice"
    bad = signed_in.post(f"/requests/{rid}/swap", data={"seat": "x", "csrf_token": token})
    assert bad.status_code == 302


def _alice_page(app: Any, db: Database) -> str:
    from web.domain import services
    from web.store.models import Interviewer

    with db.session() as s:
        alice = s.scalar(select(Interviewer).where(Interviewer.key == "alice"))
        assert alice is not None
        return f"/i/{services.interviewer_token(app.config['SECRET_KEY'], alice, now=NOW)}"


def test_cant_make_it_on_the_personal_page(
    app: Any, client: Any, db: Database, company: Any
) -> None:
    rid, bid = _book(db, options=[design_option()])
    seat, alice, _ = _seat(db, bid, "System design")
    page = _alice_page(app, db)
    html = client.get(page).get_data(as_text=True)
    action = f"{page}/cant-make-it/{seat}"
    assert f'action="{action}"' in html and "Can&#39;t make it" in html
    assert client.post(action).status_code == 400  # CSRF
    token = csrf_of(html)
    assert client.post(f"{page}/cant-make-it/999999", data={"csrf_token": token}).status_code == 404
    resp = client.post(action, data={"csrf_token": token})
    assert resp.status_code == 302
    assert "someone else from the pool takes your place" in client.get(page).get_data(as_text=True)
    with db.session() as s:
        row = s.get(BookingSession, seat)
        assert row is not None and row.interviewer.key == "bob"
    assert f'action="{action}"' not in client.get(page).get_data(as_text=True)
