"""Connect Google Calendar from the interviewer's page (OAuth web-server flow with PKCE).

``POST /i/<token>/google/connect`` starts the flow and keeps its state and PKCE verifier
in the signed session; ``GET /i/oauth/google/callback`` exchanges the code and stores the
encrypted credentials on the interviewer's ``google`` source.
"""

from __future__ import annotations

import logging

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
from web.ui.interviewer_common import (
    back,
    bp,
    csrf_ok,
    oauth_return,
    store_connected,
    sync_config,
    who_or_404,
)

log = logging.getLogger(__name__)

OAUTH_SESSION_KEY = "panelslot.google_oauth"


@bp.post("/<token>/google/connect")
def google_connect(token: str) -> WResponse:
    who = who_or_404(token)
    csrf_ok()
    cfg = sync_config()
    if cfg.google is None:
        flash("Google Calendar is not set up on this server; use CalDAV or an ICS URL.")
        return back(token)
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
    kept, token, who = oauth_return(OAUTH_SESSION_KEY)
    cfg = sync_config()
    if cfg.google is None:
        abort(404)
    try:
        creds = finish_authorization(
            cfg.google,
            scopes_for(mode=cfg.google_mode, write=True),
            callback_args=request.args.to_dict(),
            session_state=kept.get("state"),
            code_verifier=kept.get("verifier"),
        )
        ciphertext = encrypt_credentials(creds, environ=cfg.token_environ)
    except GoogleAuthError as exc:
        flash(exc.message[:1].upper() + exc.message[1:] + ".")
        return back(token)
    except (IntegrationError, requests.RequestException) as exc:  # TokenKeyError, transport
        log.warning("Google connection failed: %s", type(exc).__name__)
        flash("Google Calendar could not be connected; try again later or tell your coordinator.")
        return back(token)
    store_connected(who, "google", "Google Calendar", ciphertext)
    return back(token)
