"""What the interviewer's page modules share: the blueprint, the signed link, the sync
configuration, the OAuth return, and the flash after testing a calendar."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, session, url_for
from werkzeug.wrappers import Response as WResponse

from web.domain import services
from web.domain import sync as calsync
from web.domain.usecases import own_calendars
from web.store.models import CalendarSource, Interviewer, OfferedOption
from web.ui.forms import ActionForm
from web.ui.helpers import (
    db_session,
    get_settings,
    get_sync_config,
    now,
    public_url,
    secret_key,
)

log = logging.getLogger(__name__)
bp = Blueprint("interviewer", __name__, url_prefix="/i")


def verified(token: str) -> Interviewer | None:
    """The interviewer of a personal link, or None (bad, expired or revoked)."""
    days = int(get_settings().security.interviewer_link_max_age_days)
    return services.verify_interviewer_token(
        db_session(), secret_key(), token, max_age_days=days, now=now()
    )


def who_or_404(token: str) -> Interviewer:
    row = verified(token)
    if row is None:
        abort(404)
    return row


def sync_config() -> calsync.SyncConfig:
    """The app's sync config (its feed cache included) with this site's OAuth callbacks."""
    return calsync.SyncConfig.from_settings(
        get_settings(),
        redirect_uri=public_url(url_for("interviewer.google_callback")),
        microsoft_redirect_uri=public_url(url_for("interviewer.microsoft_callback")),
        snapshots=get_sync_config().snapshots,
        web=True,
    )


def back(token: str) -> WResponse:
    return redirect(url_for("interviewer.landing", token=token))


def csrf_ok() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def read_and_flash(who: Interviewer, src: CalendarSource) -> None:
    """Read one calendar now and tell the interviewer what came of it."""
    result, week = own_calendars.read_source_now(db_session(), who, src, now(), sync_config())
    if result.ok:
        flash(
            f"{src.label}: connection works: {_plural(result.events_read, 'event')} read, "
            f"{_plural(week, 'busy block')} this week."
        )
        for note in result.warnings[:3]:
            flash(f"{src.label}: note: {note}")
    elif result.reconnect:
        flash(f"{src.label}: access was revoked or expired; connect again.")
    else:
        flash(f"{src.label}: could not be read: {result.error}")


def oauth_return(key: str) -> tuple[dict[str, Any], str, Interviewer]:
    """(what the session kept, the page token, the interviewer) at an OAuth callback; 404
    when the session holds no flow for a valid page."""
    kept = session.pop(key, None) or {}
    token = str(kept.get("token", ""))
    who = verified(token) if token else None
    if who is None:
        abort(404)
    return kept, token, who


def store_connected(who: Interviewer, kind: str, label: str, ciphertext: str) -> None:
    """Keep the new credentials on the interviewer's source of ``kind``, audit, test it."""
    src = own_calendars.store_connected(db_session(), who, kind, label, ciphertext, now())
    read_and_flash(who, src)


def finish_connect(
    token: str,
    who: Interviewer,
    exchange: Callable[[], str],
    *,
    refused: tuple[type[BaseException], ...],
    failed: tuple[type[BaseException], ...],
    source: tuple[str, str, str],
) -> WResponse:
    """The end of an OAuth callback: ``exchange`` turns the answer into encrypted
    credentials; a refusal (``refused``, with a ``message``) is shown as it is, a failure
    (``failed``: no key, no transport) in one line without secrets. ``source`` is (kind,
    label, the provider's name)."""
    kind, label, name = source
    try:
        ciphertext = exchange()
    except refused as exc:
        message = getattr(exc, "message", str(exc))
        flash(message[:1].upper() + message[1:] + ".")
        return back(token)
    except failed as exc:
        log.warning("%s connection failed: %s", name, type(exc).__name__)
        flash(f"{name} could not be connected; try again later or tell your coordinator.")
        return back(token)
    store_connected(who, kind, label, ciphertext)
    return back(token)


@bp.app_context_processor
def _stale_helpers() -> dict[str, Any]:
    return {"stale_warnings": stale_warnings}


def stale_warnings(row: OfferedOption) -> list[str]:
    """Why an offered option may rest on stale busy time (empty: its calendars are fresh)."""
    opt = services.stored_option(row)
    keys = list(dict.fromkeys(opt.interviewer_ids()))
    cache: dict[str, list[calsync.CalendarHealth]] = g.setdefault("panelslot_stale", {})
    missing = [k for k in keys if k not in cache]
    if missing:
        limit = sync_config().stale_after
        found = calsync.stale_by_key(db_session(), missing, now(), limit)
        for k in missing:
            cache[k] = found.get(k, [])
    return calsync.option_staleness(opt, {k: cache[k] for k in keys if cache[k]})
