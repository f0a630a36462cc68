"""The coordinator's side of a booking: move a booked interview to another time.

(Cancelling is the workspace's "Cancel request", which sends the iTIP CANCELs through
``web.domain.booking.cancel_in_session``.) Coordinators are not bound by the candidate's cut-off.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from web.domain import booking as service
from web.domain import repair
from web.domain.usecases.scheduling_requests import move_choices, own_request
from web.store.models import SchedulingRequest
from web.ui import auth
from web.ui.forms import ActionForm
from web.ui.helpers import db_session, get_db, get_settings, get_sync_config, now, parse_id
from web.ui.links import candidate_link
from web.ui.option_views import by_day, option_view, people_of

bp = Blueprint("coord_booking", __name__)


def _own(rid: int) -> SchedulingRequest:
    req = own_request(db_session(), rid, auth.me().id)
    if req is None:
        abort(404)
    return req


def _page(
    req: SchedulingRequest, *, error: str | None = None, code: int = 200
) -> ResponseReturnValue:
    me = auth.me()
    policy = service.BookingPolicy.from_settings(get_settings(), sync=get_sync_config())
    found = move_choices(db_session(), req, holds=policy.holds, now=now())
    if found is None:
        flash("Only a booked interview can be moved.")
        return redirect(url_for("coord_requests.request_detail", rid=req.id))
    req, b = found.req, found.booking
    people = people_of(req)
    views = [option_view(req, r, people, True) for r in found.options]
    return (
        render_template(
            "booking/coord_reschedule.html",
            req=req,
            b=b,
            groups=service.session_groups(b),
            days=by_day(views, me.timezone),
            tz=me.timezone,
            ctz=service.candidate_zone(req, b),
            idem=secrets.token_urlsafe(18),
            error=error,
        ),
        code,
    )


@bp.post("/requests/<int:rid>/swap")
@auth.login_required
def swap(rid: int) -> ResponseReturnValue:
    """Put another pool member in one seat of the booking (re-checked by the engine)."""
    req = _own(rid)
    if not ActionForm().validate_on_submit():
        abort(400)
    seat, leaver, joiner = (parse_id(request.form.get(k)) for k in ("seat", "leaver", "joiner"))
    if seat is None or leaver is None or joiner is None:
        flash("Choose who takes the seat.")
        return redirect(url_for("coord_requests.request_detail", rid=rid))
    row = db_session().get(service.BookingSession, seat)
    if row is None or row.booking.request_id != req.id:
        abort(404)
    try:
        result = repair.manual_swap(
            get_db(),
            seat,
            leaver,
            joiner,
            now(),
            service.BookingPolicy.from_settings(get_settings(), sync=get_sync_config()),
            actor=auth.actor().name,
        )
    except repair.SwapRefused as exc:
        flash(f"Not swapped: {exc.reason}.")
    else:
        flash(f"Swapped: {result.replacement} takes the seat; invitations are on their way.")
    return redirect(url_for("coord_requests.request_detail", rid=rid))


@bp.post("/requests/<int:rid>/notices/<int:seat>/dismiss")
@auth.login_required
def dismiss_notice(rid: int, seat: int) -> ResponseReturnValue:
    """The coordinator has seen to a dropout notice: it and the list's flag go (audited)."""
    req = _own(rid)
    if not ActionForm().validate_on_submit():
        abort(400)
    done = repair.dismiss_notice(db_session(), req, seat, auth.actor().name, now())
    flash("Dismissed the notice." if done else "Nothing to dismiss.")
    return redirect(url_for("coord_requests.request_detail", rid=rid))


@bp.route("/requests/<int:rid>/reschedule", methods=["GET", "POST"])
@auth.login_required
def reschedule(rid: int) -> ResponseReturnValue:
    req = _own(rid)
    if request.method == "GET":
        return _page(req)
    option_id = parse_id(request.form.get("option"))
    key = (request.form.get("idem") or "").strip()
    if option_id is None or not 16 <= len(key) <= 64:
        return _page(req, error="Choose one of the times.", code=400)
    try:
        service.reschedule(
            get_db(),
            req.id,
            option_id,
            idempotency_key=key,
            candidate_tz=None,
            now=now(),
            policy=service.BookingPolicy.from_settings(get_settings(), sync=get_sync_config()),
            actor=auth.actor().name,
            enforce_cutoff=False,
            link=candidate_link(req),
        )
    except service.BookingError as exc:
        db_session().expire_all()
        req = _own(rid)
        return _page(req, error=exc.message, code=409 if exc.kind == "taken" else 400)
    flash("The interview was moved; updated invitations are on their way.")
    return redirect(url_for("coord_requests.request_detail", rid=rid))
