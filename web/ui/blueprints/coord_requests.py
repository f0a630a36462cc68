"""The coordinator's scheduling requests: new (search), preview and send, list, detail,
resend and cancel. The use cases are :mod:`web.domain.usecases.scheduling_requests`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WResponse
from wtforms import SelectChoice

from web.domain import booking as booking_service
from web.domain import repair, services
from web.domain.usecases import loops
from web.domain.usecases import scheduling_requests as uc
from web.domain.zones import all_zones, canonical_zone, parse_week, zone_ok
from web.store.models import Interviewer, OfferedOption, SchedulingRequest
from web.store.statuses import AWAITING_CANDIDATE
from web.ui import auth
from web.ui.forms import ActionForm, OfferForm, RequestForm
from web.ui.helpers import db_session, get_settings, get_sync_config, now
from web.ui.links import candidate_link
from web.ui.timeline import candidate_row, interviewer_row, render, span_for

bp = Blueprint("coord_requests", __name__)
PAGE = 50


def _own_request(rid: int) -> SchedulingRequest:
    req = uc.own_request(db_session(), rid, auth.me().id)
    if req is None:
        abort(404)
    return req


def _zone(req: SchedulingRequest) -> str:
    return req.candidate_tz or auth.me().timezone


def _sending(req: SchedulingRequest) -> uc.Sending:
    me = auth.me()
    days = int(get_settings().security.link_max_age_days)
    return uc.Sending(link=candidate_link(req), sender=me.name or me.email, link_days=days)


def _policy() -> booking_service.BookingPolicy:
    return booking_service.BookingPolicy.from_settings(get_settings(), sync=get_sync_config())


def _back(rid: int) -> WResponse:
    return redirect(url_for("coord_requests.request_detail", rid=rid))


def _draft(form: RequestForm) -> uc.RequestDraft:
    return uc.RequestDraft(
        loop_id=form.loop.data,
        candidate_name=form.candidate_name.data.strip(),
        candidate_email=form.candidate_email.data.strip(),
        candidate_tz=(form.candidate_tz.data or "").strip() or None,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        hours=form.parsed_hours,
        note=(form.note.data or "").strip(),
    )


@bp.route("/requests/new", methods=["GET", "POST"])
@auth.login_required
def request_new() -> str | WResponse | tuple[str, int]:
    form = RequestForm()
    form.loop.choices = [
        SelectChoice(str(lp.id), lp.name) for lp in loops.active_loops(db_session())
    ]
    me = auth.me()
    if request.method == "GET":
        today = now().astimezone(ZoneInfo(me.timezone)).date()
        form.date_from.data = today + timedelta(days=2)
        form.date_to.data = today + timedelta(days=12)
    problem = None
    if form.validate_on_submit():
        try:
            req = uc.draft_request(
                db_session(), _draft(form), auth.actor(), home_tz=me.timezone, now=now()
            )
        except LookupError:
            abort(404)
        except services.SearchProblem as exc:
            problem = exc.message
        else:
            return redirect(url_for("coord_requests.request_preview", rid=req.id))
    code = 422 if problem else 400 if request.method == "POST" else 200
    return render_template(
        "coord/request_form.html", form=form, problem=problem, zones=all_zones()
    ), code


def _timeline(
    req: SchedulingRequest,
    opt_row: OfferedOption,
    people: dict[str, Interviewer],
    busy: uc.Busy,
) -> Any:
    opt = services.stored_option(opt_row)
    span = span_for(opt)
    rows = [
        candidate_row(
            f"{req.candidate_name} (candidate)",
            _zone(req),
            (req.candidate_hours_start, req.candidate_hours_end),
            opt,
        )
    ]
    for key in dict.fromkeys(opt.interviewer_ids()):
        p = people.get(key)
        if p is None:
            continue
        rows.append(
            interviewer_row(
                p.name,
                p.timezone,
                parse_week(p.working_hours),
                key,
                opt,
                span,
                busy=busy.get(key, []),
            )
        )
    return render(rows, span, f"Option {opt_row.rank}: who is at which local hour")


def _with_people(req: SchedulingRequest) -> dict[str, Any]:
    """What the preview and the detail page share: people, their timelines, the zones."""
    s = db_session()
    people = uc.people_for(s, req)
    busy = uc.busy_for(s, req, people, now())
    return {
        "req": req,
        "people": people,
        "timeline": lambda o: _timeline(req, o, people, busy),
        "tz": _zone(req),
        "my_tz": auth.me().timezone,
        "seen_tz": _seen_zone(req),
    }


def _seen_zone(req: SchedulingRequest) -> str | None:
    """The candidate's zone as their browser reported it or they chose it, when known."""
    b = services.active_booking(req)
    for tz in ((b.candidate_tz if b else None), req.candidate_zone):
        if tz and zone_ok(tz):
            return canonical_zone(tz)
    return None


def _option_choices(req: SchedulingRequest) -> list[SelectChoice]:
    return [SelectChoice(str(o.id), f"Option {o.rank}") for o in req.options]


@bp.get("/requests/<int:rid>/preview")
@auth.login_required
def request_preview(rid: int) -> str | WResponse:
    req = _own_request(rid)
    if req.status != "draft":
        return _back(rid)
    form = OfferForm()
    form.options.choices = _option_choices(req)
    n = int(get_settings().server.offer_count)
    form.options.data = uc.default_offer(req, n, _zone(req))
    return render_template(
        "coord/request_preview.html", form=form, problem=None, **_with_people(req)
    )


@bp.post("/requests/<int:rid>/send")
@auth.login_required
def request_send(rid: int) -> str | WResponse | tuple[str, int]:
    req = _own_request(rid)
    if req.status != "draft":
        flash("This request was already sent.")
        return _back(rid)
    form = OfferForm()
    form.options.choices = _option_choices(req)
    if not form.validate_on_submit():
        problem = "Choose at least one option to offer."
        html = render_template(
            "coord/request_preview.html", form=form, problem=problem, **_with_people(req)
        )
        return html, 400
    sent = uc.send_request(
        db_session(),
        req,
        set(form.options.data),
        _sending(req),
        auth.actor(),
        policy=_policy(),
        now=now(),
        live=bool(form.live.data),
    )
    if form.live.data:
        flash(f"Sent a link to live availability to {req.candidate_email}.")
    else:
        flash(f"Sent {sent} option(s) to {req.candidate_email}.")
    return _back(req.id)


@bp.get("/requests")
@auth.login_required
def requests_list() -> str:
    me = auth.me()
    status = request.args.get("status", "")
    page = max(1, request.args.get("page", 1, type=int) or 1)
    found = uc.list_requests(db_session(), me.id, status, page, PAGE)
    return render_template(
        "coord/requests.html",
        rows=found.rows,
        status=status,
        page=page,
        pages=max(1, -(-found.total // PAGE)),
        total=found.total,
        booked_at=found.booked_at,
        my_tz=me.timezone,
        statuses=uc.STATUSES,
    )


@bp.get("/requests/<int:rid>")
@auth.login_required
def request_detail(rid: int) -> str:
    req = _own_request(rid)
    b = services.active_booking(req)
    return render_template(
        "coord/request_detail.html",
        mails=uc.request_mails(db_session(), req),
        booking=b,
        repair_notices=repair.open_notices(db_session(), req),
        swaps=repair.swap_choices(db_session(), b, now()) if b else {},
        action=ActionForm(),
        link=candidate_link(req) if req.status in AWAITING_CANDIDATE else None,
        **_with_people(req),
    )


@bp.post("/requests/<int:rid>/resend")
@auth.login_required
def request_resend(rid: int) -> WResponse:
    req = _own_request(rid)
    if not ActionForm().validate_on_submit():
        abort(400)
    if req.status not in ("sent", "opened"):
        flash(f"A {req.status} request cannot be resent.")
        return _back(rid)
    uc.resend_request(db_session(), req, _sending(req), auth.actor(), now())
    flash(f"Sent the link again to {req.candidate_email}.")
    return _back(rid)


@bp.post("/requests/<int:rid>/cancel")
@auth.login_required
def request_cancel(rid: int) -> WResponse:
    req = _own_request(rid)
    if not ActionForm().validate_on_submit():
        abort(400)
    if req.status in ("cancelled", "expired"):
        flash(f"This request is already {req.status}.")
        return _back(rid)
    me = auth.me()
    uc.cancel_request(
        db_session(), req, me.name or me.email, auth.actor(), policy=_policy(), now=now()
    )
    flash("Request cancelled.")
    return _back(rid)
