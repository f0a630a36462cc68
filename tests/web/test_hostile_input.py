"""Hostile input: zone names that are folders, overlong or hold NUL; file paths as URLs."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.fixtures.webapp import get_csrf
from tests.web.test_requests import _request_form, draft, send
from web.cli import main
from web.store.db import Database
from web.store.models import OutboxMail

HOSTILE = ["Europe", "America", "x" * 300, "Europe/Lon\x00don", "../../etc/passwd"]


@pytest.mark.parametrize("zone", HOSTILE)
def test_the_request_form_names_the_bad_zone(signed_in: Any, db: Database, zone: str) -> None:
    token = get_csrf(signed_in, "/requests/new")
    form = {**_request_form(db, candidate_tz=zone), "csrf_token": token}
    resp = signed_in.post("/requests/new", data=form)
    assert resp.status_code == 400
    assert "not a known time zone" in resp.get_data(as_text=True)


@pytest.mark.parametrize("zone", HOSTILE)
def test_the_candidate_page_ignores_a_bad_tz(
    signed_in: Any, db: Database, app: Any, zone: str
) -> None:
    rid = draft(signed_in, db)
    send(signed_in, rid)
    with db.session() as s:
        body = s.scalar(select(OutboxMail.text_body).where(OutboxMail.request_id == rid))
    path = re.search(r"http://panelslot.test(/c/\S+)", body or "").group(1)  # type: ignore[union-attr]
    page = app.test_client().get(f"{path}?tz={quote(zone)}")
    assert page.status_code in (200, 400)
    assert "Traceback" not in page.get_data(as_text=True)


@pytest.mark.parametrize("zone", ["Europe", "x" * 300])
def test_the_cli_names_the_bad_zone(zone: str, tmp_path: Any) -> None:
    cal = tmp_path / "c.ics"
    cal.write_bytes(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
    args = ["busy", str(cal), "--timezone", zone, "--from", "2027-01-01", "--to", "2027-01-02"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and "unknown time zone" in res.output


@pytest.mark.parametrize("where", ["/etc/passwd", "/proc/self/environ", "file:///etc/passwd"])
def test_the_add_calendar_form_never_takes_a_file(signed_in: Any, db: Database, where: str) -> None:
    from web.store.models import CalendarSource, Interviewer

    with db.session() as s:
        iid = s.scalar(select(Interviewer.id).where(Interviewer.key == "alice"))
    token = get_csrf(signed_in, f"/interviewers/{iid}")
    resp = signed_in.post(
        f"/interviewers/{iid}/calendars", data={"kind": "ics", "url": where, "csrf_token": token}
    )
    assert resp.status_code == 400
    assert "http(s) or webcal URL" in resp.get_data(as_text=True)
    with db.session() as s:
        assert (
            s.scalars(select(CalendarSource.url)).all() == []
            or where not in s.scalars(select(CalendarSource.url)).all()
        )
