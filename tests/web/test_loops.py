"""Loops: list, create and edit sessions, durations, pools, required counts, gaps, buffers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.fixtures.webapp import get_csrf
from web.domain.services import load_loop
from web.store.db import Database
from web.store.models import Interviewer, Loop


def _ids(db: Database) -> dict[str, int]:
    with db.session() as s:
        return {k: i for k, i in s.execute(select(Interviewer.key, Interviewer.id))}


def _form(ids: dict[str, int], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": "final",
        "name": "Final round",
        "order": "fixed",
        "min_gap_minutes": "0",
        "max_gap_minutes": "20",
        "granularity_minutes": "15",
        "min_notice_hours": "48",
        "buffer_before_minutes": "5",
        "buffer_after_minutes": "10",
        "show_interviewer_names": "y",
        "sessions-0-name": "Architecture",
        "sessions-0-duration_minutes": "60",
        "sessions-0-required": "1",
        "sessions-0-pool": [str(ids["alice"]), str(ids["bob"])],
        "sessions-1-name": "Culture",
        "sessions-1-duration_minutes": "30",
        "sessions-1-required": "2",
        "sessions-1-pool": [str(ids["devi"]), str(ids["eli"])],
        "sessions-2-name": "",
        "sessions-2-duration_minutes": "60",
        "sessions-2-required": "1",
    }
    data.update(extra)
    return data


def test_list_shows_sessions_and_pools(signed_in: Any) -> None:
    page = signed_in.get("/loops").get_data(as_text=True)
    assert (
        "Backend onsite" in page
        and "System design, 60 min, 1 of Alice Okafor, Bob Lindqvist" in page
    )


def test_create_loop(signed_in: Any, db: Database) -> None:
    page = signed_in.get("/loops/new").get_data(as_text=True)
    assert 'name="sessions-0-pool"' in page
    token = get_csrf(signed_in, "/loops/new")
    resp = signed_in.post("/loops/new", data={**_form(_ids(db)), "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with db.session() as s:
        lid = s.scalar(select(Loop.id).where(Loop.key == "final"))
        loop = load_loop(s, lid)  # type: ignore[arg-type]
        assert loop is not None
        assert [
            (x.name, x.duration_minutes, x.required, [p.key for p in x.pool]) for x in loop.sessions
        ] == [
            ("Architecture", 60, 1, ["alice", "bob"]),
            ("Culture", 30, 2, ["devi", "eli"]),
        ]
        assert (
            loop.min_notice_hours == 48
            and loop.buffer_before_minutes == 5
            and loop.max_gap_minutes == 20
        )


def test_empty_pool_is_refused(signed_in: Any, db: Database) -> None:
    token = get_csrf(signed_in, "/loops/new")
    data = _form(_ids(db))
    del data["sessions-1-pool"]
    resp = signed_in.post("/loops/new", data={**data, "csrf_token": token})
    assert resp.status_code == 400
    assert "session &#39;Culture&#39;: its pool is empty" in resp.get_data(as_text=True)


def test_required_more_than_pool_is_refused(signed_in: Any, db: Database) -> None:
    token = get_csrf(signed_in, "/loops/new")
    resp = signed_in.post(
        "/loops/new", data={**_form(_ids(db), **{"sessions-1-required": "3"}), "csrf_token": token}
    )
    assert resp.status_code == 400 and "3 required but only 2 in the pool" in resp.get_data(
        as_text=True
    )


def test_no_sessions_and_bad_gaps_are_refused(signed_in: Any, db: Database) -> None:
    token = get_csrf(signed_in, "/loops/new")
    data = _form(
        _ids(db), **{"sessions-0-name": "", "sessions-1-name": "", "min_gap_minutes": "30"}
    )
    resp = signed_in.post("/loops/new", data={**data, "csrf_token": token})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "add at least one session" in body and "must be at least the min gap" in body


def test_edit_loop_keeps_then_changes_sessions(signed_in: Any, db: Database) -> None:
    with db.session() as s:
        lid = s.scalar(select(Loop.id).where(Loop.key == "onsite"))
    page = signed_in.get(f"/loops/{lid}/edit").get_data(as_text=True)
    assert 'value="System design"' in page and 'value="Coding"' in page
    token = get_csrf(signed_in, f"/loops/{lid}/edit")
    data = _form(_ids(db), key="onsite", name="Backend onsite v2")
    assert (
        signed_in.post(f"/loops/{lid}/edit", data={**data, "csrf_token": token}).status_code == 302
    )
    with db.session() as s:
        loop = load_loop(s, lid)  # type: ignore[arg-type]
        assert loop is not None and loop.name == "Backend onsite v2"
        assert [x.name for x in loop.sessions] == ["Architecture", "Culture"]


def test_duplicate_loop_id_refused(signed_in: Any, db: Database) -> None:
    token = get_csrf(signed_in, "/loops/new")
    resp = signed_in.post("/loops/new", data={**_form(_ids(db), key="onsite"), "csrf_token": token})
    assert resp.status_code == 400 and "a loop with id" in resp.get_data(as_text=True)


def test_unknown_loop_404(signed_in: Any) -> None:
    assert signed_in.get("/loops/424242/edit").status_code == 404
