"""The interviewer's own page, reached by a personal signed link (``/i/<token>``).

Connect Google (OAuth web-server flow with PKCE), add a CalDAV account or an
ICS URL, test a calendar and see what was read, set zone and working hours
with a preview in the local clock, see upcoming interviews, and manage a
private, revocable ICS feed of one's interviews (``/i/feed/<token>.ics``).

Credentials typed here are encrypted at once (PANELSLOT_TOKEN_KEY), never put
back into a page, a log line or an error message.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
import requests
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response as WResponse
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from integrations.crypto import TokenKeyError
from integrations.urlguard import private_host_reason
from scheduler.localtime import format_minutes
from web.domain import calsync, services
from web.domain.jobs import enqueue
from web.domain.zones import HoursError, parse_week, parse_week_text, week_text
from web.store.models import Booking, BookingSession, CalendarSource, Interviewer, OfferedOption
from web.ui.forms import ActionForm, _zone
from web.ui.helpers import audit, db_session, get_settings, now

log = logging.getLogger(__name__)
bp = Blueprint("interviewer", __name__, url_prefix="/i")

OAUTH_SESSION_KEY = "panelslot.google_oauth"


# ---------------------------------------------------------------- forms


def _no_userinfo(form: Any, field: Any) -> None:
    url = (field.data or "").strip()
    if "@" in (urlsplit(url).netloc if "://" in url else ""):
        field.data = ""  # never echo credentials back into the page
        raise ValidationError("put no user name or password in the URL")


def _http_url(form: Any, field: Any) -> None:
    url = (field.data or "").strip()
    if not url.lower().startswith(("http://", "https://", "webcal://")):
        raise ValidationError("give an http(s):// or webcal:// address")


class ICSForm(FlaskForm):
    label = StringField("Name", validators=[Optional(), Length(max=200)])
    url = StringField(
        "ICS feed URL",
        validators=[DataRequired(), Length(max=2000), _no_userinfo, _http_url],
        description="The published/secret address of your calendar (Outlook 'publish', "
        "Google 'secret address in iCal format', ...)",
    )


class CalDAVForm(FlaskForm):
    label = StringField("Name", validators=[Optional(), Length(max=200)])
    url = StringField(
        "CalDAV URL",
        validators=[DataRequired(), Length(max=2000), _no_userinfo, _http_url],
        description="Server or principal address, e.g. https://cloud.example.com/remote.php/dav",
    )
    username = StringField("User name", validators=[DataRequired(), Length(max=200)])
    password = PasswordField(
        "Password or app password", validators=[DataRequired(), Length(max=500)]
    )
    calendars = StringField(
        "Which calendars count",
        validators=[Optional(), Length(max=4000)],
        description="Empty: every calendar of the account; or calendar URLs, comma-separated",
    )


class HoursForm(FlaskForm):
    timezone = StringField("Time zone", validators=[DataRequired(), _zone])
    working_hours = StringField(
        "Working hours",
        validators=[DataRequired()],
        description='In your zone, e.g. "mon-fri 09:00-12:00, 13:00-17:00"',
    )

    def validate_working_hours(self, field: Any) -> None:
        try:
            self.parsed_hours = parse_week_text(field.data or "")
        except HoursError as exc:
            raise ValidationError(f"{exc.value!r}: {exc.hint}") from None


class PasswordForm(FlaskForm):
    username = StringField("User name", validators=[DataRequired(), Length(max=200)])
    password = PasswordField("New password", validators=[DataRequired(), Length(max=500)])


class CalendarsForm(FlaskForm):
    calendars = StringField(
        "Which calendars count",
        validators=[Optional(), Length(max=4000)],
        description="Empty: the primary calendar; or calendar ids, comma-separated",
    )


# ---------------------------------------------------------------- helpers


def _verified(token: str) -> Interviewer | None:
    days = int(get_settings().security.interviewer_link_max_age_days)
    return services.verify_interviewer_token(
        db_session(), _secret(), token, max_age_days=days, now=now()
    )


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _who(token: str) -> Interviewer:
    row = _verified(token)
    if row is None:
        abort(404)
    return row


def _public(path: str) -> str:
    base = get_settings().server.public_url or request.url_root
    return base.rstrip("/") + path


def _cfg() -> calsync.SyncConfig:
    return calsync.SyncConfig.from_settings(
        get_settings(),
        redirect_uri=_public(url_for("interviewer.google_callback")),
        microsoft_redirect_uri=_public(url_for("interviewer.microsoft_callback")),
    )


def _check_public_host(url: str) -> str | None:
    """Why ``url`` may not be read (a private/loopback address), or None."""
    if get_settings().sync.allow_private_feeds:
        return None
    return private_host_reason(url)


def _source(who: Interviewer, cid: int) -> CalendarSource:
    src = db_session().get(CalendarSource, cid)
    if src is None or src.interviewer_id != who.id:
        abort(404)
    return src


def _shown_url(src: CalendarSource) -> str:
    """Where a calendar lives, without secrets (feed URLs often embed one in the path)."""
    if src.kind == "google":
        return "Google Calendar"
    if src.kind == "msgraph":
        return "Microsoft 365"
    parts = urlsplit(src.url)
    if not parts.scheme:
        return src.url
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}/…" if src.kind == "ics" else f"{parts.scheme}://{host}"


def _read_summary(src: CalendarSource, week_blocks: int, at: datetime) -> str:
    stale_after = _cfg().stale_after
    status = calsync.status_text(src, at, stale_after)
    if src.last_good_sync_at is None:
        return status
    return f"{week_blocks} busy block{'s' if week_blocks != 1 else ''} this week, {status}"


def _test_now(s: Any, who: Interviewer, src: CalendarSource) -> None:
    result = calsync.sync_source(s, who, src, now(), _cfg())
    s.commit()
    if result.ok:
        week = calsync.busy_summary(s, who, now()).get(src.id, 0)
        flash(
            f"{src.label}: connection works: {result.events_read} "
            f"event{'s' if result.events_read != 1 else ''} read, "
            f"{week} busy block{'s' if week != 1 else ''} this week."
        )
        for note in result.warnings[:3]:
            flash(f"{src.label}: note: {note}")
    elif result.reconnect:
        flash(f"{src.label}: access was revoked or expired; connect again.")
    else:
        flash(f"{src.label}: could not be read: {result.error}")


def _feed_url(who: Interviewer) -> str | None:
    if not who.feed_token:
        return None
    return _public(url_for("interviewer.feed", feed_token=who.feed_token))


def _week_preview(tz: str, hours: dict[str, list[str]], at: datetime) -> list[dict[str, Any]]:
    """The next seven local days: working ranges in the local clock and in UTC."""
    zone = ZoneInfo(tz)
    week = parse_week(hours)
    today = at.astimezone(zone).date()
    rows = []
    for offset in range(7):
        day = today + timedelta(days=offset)
        ranges = []
        for a, b in week.ranges.get(day.weekday(), ()):
            start = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(minutes=a)
            end = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(minutes=b)
            # wall-clock minutes -> instants (DST days: fold onto the real clock)
            start = start.astimezone(UTC).astimezone(zone)
            end = end.astimezone(UTC).astimezone(zone)
            ranges.append(
                {
                    "local": f"{format_minutes(a)}–{format_minutes(b)}",
                    "utc": f"{start.astimezone(UTC):%H:%M}–{end.astimezone(UTC):%H:%M} UTC",
                }
            )
        rows.append({"day": day.strftime("%a %d %b"), "ranges": ranges})
    return rows


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
    s = db_session()
    at = now()
    upcoming = list(
        s.scalars(
            select(BookingSession)
            .where(
                BookingSession.interviewer_id == who.id,
                BookingSession.active.is_(True),
                BookingSession.end > at,
                BookingSession.start < at + timedelta(days=60),
            )
            .order_by(BookingSession.start)
        )
    )
    week = calsync.busy_summary(s, who, at)
    if hours_form is None:
        hours_form = HoursForm(
            formdata=None, timezone=who.timezone, working_hours=week_text(who.working_hours)
        )
    cfg = _cfg()
    calendars = [
        {
            "src": c,
            "where": _shown_url(c),
            "summary": _read_summary(c, week.get(c.id, 0), at),
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
    html = render_template(
        "interviewer/landing.html",
        row=who,
        token=token,
        upcoming=upcoming,
        calendars=calendars,
        hours=week_text(who.working_hours),
        local_now=at.astimezone(ZoneInfo(who.timezone)).strftime("%a %d %b %H:%M"),
        ics_form=ics_form or ICSForm(formdata=None),
        caldav_form=caldav_form or CalDAVForm(formdata=None),
        hours_form=hours_form,
        preview=preview or _week_preview(who.timezone, who.working_hours, at),
        action=ActionForm(),
        google_ready=cfg.google is not None,
        microsoft_ready=cfg.microsoft is not None,
        microsoft_write=cfg.microsoft_write_back,
        feed_url=_feed_url(who),
    )
    return html, code


def _back(token: str) -> WResponse:
    return redirect(url_for("interviewer.landing", token=token))


def _csrf_ok() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


def _actor(who: Interviewer) -> str:
    return f"interviewer:{who.key}"


@bp.after_request
def _private_headers(resp: WResponse) -> WResponse:
    """The personal link is in the address: never send it on as a Referer, never cache."""
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers.setdefault("Cache-Control", "private, no-store")
    return resp


# ---------------------------------------------------------------- staleness on coordinator pages


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
        limit = _cfg().stale_after
        found = calsync.stale_by_key(db_session(), missing, now(), limit)
        for k in missing:
            cache[k] = found.get(k, [])
    return calsync.option_staleness(opt, {k: cache[k] for k in keys if cache[k]})


# ---------------------------------------------------------------- the page


@bp.get("/<token>")
def landing(token: str) -> tuple[str, int]:
    return _page(_who(token), token)


@bp.post("/<token>/hours")
def hours(token: str) -> tuple[str, int] | WResponse:
    who = _who(token)
    form = HoursForm()
    if not form.validate_on_submit():
        return _page(who, token, hours_form=form, code=400)
    tz = form.timezone.data.strip()
    preview = _week_preview(tz, form.parsed_hours, now())
    if request.form.get("do") == "preview":
        return _page(who, token, hours_form=form, preview=preview)
    s = db_session()
    who.timezone = tz
    who.working_hours = form.parsed_hours
    audit(s, _actor(who), "interviewer_hours_set", "interviewer", who.id)
    s.commit()
    flash(f"Saved: {tz}, {week_text(who.working_hours)}.")
    return _back(token)


@bp.post("/<token>/calendars/ics")
def add_ics(token: str) -> tuple[str, int] | WResponse:
    who = _who(token)
    form = ICSForm()
    if form.validate_on_submit():
        url = form.url.data.strip()
        problem = _check_public_host(url)
        if problem:
            form.url.errors.append(problem)
        else:
            s = db_session()
            host = urlsplit(url.replace("webcal://", "https://", 1)).hostname or "feed"
            src = CalendarSource(
                kind="ics", label=(form.label.data or "").strip() or f"ICS feed ({host})", url=url
            )
            who.calendars.append(src)
            s.flush()
            audit(s, _actor(who), "calendar_added", "interviewer", who.id, kind="ics")
            s.commit()
            _test_now(s, who, src)
            return _back(token)
    return _page(who, token, ics_form=form, code=400)


@bp.post("/<token>/calendars/caldav")
def add_caldav(token: str) -> tuple[str, int] | WResponse:
    who = _who(token)
    form = CalDAVForm()
    if form.validate_on_submit():
        url = form.url.data.strip()
        problem = _check_public_host(url)
        if problem:
            form.url.errors.append(problem)
        else:
            s = db_session()
            cfg = _cfg()
            try:
                secret = calsync.encrypt_json(
                    {"username": form.username.data.strip(), "password": form.password.data}, cfg
                )
            except TokenKeyError as exc:  # a server problem: no token key
                log.warning("cannot store CalDAV credentials: %s", type(exc).__name__)
                flash(
                    "The server cannot store passwords yet (PANELSLOT_TOKEN_KEY is not set); "
                    "tell your coordinator."
                )
                return _back(token)
            chosen = [c.strip() for c in (form.calendars.data or "").split(",") if c.strip()]
            src = CalendarSource(
                kind="caldav",
                label=(form.label.data or "").strip() or f"CalDAV ({urlsplit(url).hostname})",
                url=url,
                credentials=secret,
                selected_calendars=chosen or None,
            )
            who.calendars.append(src)
            s.flush()
            audit(s, _actor(who), "calendar_added", "interviewer", who.id, kind="caldav")
            s.commit()
            _test_now(s, who, src)
            return _back(token)
    form.password.data = ""
    return _page(who, token, caldav_form=form, code=400)


@bp.post("/<token>/calendars/<int:cid>/test")
def test_calendar(token: str, cid: int) -> WResponse:
    who = _who(token)
    _csrf_ok()
    _test_now(db_session(), who, _source(who, cid))
    return _back(token)


@bp.post("/<token>/calendars/<int:cid>/which")
def choose_calendars(token: str, cid: int) -> WResponse:
    who = _who(token)
    src = _source(who, cid)
    form = CalendarsForm(prefix=f"which{cid}")
    if not form.validate_on_submit():
        abort(400)
    chosen = [c.strip() for c in (form.calendars.data or "").split(",") if c.strip()]
    s = db_session()
    src.selected_calendars = chosen or None
    s.commit()
    _test_now(s, who, src)
    return _back(token)


@bp.post("/<token>/calendars/<int:cid>/password")
def caldav_password(token: str, cid: int) -> WResponse:
    """Replace a CalDAV account's user name and password (after a change or a refusal)."""
    who = _who(token)
    src = _source(who, cid)
    form = PasswordForm(prefix=f"pw{cid}")
    if src.kind != "caldav" or not form.validate_on_submit():
        abort(400)
    s = db_session()
    try:
        src.credentials = calsync.encrypt_json(
            {"username": form.username.data.strip(), "password": form.password.data}, _cfg()
        )
    except TokenKeyError as exc:  # a server problem: no token key
        log.warning("cannot store CalDAV credentials: %s", type(exc).__name__)
        flash("The server cannot store passwords yet; tell your coordinator.")
        return _back(token)
    src.needs_reconnect = False
    audit(s, _actor(who), "calendar_password_changed", "interviewer", who.id, kind="caldav")
    s.commit()
    _test_now(s, who, src)
    return _back(token)


@bp.post("/<token>/calendars/<int:cid>/remove")
def remove_calendar(token: str, cid: int) -> WResponse:
    who = _who(token)
    _csrf_ok()
    src = _source(who, cid)
    s = db_session()
    label = src.label
    calsync.clear_source(s, src)
    s.delete(src)
    audit(s, _actor(who), "calendar_removed", "interviewer", who.id, kind=src.kind)
    s.commit()
    flash(f"Removed {label}; its busy time no longer counts.")
    return _back(token)


@bp.post("/<token>/sync")
def sync_now(token: str) -> WResponse:
    who = _who(token)
    _csrf_ok()
    s = db_session()
    enqueue(s, "sync_interviewer", {"interviewer_id": who.id}, now=now(), requested_by=_actor(who))
    s.commit()
    flash("Sync queued; it runs within a few seconds. Reload the page to see the result.")
    return _back(token)


# ---------------------------------------------------------------- Google OAuth


@bp.post("/<token>/google/connect")
def google_connect(token: str) -> WResponse:
    from integrations.google_auth import scopes_for, start_authorization

    who = _who(token)
    _csrf_ok()
    cfg = _cfg()
    if cfg.google is None:
        flash("Google Calendar is not set up on this server; use CalDAV or an ICS URL.")
        return _back(token)
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
    from integrations.google_auth import (
        GoogleAuthError,
        encrypt_credentials,
        finish_authorization,
        scopes_for,
    )

    kept, token, who = oauth_return(OAUTH_SESSION_KEY)
    cfg = _cfg()
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
        return _back(token)
    except (TokenKeyError, requests.RequestException) as exc:  # one line, no secrets
        log.warning("Google connection failed: %s", type(exc).__name__)
        flash("Google Calendar could not be connected; try again later or tell your coordinator.")
        return _back(token)
    store_connected(who, "google", "Google Calendar", ciphertext)
    return _back(token)


def oauth_return(key: str) -> tuple[dict[str, Any], str, Interviewer]:
    """(what the session kept, the page token, the interviewer) at an OAuth callback; 404
    when the session holds no flow for a valid page."""
    kept = session.pop(key, None) or {}
    token = str(kept.get("token", ""))
    who = _verified(token) if token else None
    if who is None:
        abort(404)
    return kept, token, who


def store_connected(who: Interviewer, kind: str, label: str, ciphertext: str) -> None:
    """Keep the new credentials on the interviewer's source of ``kind``, audit, test it."""
    s = db_session()
    src = next((c for c in who.calendars if c.kind == kind), None)
    if src is None:
        src = CalendarSource(kind=kind, label=label, url="")
        who.calendars.append(src)
    src.credentials = ciphertext
    src.needs_reconnect = False
    src.sync_state = None
    src.last_error = None
    s.flush()
    audit(s, _actor(who), "calendar_connected", "interviewer", who.id, kind=kind)
    s.commit()
    _test_now(s, who, src)


# ---------------------------------------------------------------- private ICS feed


@bp.post("/<token>/feed")
def feed_regenerate(token: str) -> WResponse:
    who = _who(token)
    _csrf_ok()
    s = db_session()
    had = who.feed_token is not None
    who.feed_token = secrets.token_urlsafe(24)
    audit(s, _actor(who), "feed_regenerated" if had else "feed_created", "interviewer", who.id)
    s.commit()
    flash(
        "New feed address made; the old one no longer works."
        if had
        else "Feed address made: subscribe to it from your calendar app."
    )
    return _back(token)


@bp.post("/<token>/feed/revoke")
def feed_revoke(token: str) -> WResponse:
    who = _who(token)
    _csrf_ok()
    s = db_session()
    who.feed_token = None
    audit(s, _actor(who), "feed_revoked", "interviewer", who.id)
    s.commit()
    flash("Feed address turned off.")
    return _back(token)


def interviews_ics(s: Any, who: Interviewer, at: datetime) -> bytes:
    """A VCALENDAR of ``who``'s booked interviews (from 30 days ago on)."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//panelslot//interviews feed//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Interviews: {who.name}")
    rows = s.scalars(
        select(BookingSession)
        .where(
            BookingSession.interviewer_id == who.id,
            BookingSession.active.is_(True),
            BookingSession.end > at - timedelta(days=30),
        )
        .options(selectinload(BookingSession.booking).selectinload(Booking.request))
        .order_by(BookingSession.start)
    )
    for bs in rows:
        req = bs.booking.request
        ev = icalendar.Event()
        ev.add("uid", bs.uid or f"panelslot-session-{bs.id}@panelslot")
        ev.add("dtstamp", at)
        ev.add("dtstart", bs.start.astimezone(UTC))
        ev.add("dtend", bs.end.astimezone(UTC))
        ev.add("summary", f"Interview: {bs.session_name} ({req.candidate_name})")
        ev.add("description", f"{req.loop.name}: {bs.session_name} with {req.candidate_name}")
        ev.add("sequence", bs.booking.sequence)
        ev.add("status", "CONFIRMED")
        ev.add("transp", "OPAQUE")
        cal.add_component(ev)
    return bytes(cal.to_ical())


@bp.get("/feed/<feed_token>.ics")
def feed(feed_token: str) -> Response:
    s = db_session()
    who = s.scalar(select(Interviewer).where(Interviewer.feed_token == feed_token))
    if (
        who is None
        or not who.active
        or not secrets.compare_digest(who.feed_token or "", feed_token)
    ):
        abort(404)
    body = interviews_ics(s, who, now())
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": 'inline; filename="interviews.ics"',
            "Cache-Control": "private, max-age=300",
            "X-Robots-Tag": "noindex",
        },
    )


# Microsoft 365's connect and callback routes live in their own module, on this blueprint
from web.ui.blueprints import interviewer_microsoft  # noqa: E402, F401
