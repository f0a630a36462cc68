"""``/api/v1``: Bearer-token auth, per-token rate limit, audit of every call, the read
resources with cursor pagination and the loop search (the CLI's option JSON)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from web.domain.audit import record
from web.domain.usecases import api_tokens
from web.domain.usecases.coordinators import SigninLimit
from web.store.api_models import ApiToken
from web.store.models import Interviewer, Loop, LoopSession, SchedulingRequest
from web.ui.api import resources as res
from web.ui.api.problems import ApiProblem
from web.ui.helpers import db_session, now

bp = Blueprint("api", __name__, url_prefix="/api/v1")
RATE_WINDOW = timedelta(minutes=1)
DEFAULT_RATE = 120  # calls per token per minute; app.config["API_RATE_LIMIT"] changes it
PUBLIC = ("api.openapi",)


def _token() -> ApiToken:
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    row = None
    if scheme.lower() == "bearer" and presented.strip():
        row = api_tokens.token_for(db_session(), presented.strip())
    if row is None:
        raise ApiProblem(
            401,
            "send a live API token as 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": 'Bearer realm="panelslot"'},
        )
    return row


@bp.before_request
def _authenticate() -> None:
    if request.endpoint in PUBLIC:
        return
    row = _token()
    g.api_token_id = row.id
    s = db_session()
    limit = SigninLimit(RATE_WINDOW, int(current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE)))
    if not api_tokens.admit_call(s, row.id, limit, now()):
        seconds = str(int(RATE_WINDOW.total_seconds()))
        raise ApiProblem(
            429, f"more than {limit.max_failures} calls a minute", headers={"Retry-After": seconds}
        )
    row = s.get(ApiToken, row.id) or row
    row.last_used_at = now()
    s.commit()
    g.api_token = row
    if "read" not in row.scopes:
        raise ApiProblem(403, "this token lacks the 'read' scope")


def _audit(resp: Response) -> Response:
    """Every call under /api/v1 is audited: token id, method, path, status (no secret)."""
    if not request.path.startswith(bp.url_prefix or "/api/v1"):
        return resp
    token_id = g.get("api_token_id")
    owner = g.api_token.coordinator_id if "api_token" in g else None
    s = db_session()
    s.rollback()  # what the call left uncommitted (an error) is not written with it
    record(
        s,
        now(),
        f"api_token:{token_id}" if token_id else "api",
        "api.call",
        "api_token",
        token_id or "",
        coordinator_id=owner,
        method=request.method,
        path=request.path,
        status=resp.status_code,
    )
    s.commit()
    return resp


def _list(query: Any, column: Any, serialize: Any) -> dict[str, Any]:
    limit = res.parse_limit(request.args.get("limit"))
    return res.page(
        db_session(), query, column, serialize, limit=limit, cursor=request.args.get("cursor")
    )


def _one(row: Any, what: str, rid: int) -> Any:
    if row is None:
        raise ApiProblem(404, f"no {what} has id {rid}")
    return row


@bp.get("/interviewers")
def interviewers() -> dict[str, Any]:
    return _list(select(Interviewer), Interviewer.id, res.interviewer_json)


@bp.get("/interviewers/<int:iid>")
def interviewer(iid: int) -> dict[str, Any]:
    return res.interviewer_json(_one(db_session().get(Interviewer, iid), "interviewer", iid))


def _loops() -> Any:
    return select(Loop).options(selectinload(Loop.sessions).selectinload(LoopSession.pool))


@bp.get("/loops")
def loops() -> dict[str, Any]:
    return _list(_loops(), Loop.id, res.loop_json)


@bp.get("/loops/<int:lid>")
def loop(lid: int) -> dict[str, Any]:
    row = db_session().scalar(_loops().where(Loop.id == lid))
    return res.loop_json(_one(row, "loop", lid))


def _own_requests() -> Any:
    return select(SchedulingRequest).where(
        SchedulingRequest.coordinator_id == g.api_token.coordinator_id
    )


@bp.get("/requests")
def requests_() -> dict[str, Any]:
    return _list(_own_requests(), SchedulingRequest.id, res.request_json)


@bp.get("/requests/<int:rid>")
def request_(rid: int) -> dict[str, Any]:
    row = db_session().scalar(_own_requests().where(SchedulingRequest.id == rid))
    return res.request_json(_one(row, "request", rid))


def register(app: Flask, csrf: Any) -> None:
    """The API on ``app``: its routes, CSRF exempt (tokens, not cookies), audited."""
    from web.ui.api import openapi, search  # noqa: F401  (their routes join the blueprint)

    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.after_request(_audit)
