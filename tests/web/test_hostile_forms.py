"""Hostile form input: NUL bytes, line breaks in names, javascript: links, huge ids and rows,
dates in year 1 or 9999. Each is a 4xx page or cleaned input, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.fixtures.webapp import get_csrf
from tests.web.test_loops import _form, _ids
from tests.web.test_requests import _request_form
from web.store.db import Database
from web.store.models import Loop, SchedulingRequest
from web.ui.forms import one_line
from web.ui.helpers import MAX_ID, parse_id


def _post_loop(client: Any, db: Database, **extra: Any) -> Any:
    token = get_csrf(client, "/loops/new")
    return client.post("/loops/new", data={**_form(_ids(db), **extra), "csrf_token": token})


def test_nul_bytes_in_the_sign_in_form_are_a_plain_refusal(client: Any, company: Any) -> None:
    token = get_csrf(client, "/login")
    data = {"email": "ann@exa\x00mple.com", "password": "x\x00y", "csrf_token": token}
    assert client.post("/login", data=data).status_code == 401


def test_a_name_with_line_breaks_is_stored_on_one_line(signed_in: Any, db: Database) -> None:
    resp = _post_loop(signed_in, db, name="Final\r\nBcc: victim@example.com")
    assert resp.status_code == 302
    with db.session() as s:
        name = s.scalar(select(Loop.name).where(Loop.key == "final"))
    assert name is not None and "\n" not in name and "\r" not in name


@pytest.mark.parametrize(
    "template", ["javascript:alert(document.cookie)", "data:text/html,x", "https://a b/"]
)
def test_a_video_template_that_is_not_a_web_link_is_refused(
    signed_in: Any, db: Database, template: str
) -> None:
    resp = _post_loop(signed_in, db, video_url_template=template)
    assert resp.status_code == 400
    with db.session() as s:
        assert s.scalar(select(Loop.id).where(Loop.key == "final")) is None


def test_a_stored_javascript_template_never_becomes_a_link(db: Database, company: Any) -> None:
    from web.domain.booking.video import template_url

    with db.session() as s:
        loop = s.scalars(select(Loop)).first()
        assert loop is not None
        loop.video_url_template = "javascript:alert(1)//{booking}"
        req = SchedulingRequest(loop=loop, id=5)

        class B:
            uid_base = "u1"

        assert template_url(req, B()) == ""  # type: ignore[arg-type]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_dates_in_year_1_or_9999_are_refused(signed_in: Any, db: Database, day: str) -> None:
    token = get_csrf(signed_in, "/requests/new")
    form = {**_request_form(db, date_from=day, date_to=day), "csrf_token": token}
    resp = signed_in.post("/requests/new", data=form)
    assert resp.status_code == 400 and "between 2000 and 2200" in resp.get_data(as_text=True)


@pytest.mark.parametrize("rid", ["2147483648", "99999999999", "9" * 40])
def test_ids_beyond_the_integer_range_are_not_found(signed_in: Any, rid: str) -> None:
    assert signed_in.get(f"/requests/{rid}").status_code == 404
    assert signed_in.get(f"/interviewers/{rid}").status_code == 404


def test_sixteen_thousand_session_rows_are_capped(signed_in: Any, db: Database) -> None:
    rows = {f"sessions-{n}-name": f"s{n}" for n in range(16_000)}
    resp = _post_loop(signed_in, db, **rows)
    assert resp.status_code in (302, 400, 413)


def test_parse_id_and_one_line() -> None:
    assert parse_id("42") == 42 and parse_id(str(MAX_ID + 1)) is None and parse_id("-1") is None
    assert parse_id("٣") is None and parse_id(None) is None
    assert one_line("a\r\nb\x00c\td") == "a bc d"
