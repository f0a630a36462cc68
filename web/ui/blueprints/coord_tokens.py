"""The coordinator's API tokens: create (shown once), list with last use, revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WResponse

from web.domain.usecases import api_tokens
from web.ui import auth
from web.ui.helpers import db_session, now

bp = Blueprint("coord_tokens", __name__)


def _page(new_token: str | None = None, error: str | None = None) -> tuple[str, int]:
    rows = api_tokens.own_tokens(db_session(), auth.me().id)
    html = render_template(
        "coord/tokens.html",
        rows=rows,
        scopes=api_tokens.SCOPES,
        new_token=new_token,
        error=error,
    )
    return html, 422 if error else 200


@bp.get("/account/tokens")
@auth.login_required
def tokens() -> tuple[str, int]:
    return _page()


@bp.post("/account/tokens")
@auth.login_required
def token_create() -> tuple[str, int]:
    s = db_session()
    scopes = request.form.getlist("scopes")
    try:
        made = api_tokens.create_token(
            s, auth.me().id, request.form.get("name", ""), scopes, auth.actor(), now()
        )
    except api_tokens.TokenProblem as exc:
        s.rollback()
        return _page(error=str(exc))
    s.commit()
    return _page(new_token=made.token)  # shown this once: only its hash is kept


@bp.post("/account/tokens/<int:tid>/revoke")
@auth.login_required
def token_revoke(tid: int) -> WResponse:
    s = db_session()
    if not api_tokens.revoke_token(s, tid, auth.actor(), now()):
        abort(404)
    s.commit()
    flash("Token revoked.")
    return redirect(url_for("coord_tokens.tokens"))
