"""The candidate's pages, reached by the signed link in their e-mail.

GET  /c/<token>              the offer (options grouped by day in the chosen zone), or the booking
POST /c/<token>/book         book an option (re-check + one transaction, idempotency key)
GET  /c/<token>/reschedule   other times; POST moves the booking (old times kept until it works)
POST /c/<token>/cancel       cancel the booked interview (until the cut-off)
POST /c/<token>/none         "none of these work": own ranges (grid or text), searched at once
GET  /c/<token>/interview.ics  the booked sessions to import

The zone is ``?tz=`` (set by the page's script from the browser, or by the zone picker, which
works without script); without it, the zone the coordinator gave.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from web.domain import booking as service
from web.domain import services
from web.domain.zones import all_zones, canonical_zone, zone_ok
from web.store.models import Booking, SchedulingRequest
from web.ui import auth, live_views, ranges_views
from web.ui.helpers import (
    audit,
    db_session,
    get_db,
    get_settings,
    get_sync_config,
    now,
    public_url,
)
from web.ui.option_views import by_day
from web.ui.zone_views import ZonePick, pick_zone, remember_locale, zone_header

NONE_WORK_LIMIT = 5  # "none of these work" replies per request and address per window

bp = Blueprint("candidate", __name__, url_prefix="/c")

PROBLEMS = {
    "tampered": (
        "This link is not valid",
        "The link is incomplete or was changed. "
        "Copy the whole link from your e-mail, or ask your recruiter for a new one.",
    ),
    "expired": ("This link has expired", "Ask your recruiter to send you a new link."),
    "revoked": (
        "This link was replaced",
        "A newer link was sent to you; use the latest e-mail, or ask your recruiter.",
    ),
    "cancelled": (
        "This interview request was cancelled",
        "The interview was cancelled, so this link no longer works. "
        "If you think this is a mistake, write to your recruiter.",
    ),
}
MAX_REPLY = 2000


@lru_cache(maxsize=1)
def zone_datalist() -> Markup:
    """The zone picker's <option>s, rendered once per process (about 600 zones)."""
    return Markup("".join(f'<option value="{escape(z)}">' for z in all_zones()))


class _Problem(Exception):
    def __init__(self, response: ResponseReturnValue) -> None:
        self.response = response


@bp.errorhandler(_Problem)
def _problem_response(exc: _Problem) -> ResponseReturnValue:
    return exc.response


def _problem(title: str, message: str, code: int, contact: str | None = None) -> _Problem:
    return _Problem(
        (
            render_template(
                "candidate/problem.html", title=title, message=message, contact=contact
            ),
            code,
        )
    )


def _policy() -> service.BookingPolicy:
    return service.BookingPolicy.from_settings(get_settings(), sync=get_sync_config())


def _request_for(token: str) -> SchedulingRequest:
    """The request of a valid link, or a friendly page (raised)."""
    _prefetch(token)
    return _verified_request(token)


def _prefetch(token: str) -> None:
    """Read the link's request with its coordinator, loop and offered options in one query,
    so that the token check and the page find them in the session (no lazy queries). Only
    the signature is looked at here; :func:`_verified_request` does every check."""
    link = services.candidate_link_payload(str(current_app.config["SECRET_KEY"]), token)
    if link is not None:
        rows = db_session().scalars(_request_query(), {"rid": link[0]})
        g.candidate_request = rows.unique().one_or_none()  # kept: the session holds it weakly


@lru_cache(maxsize=1)
def _request_query() -> Any:
    return (
        select(SchedulingRequest)
        .where(SchedulingRequest.id == bindparam("rid"))
        .options(
            joinedload(SchedulingRequest.coordinator),
            joinedload(SchedulingRequest.loop),
            joinedload(SchedulingRequest.options),
        )
    )


def _verified_request(token: str) -> SchedulingRequest:
    s = db_session()
    secret = str(current_app.config["SECRET_KEY"])
    try:
        req = services.verify_candidate_token(
            s,
            secret,
            token,
            max_age_days=int(get_settings().security.link_max_age_days),
            now=now(),
        )
    except services.LinkProblem as exc:
        booked = exc.request if exc.request is not None else _booked_behind_old_link(s, token)
        if exc.kind == "expired" and booked is not None and booked.status in service.BOOKED:
            # The offer expired, but a booked interview stays reachable (to see, move or
            # cancel it) through the same link until it has happened.
            return booked
        kind = exc.kind
        if kind == "revoked" and exc.request is not None and exc.request.status == "cancelled":
            kind = "cancelled"  # the coordinator's cancel also renews the nonce
        title, message = PROBLEMS[kind]
        contact = exc.request.coordinator.email if exc.request is not None else None
        code = 410 if kind in ("expired", "cancelled") else 400
        raise _problem(title, message, code, contact) from None
    if req.status == "draft":
        raise _problem(
            "This link is not active yet", "Your recruiter has not sent it yet.", 400, None
        )
    return req


def _booked_behind_old_link(s: Any, token: str) -> SchedulingRequest | None:
    """A link past its age whose signature is still genuine, for an interview still ahead."""
    link = services.candidate_link_payload(str(current_app.config["SECRET_KEY"]), token)
    if link is None:
        return None
    req = s.get(SchedulingRequest, link[0])
    if req is None or not secrets.compare_digest(link[1], req.token_nonce):
        return None
    b = services.active_booking(req)
    if b is None or req.status not in service.BOOKED or service.first_start(b) <= now():
        return None
    found: SchedulingRequest = req
    return found


def _zone(req: SchedulingRequest, b: Booking | None = None) -> ZonePick:
    """The zone to show (``?tz=``: a zone, city or country), with a notice and choices
    when what was typed is unknown or ambiguous."""
    return pick_zone(request.values.get("tz") or "", service.candidate_zone(req, b), now())


def _offer_page(
    req: SchedulingRequest,
    *,
    mode: str,
    code: int = 200,
    error: str | None = None,
    reply_error: str | None = None,
    reply_text: str = "",
) -> ResponseReturnValue:
    b = services.active_booking(req) if mode == "reschedule" else None
    pick = _zone(req, b)
    tz = pick.tz
    live_views.remember_zone(req, pick)
    offer = live_views.offer_for(req, b, tz, mode)
    views = offer.views
    header = zone_header(tz, [v.start for v in views], now())
    return (
        render_template(
            "candidate/landing.html",
            req=req,
            mode=mode,
            token=request.view_args["token"] if request.view_args else "",
            days=by_day(views, tz),
            tz=tz,
            tz_label=header.label,
            header=header,
            default_tz=service.candidate_zone(req, b),
            zones=zone_datalist(),
            notice=pick.notice,
            zone_choices=_choice_links(pick, mode),
            error=error,
            reply_error=reply_error,
            reply_text=reply_text,
            idem=secrets.token_urlsafe(18),
            zone_action=url_for(
                "candidate.reschedule" if mode == "reschedule" else "candidate.landing",
                token=request.view_args["token"] if request.view_args else "",
            ),
            booking=b,
            current=service.session_groups(b) if b else [],
            coordinator=req.coordinator,
            searching=offer.searching,
            loop_sessions=offer.shape,
            zone_notice=offer.check.notice,
            live_title=offer.live_title,
            grid=ranges_views.grid_for(req, tz) if mode == "book" else [],
            my_ranges=ranges_views.shown_ranges(req) if request.args.get("ranges") else [],
            refresh_url=url_for(
                "candidate.reschedule" if mode == "reschedule" else "candidate.landing",
                token=request.view_args["token"] if request.view_args else "",
                tz=tz,
            ),
        ),
        code,
    )


def _booked_page(
    req: SchedulingRequest, *, done: bool = False, error: str | None = None, code: int = 200
) -> ResponseReturnValue:
    b = services.active_booking(req)
    if b is None:
        raise _problem("Nothing is booked", "This interview has no booking.", 404)
    pick = _zone(req, b)
    tz = pick.tz
    live_views.remember_zone(req, pick)
    policy = _policy()
    groups = service.session_groups(b)
    header = zone_header(tz, [gr.start for gr in groups], now())
    return (
        render_template(
            "candidate/booked.html",
            req=req,
            b=b,
            token=request.view_args["token"] if request.view_args else "",
            groups=groups,
            show_names=bool(req.loop.show_interviewer_names),
            tz=tz,
            tz_label=header.label,
            header=header,
            zones=zone_datalist(),
            notice=pick.notice,
            zone_choices=_choice_links(pick, "booked"),
            done=done,
            error=error,
            can_change=service.can_change(b, now(), policy),
            cutoff_hours=f"{policy.change_cutoff.total_seconds() / 3600:g}",
            google=service.google_links(req, b),
            zone_action=url_for(
                "candidate.landing", token=request.view_args["token"] if request.view_args else ""
            ),
            video=service.video_url(req, b),
            video_pending=service.pending_name(req, b),
            coordinator=req.coordinator,
        ),
        code,
    )


# ---------------------------------------------------------------- pages


@bp.get("/<token>")
def landing(token: str) -> ResponseReturnValue:
    req = _request_for(token)
    if req.status == "sent":
        s = db_session()
        req.status = "opened"
        req.opened_at = now()
        audit(s, "candidate", "request_opened", "request", req.id)
        s.commit()
    if remember_locale(req):  # the candidate's mails follow their browser's clock
        db_session().commit()
    if req.status in service.BOOKED:
        return _booked_page(req, done=request.args.get("done") == "1")
    return _offer_page(req, mode="book")


def _option_given() -> bool:
    return bool((request.form.get("option") or "").strip())


def _idem_key() -> str | None:
    key = (request.form.get("idem") or "").strip()
    ok = 16 <= len(key) <= 64 and all(c.isalnum() or c in "-_" for c in key)
    return key if ok else None


def _link(token: str) -> str:
    return public_url(url_for("candidate.landing", token=token))


def _tz_arg() -> dict[str, Any]:
    tz = canonical_zone(request.form.get("tz") or "")
    return {"tz": tz} if tz and zone_ok(tz) else {}


def _choice_links(pick: ZonePick, mode: str) -> list[tuple[Any, str]]:
    """The zones an ambiguous ``?tz=`` may mean, each a link to this page in that zone."""
    token = request.view_args["token"] if request.view_args else ""
    endpoint = "candidate.reschedule" if mode == "reschedule" else "candidate.landing"
    extra: dict[str, Any] = {}
    if mode == "booked" and request.args.get("done") == "1":
        extra["done"] = "1"
    return [(m, url_for(endpoint, token=token, tz=m.zone, **extra)) for m in pick.choices]


@bp.post("/<token>/book")
def book(token: str) -> ResponseReturnValue:
    req = _request_for(token)
    if req.status in service.BOOKED:
        return redirect(url_for("candidate.landing", token=token, **_tz_arg()), 303)
    if not _option_given():
        return _offer_page(req, mode="book", code=400, error="Choose one of the times first.")
    if _idem_key() is None:
        return _offer_page(
            req, mode="book", code=400, error="The form was incomplete; reload the page."
        )
    return _submit(req, token, service.book, "book", "Here are the times that are still free.")


def _submit(
    req: SchedulingRequest,
    token: str,
    action: Callable[..., object],
    mode: str,
    when_taken: str,
) -> ResponseReturnValue:
    """Run ``service.book`` or ``service.reschedule`` for the submitted option and turn
    its refusals into the offer page (400/409) or the booked page."""
    try:
        option_id = live_views.chosen_option(req, _tz_arg().get("tz") or _zone(req).tz)
        if option_id is None:
            raise service.OptionUnknown("Choose one of the times first.")
        action(
            get_db(),
            req.id,
            option_id,
            idempotency_key=_idem_key(),
            candidate_tz=_tz_arg().get("tz"),
            now=now(),
            policy=_policy(),
            link=_link(token),
        )
    except service.OptionUnknown as exc:
        return _offer_page(req, mode=mode, code=400, error=exc.message)
    except service.OptionTaken as exc:
        db_session().expire_all()
        return _offer_page(req, mode=mode, code=409, error=f"{exc.message} {when_taken}")
    except service.BookingClosed as exc:
        db_session().expire_all()
        return _reload_or_problem(token, exc.message)
    return redirect(url_for("candidate.landing", token=token, done="1", **_tz_arg()), 303)


def _reload_or_problem(token: str, message: str) -> ResponseReturnValue:
    req = _request_for(token)
    if req.status in service.BOOKED:
        return _booked_page(req, error=message, code=409)
    raise _problem("This cannot be done now", message, 409, req.coordinator.email)


@bp.route("/<token>/reschedule", methods=["GET", "POST"])
def reschedule(token: str) -> ResponseReturnValue:
    req = _request_for(token)
    if req.status not in service.BOOKED:
        return redirect(url_for("candidate.landing", token=token, **_tz_arg()), 303)
    b = services.active_booking(req)
    assert b is not None
    if not service.can_change(b, now(), _policy()):
        return _booked_page(req, error=service.cutoff_message(_policy()), code=409)
    if request.method == "GET":
        return _offer_page(req, mode="reschedule")
    if not _option_given() or _idem_key() is None:
        return _offer_page(req, mode="reschedule", code=400, error="Choose one of the times first.")
    unchanged = "Your interview is unchanged; here are the times still free."
    return _submit(req, token, service.reschedule, "reschedule", unchanged)


@bp.post("/<token>/cancel")
def cancel(token: str) -> ResponseReturnValue:
    req = _request_for(token)
    if req.status not in service.BOOKED:
        return redirect(url_for("candidate.landing", token=token), 303)
    if request.form.get("confirm") != "yes":
        return _booked_page(req, error="Tick the box to confirm that you want to cancel.", code=400)
    reason = (request.form.get("reason") or "").strip()
    if len(reason) > MAX_REPLY:
        return _booked_page(
            req,
            error=f"The reason is too long ({len(reason)} characters, at most {MAX_REPLY}).",
            code=400,
        )
    try:
        service.cancel(get_db(), req.id, now=now(), policy=_policy(), reason=reason)
    except service.BookingClosed as exc:
        db_session().expire_all()
        return _reload_or_problem(token, exc.message)
    return render_template(
        "candidate/problem.html",
        title="Your interview is cancelled",
        message="Everyone in the interview has been told. "
        "If you want a new time, write to your recruiter.",
        contact=req.coordinator.email,
    )


@bp.post("/<token>/none")
def none_work(token: str) -> ResponseReturnValue:
    req = _request_for(token)
    if req.status not in service.OPEN:
        return redirect(url_for("candidate.landing", token=token), 303)
    tz = _tz_arg().get("tz") or service.candidate_zone(req)
    if not auth.allow(f"none:request:{req.id}", NONE_WORK_LIMIT):
        return _offer_page(
            req,
            mode="book",
            code=429,
            reply_error="We have your earlier message; please wait a few minutes to send more.",
            reply_text=(request.form.get("ranges") or "")[:MAX_REPLY],
        )
    return ranges_views.submit(req, token, tz, _offer_page)


@bp.get("/<token>/interview.ics")
def ics(token: str) -> ResponseReturnValue:
    req = _request_for(token)
    b = services.active_booking(req)
    if b is None or req.status not in service.BOOKED:
        raise _problem("Nothing is booked yet", "Choose a time first; then download it.", 404)
    data = service.download_ics(req, b, now(), _policy())
    return Response(
        data,
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="interview.ics"'},
    )
