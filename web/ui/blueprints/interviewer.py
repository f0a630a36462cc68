"""The interviewer's own page, reached by a personal signed link (``/i/<token>``).

Connect Google or Microsoft 365 (their own modules), add a CalDAV account or an ICS URL,
test a calendar and see what was read, set zone and working hours with a preview in the
local clock, see upcoming interviews, and manage a private, revocable ICS feed of one's
interviews (``/i/feed/<token>.ics``).

Credentials typed here are encrypted at once (PANELSLOT_TOKEN_KEY), never put back into a
page, a log line or an error message. The use cases are
:mod:`web.domain.usecases.own_calendars` and :mod:`web.domain.usecases.interview_feed`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, flash, render_template, request, url_for
from werkzeug.wrappers import Response as WResponse

from integrations.crypto import TokenKeyError
from integrations.urlguard import parse_allowed_hosts
from web.domain import repair
from web.domain import sync as calsync
from web.domain.booking import BookingPolicy
from web.domain.usecases import interview_feed
from web.domain.usecases import own_calendars as uc
from web.domain.usecases.interviewer_upcoming import upcoming_interviews
from web.domain.zones import week_text
from web.store.models import CalendarSource, Interviewer
from web.ui import auth
from web.ui.blueprints import interviewer_google, interviewer_microsoft  # noqa: F401 - routes
from web.ui.forms import ActionForm
from web.ui.helpers import db_session, get_db, get_settings, now, public_url
from web.ui.interviewer_common import (
    back,
    bp,
    csrf_ok,
    read_and_flash,
    sync_config,
    who_or_404,
)
from web.ui.interviewer_forms import CalDAVForm, CalendarsForm, HoursForm, ICSForm, PasswordForm

log = logging.getLogger(__name__)

__all__ = ["bp"]


def _check_public_host(url: str) -> str | None:
    """Why ``url`` may not be read (a private/loopback address), or None."""
    sync = get_settings().sync
    if sync.allow_private_feeds:
        return None
    return uc.public_host_problem(url, parse_allowed_hosts(sync.allowed_feed_hosts))


def _source(who: Interviewer, cid: int) -> CalendarSource:
    src = uc.own_source(db_session(), who, cid)
    if src is None:
        abort(404)
    return src


def _read_summary(src: CalendarSource, week_blocks: int, at: datetime, cfg: Any) -> str:
    status = calsync.status_text(src, at, cfg.stale_after)
    if src.last_good_sync_at is None:
        return status
    return f"{week_blocks} busy block{'s' if week_blocks != 1 else ''} this week, {status}"


def _feed_url(who: Interviewer) -> str | None:
    if not who.feed_token:
        return None
    return public_url(url_for("interviewer.feed", feed_token=who.feed_token))


def _calendar_rows(who: Interviewer, at: datetime, cfg: calsync.SyncConfig) -> list[Any]:
    week = calsync.busy_summary(db_session(), who, at)
    return [
        {
            "src": c,
            "where": uc.shown_url(c),
            "summary": _read_summary(c, week.get(c.id, 0), at, cfg),
            "health": calsync.calendar_health(c, at, cfg.stale_after),
            "which": ", ".join(c.selected_calendars or ())
            or ("primary" if c.kind == "google" else "all" if c.kind == "caldav" else ""),
            "form": CalendarsForm(
                formdata=None,
                prefix=f"which{c.id}",
                calendars=", ".join(c.selected_calendars or ()),
            ),
            "password_form": (
                PasswordForm(formdata=None, prefix=f"pw{c.id}") if c.kind == "caldav" else None
            ),
        }
        for c in who.calendars
    ]


def _page(
    who: Interviewer,
    token: str,
    *,
    ics_form: ICSForm | None = None,
    caldav_form: CalDAVForm | None = None,
    hours_form: HoursForm | None = None,
    preview: list[dict[str, Any]] | None = None,
    code: int = 200,
) -> tuple[str, int]:
    at = now()
    cfg = sync_config()
    if hours_form is None:
        hours_form = HoursForm(
            formdata=None, timezone=who.timezone, working_hours=week_text(who.working_hours)
        )
    html = render_template(
        "interviewer/landing.html",
        row=who,
        token=token,
        upcoming=upcoming_interviews(db_session(), who, at),
        calendars=_calendar_rows(who, at, cfg),
        hours=week_text(who.working_hours),
        local_now=at.astimezone(ZoneInfo(who.timezone)).strftime("%a %d %b %H:%M"),
        ics_form=ics_form or ICSForm(formdata=None),
        caldav_form=caldav_form or CalDAVForm(formdata=None),
        hours_form=hours_form,
        preview=preview or uc.week_preview(who.timezone, who.working_hours, at),
        action=ActionForm(),
        google_ready=cfg.google is not None,
        microsoft_ready=cfg.microsoft is not None,
        microsoft_write=cfg.microsoft_write_back,
        feed_url=_feed_url(who),
    )
    return html, code


@bp.after_request
def _private_headers(resp: WResponse) -> WResponse:
    """The personal link is in the address: never send it on as a Referer, never cache."""
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers.setdefault("Cache-Control", "private, no-store")
    return resp


# ---------------------------------------------------------------- the page


@bp.get("/<token>")
def landing(token: str) -> tuple[str, int]:
    return _page(who_or_404(token), token)


@bp.post("/<token>/hours")
def hours(token: str) -> tuple[str, int] | WResponse:
    who = who_or_404(token)
    form = HoursForm()
    if not form.validate_on_submit():
        return _page(who, token, hours_form=form, code=400)
    tz = form.timezone.data.strip()
    preview = uc.week_preview(tz, form.parsed_hours, now())
    if request.form.get("do") == "preview":
        return _page(who, token, hours_form=form, preview=preview)
    uc.set_hours(db_session(), who, tz, form.parsed_hours, now())
    flash(f"Saved: {tz}, {week_text(who.working_hours)}.")
    return back(token)


@bp.post("/<token>/calendars/ics")
def add_ics(token: str) -> tuple[str, int] | WResponse:
    who = who_or_404(token)
    form = ICSForm()
    if form.validate_on_submit():
        url = form.url.data.strip()
        problem = _check_public_host(url)
        if problem:
            form.url.errors.append(problem)
        else:
            label = (form.label.data or "").strip()
            src = uc.add_ics(db_session(), who, url, label, now())
            read_and_flash(who, src)
            return back(token)
    return _page(who, token, ics_form=form, code=400)


def _no_key_store(exc: TokenKeyError) -> None:
    log.warning("cannot store CalDAV credentials: %s", type(exc).__name__)


def _caldav_account(form: CalDAVForm) -> uc.CalDAVAccount:
    chosen = [c.strip() for c in (form.calendars.data or "").split(",") if c.strip()]
    return uc.CalDAVAccount(
        url=form.url.data.strip(),
        label=(form.label.data or "").strip(),
        username=form.username.data.strip(),
        password=form.password.data,
        calendars=tuple(chosen),
    )


@bp.post("/<token>/calendars/caldav")
def add_caldav(token: str) -> tuple[str, int] | WResponse:
    who = who_or_404(token)
    form = CalDAVForm()
    if form.validate_on_submit():
        problem = _check_public_host(form.url.data.strip())
        if problem:
            form.url.errors.append(problem)
        else:
            try:
                src = uc.add_caldav(db_session(), who, _caldav_account(form), sync_config(), now())
            except TokenKeyError as exc:  # a server problem
                _no_key_store(exc)
                flash(
                    "The server cannot store passwords yet (PANELSLOT_TOKEN_KEY is not set); "
                    "tell your coordinator."
                )
                return back(token)
            read_and_flash(who, src)
            return back(token)
    form.password.data = ""
    return _page(who, token, caldav_form=form, code=400)


@bp.post("/<token>/calendars/<int:cid>/test")
def test_calendar(token: str, cid: int) -> WResponse:
    who = who_or_404(token)
    csrf_ok()
    read_and_flash(who, _source(who, cid))
    return back(token)


@bp.post("/<token>/calendars/<int:cid>/which")
def choose_calendars(token: str, cid: int) -> WResponse:
    who = who_or_404(token)
    src = _source(who, cid)
    form = CalendarsForm(prefix=f"which{cid}")
    if not form.validate_on_submit():
        abort(400)
    chosen = [c.strip() for c in (form.calendars.data or "").split(",") if c.strip()]
    uc.choose_calendars(db_session(), src, chosen)
    read_and_flash(who, src)
    return back(token)


@bp.post("/<token>/calendars/<int:cid>/password")
def caldav_password(token: str, cid: int) -> WResponse:
    """Replace a CalDAV account's user name and password (after a change or a refusal)."""
    who = who_or_404(token)
    src = _source(who, cid)
    form = PasswordForm(prefix=f"pw{cid}")
    if src.kind != "caldav" or not form.validate_on_submit():
        abort(400)
    login = (form.username.data.strip(), form.password.data)
    try:
        uc.set_caldav_password(db_session(), who, src, login, sync_config(), now())
    except TokenKeyError as exc:  # a server problem
        _no_key_store(exc)
        flash("The server cannot store passwords yet; tell your coordinator.")
        return back(token)
    read_and_flash(who, src)
    return back(token)


@bp.post("/<token>/calendars/<int:cid>/remove")
def remove_calendar(token: str, cid: int) -> WResponse:
    who = who_or_404(token)
    csrf_ok()
    src = _source(who, cid)
    label = src.label
    uc.remove_calendar(db_session(), who, src, now())
    flash(f"Removed {label}; its busy time no longer counts.")
    return back(token)


@bp.post("/<token>/sync")
def sync_now(token: str) -> WResponse:
    who = who_or_404(token)
    csrf_ok()
    if not auth.allow(f"sync:interviewer:{who.id}", auth.SYNC_NOW_LIMIT):
        flash("Synced often already; wait a few minutes, the worker also syncs on its own.")
        return back(token)
    uc.queue_sync(db_session(), who, now())
    flash("Sync queued; it runs within a few seconds. Reload the page to see the result.")
    return back(token)


@bp.post("/<token>/cant-make-it/<int:seat>")
def cant_make_it(token: str, seat: int) -> WResponse:
    """The interviewer cannot sit in one of their booked sessions: the same repair as a
    calendar decline (replaced from the pool, or the coordinator is told)."""
    who = who_or_404(token)
    csrf_ok()
    mine = {u.booked_session_id for u in upcoming_interviews(db_session(), who, now())}
    if seat not in mine:
        abort(404)
    result = repair.handle_dropout(
        get_db(),
        repair.Dropout(seat, who.id, "cant_make_it", "said so on their personal page"),
        now(),
        BookingPolicy.from_settings(get_settings(), sync=sync_config()),
    )
    if result.action == "replaced":
        flash("Thank you: someone else from the pool takes your place; a cancellation follows.")
    elif result.action == "escalated":
        flash("Thank you: the coordinator was told and will find a solution.")
    else:
        flash(f"Nothing to change: {result.reason}.")
    return back(token)


# ---------------------------------------------------------------- private ICS feed


@bp.post("/<token>/feed")
def feed_regenerate(token: str) -> WResponse:
    who = who_or_404(token)
    csrf_ok()
    had = interview_feed.regenerate(db_session(), who, now())
    flash(
        "New feed address made; the old one no longer works."
        if had
        else "Feed address made: subscribe to it from your calendar app."
    )
    return back(token)


@bp.post("/<token>/feed/revoke")
def feed_revoke(token: str) -> WResponse:
    who = who_or_404(token)
    csrf_ok()
    interview_feed.revoke(db_session(), who, now())
    flash("Feed address turned off.")
    return back(token)


@bp.get("/feed/<feed_token>.ics")
def feed(feed_token: str) -> Response:
    s = db_session()
    who = interview_feed.feed_owner(s, feed_token)
    if who is None:
        abort(404)
    return Response(
        interview_feed.interviews_ics(s, who, now()),
        mimetype="text/calendar",
        headers={
            "Content-Disposition": 'inline; filename="interviews.ics"',
            "Cache-Control": "private, max-age=300",
            "X-Robots-Tag": "noindex",
        },
    )
