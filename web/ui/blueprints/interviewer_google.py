"""Connect Google Calendar from the interviewer's page (OAuth web-server flow with PKCE).

``POST /i/<token>/google/connect`` starts the flow and keeps its state and PKCE verifier
in the signed session; ``GET /i/oauth/google/callback`` exchanges the code and stores the
encrypted credentials on the interviewer's ``google`` source.
"""

from __future__ import annotations

import requests
from flask import abort, flash, redirect, request, session
from werkzeug.wrappers import Response as WResponse

from integrations.errors import IntegrationError
from integrations.google_auth import (
    GoogleAuthError,
    encrypt_credentials,
    finish_authorization,
    scopes_for,
    start_authorization,
)
from web.ui import interviewer_common as common
from web.ui.interviewer_common import bp

OAUTH_SESSION_KEY = "panelslot.google_oauth"


@bp.post("/<token>/google/connect")
def google_connect(token: str) -> WResponse:
    who = common.who_or_404(token)
    common.csrf_ok()
    cfg = common.sync_config()
    if cfg.google is None:
        flash("Google Calendar is not set up on this server; use CalDAV or an ICS URL.")
        return common.back(token)
    started = start_authorization(
        cfg.google, scopes_for(mode=cfg.google_mode, write=True), login_hint=who.email
    )
    session[OAUTH_SESSION_KEY] = {
        "state": started.state,
        "verifier": started.code_verifier,
        "token": token,
    }
    return redirect(started.url)


@bp.get("/oauth/google/callback")
def google_callback() -> WResponse:
    kept, token, who = common.oauth_return(OAUTH_SESSION_KEY)
    cfg = common.sync_config()
    if cfg.google is None:
        abort(404)
    google = cfg.google

    def exchange() -> str:
        creds = finish_authorization(
            google,
            scopes_for(mode=cfg.google_mode, write=True),
            callback_args=request.args.to_dict(),
            session_state=kept.get("state"),
            code_verifier=kept.get("verifier"),
        )
        return encrypt_credentials(creds, environ=cfg.token_environ)

    return common.finish_connect(
        token,
        who,
        exchange,
        refused=(GoogleAuthError,),
        failed=(IntegrationError, requests.RequestException),  # TokenKeyError, transport
        source=("google", "Google Calendar", "Google Calendar"),
    )
