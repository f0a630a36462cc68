"""Connect Microsoft 365 from the interviewer's page (msal authorization code flow, PKCE).

``POST /i/<token>/microsoft/connect`` starts the flow and keeps msal's flow (state, PKCE
verifier, nonce) in the signed session; ``GET /i/oauth/microsoft/callback`` exchanges the
code and stores the encrypted token cache on the interviewer's ``msgraph`` source. The
answer comes back as a query (``response_mode=query``), a GET that carries the SameSite=Lax
session cookie. Write access (``Calendars.ReadWrite``) is asked only with
``microsoft.write_back`` on.
"""

from __future__ import annotations

import logging

from flask import abort, flash, redirect, request, session
from werkzeug.wrappers import Response as WResponse

from integrations.errors import IntegrationError
from integrations.msgraph_auth import (
    MicrosoftAuthError,
    encrypt_credentials,
    finish_authorization,
    scopes_for,
    start_authorization,
)
from web.domain.sync.msgraph import KIND, LABEL
from web.ui.blueprints.interviewer import (
    _back,
    _cfg,
    _csrf_ok,
    _who,
    oauth_return,
    store_connected,
)
from web.ui.blueprints.interviewer import bp as interviewer_bp

log = logging.getLogger(__name__)

MS_SESSION_KEY = "panelslot.microsoft_oauth"


@interviewer_bp.post("/<token>/microsoft/connect")
def microsoft_connect(token: str) -> WResponse:
    who = _who(token)
    _csrf_ok()
    cfg = _cfg()
    if cfg.microsoft is None:
        flash("Microsoft 365 is not set up on this server; use CalDAV or an ICS URL.")
        return _back(token)
    try:
        started = start_authorization(
            cfg.microsoft, scopes_for(write=cfg.microsoft_write_back), login_hint=who.email
        )
    except IntegrationError as exc:  # the authority cannot be reached
        log.warning("Microsoft sign-in could not start: %s", exc)
        flash("Microsoft 365 could not be reached; try again later or tell your coordinator.")
        return _back(token)
    session[MS_SESSION_KEY] = {"flow": started.flow, "token": token}
    return redirect(started.url)


@interviewer_bp.get("/oauth/microsoft/callback")
def microsoft_callback() -> WResponse:
    kept, token, who = oauth_return(MS_SESSION_KEY)
    cfg = _cfg()
    if cfg.microsoft is None:
        abort(404)
    try:
        creds = finish_authorization(
            cfg.microsoft,
            scopes_for(write=cfg.microsoft_write_back),
            callback_args=request.args.to_dict(),
            flow=kept.get("flow"),
        )
        ciphertext = encrypt_credentials(creds, environ=cfg.token_environ)
    except MicrosoftAuthError as exc:
        flash(exc.message[:1].upper() + exc.message[1:] + ".")
        return _back(token)
    except IntegrationError as exc:  # TokenKeyError, the authority unreachable: no secrets
        log.warning("Microsoft connection failed: %s", type(exc).__name__)
        flash("Microsoft 365 could not be connected; try again later or tell your coordinator.")
        return _back(token)
    store_connected(who, KIND, LABEL, ciphertext)
    return _back(token)
