"""Fuzz: random text and bytes posted to every form and query argument never give a 500.

Every route of the app is visited with hypothesis-chosen values for the fields its page
names (and a few every page might read), as a signed-in coordinator, as a candidate with a
real link and as an interviewer with a real link. CSRF is switched off here so the values
reach the views; the CSRF check itself is tested elsewhere.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.fixtures.webapp import NOW, PASSWORD, SECRET
from tests.web.test_requests import draft, send
from web.domain.services import candidate_token, interviewer_token
from web.store.db import Database
from web.store.models import Interviewer, SchedulingRequest

SKIP = {"static", "coordinator.logout"}
COMMON = ["tz", "next", "option", "options", "idem", "ranges", "reason", "confirm", "name"]
NAME_RE = re.compile(r'name="([A-Za-z0-9_.\-]+)"')

hostile = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
    st.sampled_from(
        [
            "\x00",
            "Europe",
            "../../etc/passwd",
            "0001-01-01",
            "99999999999",
            "http://[::1",
            "javascript:alert(1)",
            "a\r\nb",
            "-1",
            "1e309",
            "nan",
            "%00",
            "x" * 3000,
        ]
    ),
)
values = st.dictionaries(st.sampled_from(COMMON + ["_"]), hostile, max_size=4)


def _routes(app: Any) -> list[Any]:
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint not in SKIP),
        key=lambda r: r.rule,
    )


def _args(rule: Any, ids: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in rule.arguments:
        if name == "token":
            out[name] = ids["itoken"] if rule.rule.startswith("/i/") else ids["ctoken"]
        elif name == "filename":
            out[name] = "app.css"
        else:
            out[name] = ids["int"]
    return out


@pytest.fixture
def world(app: Any, db: Database, signed_in: Any) -> dict[str, Any]:
    rid = draft(signed_in, db)
    send(signed_in, rid)
    app.config["WTF_CSRF_ENABLED"] = False
    with db.session() as s:
        req = s.get(SchedulingRequest, rid)
        person = s.scalars(select(Interviewer)).first()
        assert req is not None and person is not None
        ctoken = candidate_token(SECRET, req, now=NOW)
        itoken = interviewer_token(SECRET, person, now=NOW)
    return {"int": rid, "ctoken": ctoken, "itoken": itoken}


def login(client: Any) -> None:
    client.post("/login", data={"email": "ann@example.com", "password": PASSWORD})


def _field_names(client: Any, url: str) -> list[str]:
    page = client.get(url)
    if page.status_code != 200 or "html" not in page.content_type:
        return []
    return sorted(set(NAME_RE.findall(page.get_data(as_text=True))) - {"csrf_token"})


def test_no_form_or_query_gives_a_500(app: Any, world: dict[str, Any]) -> None:
    client = app.test_client()
    login(client)
    for rule in _routes(app):
        url = app.url_map.bind("panelslot.test").build(rule.endpoint, _args(rule, world))
        names = _field_names(client, url) if "GET" in rule.methods else []
        _fuzz_one(client, rule, url, names)


def _fuzz_one(client: Any, rule: Any, url: str, names: list[str]) -> None:
    fields = st.dictionaries(st.sampled_from(names or ["_"]), hostile, max_size=6)

    @settings(
        max_examples=8,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(form=fields, query=values)
    def check(form: dict[str, str], query: dict[str, str]) -> None:
        if "POST" in rule.methods:
            resp = client.post(url, data=form, query_string=query)
        else:
            resp = client.get(url, query_string={**form, **query})
        allowed = resp.status_code < 500 or (rule.rule == "/healthz" and resp.status_code == 503)
        assert allowed, (rule.rule, form, query, resp.status_code)
        if resp.status_code == 302 and "/login" in resp.headers.get("Location", ""):
            login(client)  # an action signed us out (or a link page cleared the session)

    check()
