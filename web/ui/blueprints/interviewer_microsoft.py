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
from web.ui import interviewer_common as common
from web.ui.interviewer_common import bp

log = logging.getLogger(__name__)

MS_SESSION_KEY = "panelslot.microsoft_oauth"


@bp.post("/<token>/microsoft/connect")
def microsoft_connect(token: str) -> WResponse:
    who = common.who_or_404(token)
    common.csrf_ok()
    cfg = common.sync_config()
    if cfg.microsoft is None:
        flash("Microsoft 365 is not set up on this server; use CalDAV or an ICS URL.")
        return common.back(token)
    try:
        started = start_authorization(
            cfg.microsoft, scopes_for(write=cfg.microsoft_write_back), login_hint=who.email
        )
    except IntegrationError as exc:  # the authority cannot be reached
        log.warning("Microsoft sign-in could not start: %s", exc)
        flash("Microsoft 365 could not be reached; try again later or tell your coordinator.")
        return common.back(token)
    session[MS_SESSION_KEY] = {"flow": started.flow, "token": token}
    return redirect(started.url)


@bp.get("/oauth/microsoft/callback")
def microsoft_callback() -> WResponse:
    kept, token, who = common.oauth_return(MS_SESSION_KEY)
    cfg = common.sync_config()
    if cfg.microsoft is None:
        abort(404)
    microsoft = cfg.microsoft

    def exchange() -> str:
        creds = finish_authorization(
            microsoft,
            scopes_for(write=cfg.microsoft_write_back),
            callback_args=request.args.to_dict(),
            flow=kept.get("flow"),
        )
        return encrypt_credentials(creds, environ=cfg.token_environ)

    return common.finish_connect(
        token,
        who,
        exchange,
        refused=(MicrosoftAuthError,),
        failed=(IntegrationError,),  # TokenKeyError, the authority unreachable: no secrets
        source=(KIND, LABEL, "Microsoft 365"),
    )
