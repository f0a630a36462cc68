"""REST API v1 (issue 15): tokens made on the account page, Bearer auth, scopes, cursor
pagination, the loop search in the CLI's JSON, problem details, rate limit, idempotency,
audit, and the OpenAPI document validated by openapi-spec-validator."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from openapi_spec_validator import validate
from sqlalchemy import select

from tests.fixtures.webapp import NOW, get_csrf
from web.domain.usecases import api_tokens
from web.store.api_models import ApiIdempotency, ApiToken
from web.store.db import Database
from web.store.models import AuditLog, Loop, SchedulingRequest, SigninAttempt

TOKEN_RE = re.compile(r'<code class="token">(pst_[A-Za-z0-9_-]+)</code>')
SEARCH = {"from": "2027-03-03", "to": "2027-03-05", "candidate_tz": "Asia/Kolkata"}


def make_token(client: Any, scopes: tuple[str, ...] = ("read",), name: str = "ats") -> str:
    csrf = get_csrf(client, "/account/tokens")
    resp = client.post(
        "/account/tokens", data={"name": name, "scopes": list(scopes), "csrf_token": csrf}
    )
    assert resp.status_code == 200
    m = TOKEN_RE.search(resp.get_data(as_text=True))
    assert m, "the new token is shown once"
    return m.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def is_problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json(force=True)
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["status"] == status and "Traceback" not in body["detail"]
    return body  # type: ignore[no-any-return]


def test_a_token_is_shown_once_stored_hashed_and_can_be_revoked(signed_in: Any, db: Database):
    token = make_token(signed_in)
    with db.session() as s:
        row = s.scalars(select(ApiToken)).one()
        assert token not in (row.secret_hash, row.prefix) and len(row.secret_hash) == 64
        assert row.last_used_at is None
    page = signed_in.get("/account/tokens").get_data(as_text=True)
    assert token not in page
    assert signed_in.get("/api/v1/loops", headers=bearer(token)).status_code == 200
    with db.session() as s:
        assert s.scalars(select(ApiToken)).one().last_used_at is not None
    csrf = get_csrf(signed_in, "/account/tokens")
    assert (
        signed_in.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": csrf}).status_code
        == 302
    )
    is_problem(signed_in.get("/api/v1/loops", headers=bearer(token)), 401)


def test_creating_a_token_needs_the_csrf_token_and_a_known_scope(signed_in: Any, db: Database):
    assert (
        signed_in.post("/account/tokens", data={"name": "x", "scopes": "read"}).status_code == 400
    )
    csrf = get_csrf(signed_in, "/account/tokens")
    resp = signed_in.post(
        "/account/tokens", data={"name": "x", "scopes": "root", "csrf_token": csrf}
    )
    assert resp.status_code == 422 and "scopes" in resp.get_data(as_text=True)
    with db.session() as s:
        assert s.scalars(select(ApiToken)).all() == []


def test_no_wrong_or_unscoped_token_gets_in(signed_in: Any):
    is_problem(signed_in.get("/api/v1/interviewers"), 401)
    is_problem(signed_in.get("/api/v1/interviewers", headers=bearer("pst_abc_def")), 401)
    token = make_token(signed_in)
    wrong = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    is_problem(signed_in.get("/api/v1/interviewers", headers=bearer(wrong)), 401)
    book_only = make_token(signed_in, ("book",))
    is_problem(signed_in.get("/api/v1/interviewers", headers=bearer(book_only)), 403)


def test_lists_page_by_cursor_and_one_by_id(signed_in: Any):
    h = bearer(make_token(signed_in))
    first = signed_in.get("/api/v1/interviewers?limit=3", headers=h).get_json()
    assert len(first["data"]) == 3 and first["next_cursor"]
    rest = signed_in.get(f"/api/v1/interviewers?limit=3&cursor={first['next_cursor']}", headers=h)
    second = rest.get_json()
    assert [r["key"] for r in first["data"] + second["data"]] == ["alice", "bob", "devi", "eli"]
    assert second["next_cursor"] is None
    one = signed_in.get(f"/api/v1/interviewers/{first['data'][1]['id']}", headers=h).get_json()
    assert one == first["data"][1]
    loops = signed_in.get("/api/v1/loops", headers=h).get_json()["data"]
    assert loops[0]["sessions"][0] == {
        "name": "System design",
        "duration_minutes": 60,
        "required": 1,
        "interviewers": ["alice", "bob"],
    }
    is_problem(signed_in.get("/api/v1/loops/999999", headers=h), 404)
    is_problem(signed_in.get("/api/v1/loops?cursor=%%%", headers=h), 400)
    is_problem(signed_in.get("/api/v1/loops?limit=0", headers=h), 400)
    is_problem(signed_in.delete("/api/v1/loops", headers=h), 405)
    is_problem(signed_in.get("/api/v1/nothing", headers=h), 404)


def test_requests_are_the_token_owners_only(signed_in: Any, db: Database, company: dict[str, int]):
    from tests.web.test_requests import draft

    mine = draft(signed_in, db)
    with db.session() as s:
        theirs = s.get(SchedulingRequest, mine)
        assert theirs is not None
        other = SchedulingRequest(
            coordinator_id=company["zed"],
            loop_id=theirs.loop_id,
            candidate_name="Z",
            candidate_email="z@example.com",
            date_from=theirs.date_from,
            date_to=theirs.date_to,
            token_nonce="n",
        )
        s.add(other)
        s.flush()
        other_id = other.id
    h = bearer(make_token(signed_in))
    data = signed_in.get("/api/v1/requests", headers=h).get_json()["data"]
    assert [r["id"] for r in data] == [mine]
    assert data[0]["candidate_hours"] == "08:00-20:00" and data[0]["from"] == "2027-03-03"
    is_problem(signed_in.get(f"/api/v1/requests/{other_id}", headers=h), 404)


def _loop_id(db: Database, key: str = "onsite") -> int:
    with db.session() as s:
        return s.scalar(select(Loop.id).where(Loop.key == key))  # type: ignore[return-value]


def test_search_returns_the_option_json_of_the_cli(signed_in: Any, db: Database):
    h = bearer(make_token(signed_in))
    resp = signed_in.post(
        f"/api/v1/loops/{_loop_id(db)}/search", json={**SEARCH, "limit": 3}, headers=h
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"options"} and len(body["options"]) == 3
    opt = body["options"][0]
    assert set(opt) == {"score", "sessions"}
    assert set(opt["sessions"][0]) == {"name", "start", "end", "interviewers"}
    assert opt["sessions"][0]["start"].endswith("Z")


def test_search_explains_when_nothing_fits(signed_in: Any, db: Database):
    h = bearer(make_token(signed_in))
    body = {**SEARCH, "candidate_hours": "02:00-03:00", "candidate_tz": "Pacific/Kiritimati"}
    resp = signed_in.post(f"/api/v1/loops/{_loop_id(db)}/search", json=body, headers=h)
    out = resp.get_json()
    assert out["options"] == [] and out["why"] and "suggestions" in out


def test_search_refuses_bad_input_with_the_field(signed_in: Any, db: Database):
    h = bearer(make_token(signed_in))
    url = f"/api/v1/loops/{_loop_id(db)}/search"
    assert (
        is_problem(
            signed_in.post(url, json={**SEARCH, "candidate_tz": "Mars/Base"}, headers=h), 422
        )["field"]
        == "candidate_tz"
    )
    assert (
        is_problem(signed_in.post(url, json={**SEARCH, "to": "2027-03-01"}, headers=h), 422)[
            "field"
        ]
        == "to"
    )
    assert (
        is_problem(signed_in.post(url, json={**SEARCH, "limit": -1}, headers=h), 422)["field"]
        == "limit"
    )
    assert (
        is_problem(signed_in.post(url, json={**SEARCH, "colour": 1}, headers=h), 422)["field"]
        == "colour"
    )
    is_problem(
        signed_in.post(url, data="{not json", headers=h, content_type="application/json"), 400
    )
    is_problem(signed_in.post("/api/v1/loops/999999/search", json=SEARCH, headers=h), 404)
    huge = json.dumps({**SEARCH, "pad": "x" * (1024 * 1024)})
    is_problem(signed_in.post(url, data=huge, headers=h, content_type="application/json"), 413)


def test_idempotency_key_replays_and_refuses_another_body(signed_in: Any, db: Database):
    h = {**bearer(make_token(signed_in)), "Idempotency-Key": "k-1"}
    url = f"/api/v1/loops/{_loop_id(db)}/search"
    first = signed_in.post(
        url, data=json.dumps({**SEARCH, "limit": 2}), headers=h, content_type="application/json"
    )
    again = signed_in.post(
        url, data=json.dumps({**SEARCH, "limit": 2}), headers=h, content_type="application/json"
    )
    assert first.status_code == again.status_code == 200
    assert first.get_data() == again.get_data()
    is_problem(signed_in.post(url, json={**SEARCH, "limit": 1}, headers=h), 409)
    other = {**bearer(make_token(signed_in, name="other")), "Idempotency-Key": "k-1"}
    assert signed_in.post(url, json={**SEARCH, "limit": 1}, headers=other).status_code == 200


def test_idempotency_keys_are_forgotten_after_a_day(signed_in: Any, db: Database):
    h = {**bearer(make_token(signed_in)), "Idempotency-Key": "k-day"}
    url = f"/api/v1/loops/{_loop_id(db)}/search"
    assert signed_in.post(url, json={**SEARCH, "limit": 2}, headers=h).status_code == 200
    with db.session() as s:
        assert api_tokens.prune_idempotency(s, NOW + timedelta(hours=23)) == 0
    is_problem(signed_in.post(url, json={**SEARCH, "limit": 1}, headers=h), 409)
    with db.session() as s:
        assert api_tokens.prune_idempotency(s, NOW + timedelta(hours=25)) == 1
        assert s.scalars(select(ApiIdempotency)).all() == []
    assert signed_in.post(url, json={**SEARCH, "limit": 1}, headers=h).status_code == 200


def test_rate_limit_per_token_says_when_to_retry(signed_in: Any, app: Any, db: Database):
    app.config["API_RATE_LIMIT"] = 2
    h = bearer(make_token(signed_in))
    assert [signed_in.get("/api/v1/loops", headers=h).status_code for _ in range(2)] == [200, 200]
    resp = signed_in.get("/api/v1/loops", headers=h)
    is_problem(resp, 429)
    assert int(resp.headers["Retry-After"]) > 0
    other = bearer(make_token(signed_in, name="b"))
    assert signed_in.get("/api/v1/loops", headers=other).status_code == 200
    app.config["PANELSLOT_NOW"] = NOW + timedelta(minutes=1, seconds=1)
    assert signed_in.get("/api/v1/loops", headers=h).status_code == 200
    with db.session() as s:  # the calls before the window are forgotten
        kept = s.scalars(select(SigninAttempt.at).where(SigninAttempt.email == "api")).all()
        assert len(kept) == 2  # the other token's one call, and this one


def test_every_call_is_audited_without_the_secret(signed_in: Any, db: Database):
    token = make_token(signed_in)
    signed_in.get("/api/v1/loops", headers=bearer(token))
    signed_in.get("/api/v1/loops/999999", headers=bearer(token))
    signed_in.get("/api/v1/loops")
    with db.session() as s:
        rows = s.scalars(
            select(AuditLog).where(AuditLog.action == "api.call").order_by(AuditLog.id)
        ).all()
        tid = s.scalars(select(ApiToken.id)).one()
        seen = [
            (r.object_id, r.detail["method"], r.detail["path"], r.detail["status"]) for r in rows
        ]
        assert seen == [
            (str(tid), "GET", "/api/v1/loops", 200),
            (str(tid), "GET", "/api/v1/loops/999999", 404),
            ("", "GET", "/api/v1/loops", 401),
        ]
        everything = json.dumps([[r.actor, r.detail] for r in s.scalars(select(AuditLog))])
        assert token not in everything and token.split("_", 2)[2] not in everything


def test_the_openapi_document_validates_and_names_the_resources(client: Any):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.get_json()
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    assert {"/api/v1/interviewers", "/api/v1/loops/{id}", "/api/v1/loops/{id}/search"} <= set(
        doc["paths"]
    )
    assert {"Interviewer", "Loop", "Request", "Problem", "SearchResult"} <= set(
        doc["components"]["schemas"]
    )


def test_search_answers_what_panelslot_slots_json_prints(
    signed_in: Any, db: Database, tmp_path: Any
) -> None:
    from click.testing import CliRunner

    from web.cli import main
    from web.domain.importer import export_toml

    with db.session() as s:
        config = tmp_path / "company.toml"
        config.write_text(export_toml(s))
    args = ["slots", str(config), "--loop", "onsite", "--from", SEARCH["from"], "--to"]
    args += [SEARCH["to"], "--candidate-tz", SEARCH["candidate_tz"], "--limit", "5"]
    cli = CliRunner().invoke(main, [*args, "--now", NOW.isoformat(), "--json"])
    assert cli.exit_code == 0, cli.output
    h = bearer(make_token(signed_in))
    url = f"/api/v1/loops/{_loop_id(db)}/search"
    api = signed_in.post(url, json={**SEARCH, "limit": 5}, headers=h).get_json()
    assert api == json.loads(cli.output) and len(api["options"]) == 5


def test_an_unexpected_error_is_a_problem_without_a_traceback(app: Any, client: Any):
    def boom() -> str:
        raise RuntimeError("secret internals")

    app.add_url_rule("/api/v1/boom", "boom", boom)
    body = is_problem(client.get("/api/v1/boom"), 500)
    assert "secret internals" not in json.dumps(body)


def test_api_answers_are_never_cached(signed_in: Any, app: Any):
    token = make_token(signed_in)
    resp = app.test_client().get("/api/v1/loops", headers=bearer(token))  # no cookie
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "private, no-store"
