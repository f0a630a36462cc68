"""The coordinator's and the interviewer's zone fields use the zone picker: a city,
country or deprecated alias is stored as its zone; an abbreviation asks which one."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.fixtures.webapp import get_csrf
from web.store.db import Database
from web.store.models import Coordinator


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Kolkata", "Asia/Kolkata"),
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("São Paulo", "America/Sao_Paulo"),
        ("nigeria", "Africa/Lagos"),
        ("america/los angeles", "America/Los_Angeles"),
    ],
)
def test_account_zone_by_city(signed_in: Any, db: Database, typed: str, stored: str) -> None:
    page = signed_in.get("/account").get_data(as_text=True)
    assert 'data-zone-suggest="/zones/suggest"' in page and "zonepicker.js" in page
    token = get_csrf(signed_in, "/account")
    resp = signed_in.post("/account", data={"csrf_token": token, "timezone": typed})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with db.session() as s:
        row = s.scalar(select(Coordinator).where(Coordinator.email == "ann@example.com"))
        assert row is not None and row.timezone == stored


def test_an_abbreviation_is_not_guessed(signed_in: Any, db: Database) -> None:
    token = get_csrf(signed_in, "/account")
    resp = signed_in.post("/account", data={"csrf_token": token, "timezone": "IST"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "could mean" in html
    assert "Asia/Kolkata" in html and "Europe/Dublin" in html
    with db.session() as s:
        row = s.scalar(select(Coordinator).where(Coordinator.email == "ann@example.com"))
        assert row is not None and row.timezone == "Europe/London"


def test_the_request_and_interviewer_forms_offer_the_picker(signed_in: Any) -> None:
    for path in ("/requests/new", "/interviewers/new"):
        page = signed_in.get(path)
        assert page.status_code == 200, path
        assert 'data-zone-suggest="/zones/suggest"' in page.get_data(as_text=True), path
