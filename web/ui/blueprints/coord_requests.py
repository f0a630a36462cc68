"""The coordinator's scheduling requests: new (search), preview and send, list, detail,
resend and cancel. The use cases are :mod:`web.domain.usecases.scheduling_requests`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WResponse
from wtforms import SelectChoice

from web.domain import booking as booking_service
from web.domain import failures, repair, services
from web.domain.usecases import candidate_ranges as ranges_uc
from web.domain.usecases import draft_search, loops
from web.domain.usecases import scheduling_requests as uc
from web.domain.usecases.request_flags import Reason
from web.domain.zones import all_zones, canonical_zone, parse_week, zone_ok
from web.store.models import Interviewer, OfferedOption, SchedulingRequest
from web.store.statuses import AWAITING_CANDIDATE
from web.ui import auth, search_views
from web.ui.forms import ActionForm, OfferForm, RequestForm
from web.ui.helpers import db_session, get_settings, get_sync_config, now
from web.ui.links import candidate_link
from web.ui.preview_views import SORTS, people_of_loop, preview_days
from web.ui.timeline import candidate_row, interviewer_row, render, shared_hours, span_on

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


def _replace_old(rid_text: str) -> None:
    """After a suggestion's re-run from a draft's preview: the old draft goes."""
    if rid_text.isdigit():
        old = uc.own_request(db_session(), int(rid_text), auth.me().id)
        if old is not None:
            uc.delete_draft(db_session(), old, auth.actor(), now())


@dataclass(frozen=True)
class _Outcome:
    """A search that gave no draft: a problem, or what the engine found (and why), or what a
    loop change tried for this search only gives."""

    problem: str | None = None
    found: draft_search.Found | None = None
    tried: draft_search.LoopChange | None = None


def _search(form: RequestForm) -> WResponse | _Outcome:
    """Run the form's search: the preview of a new draft, or an outcome to show with the
    form kept as typed. A suggestion's loop change is tried without saving anything."""
    me = auth.me()
    try:
        change = search_views.change_of(request.form)
        if change is not None:
            found = uc.try_change(
                db_session(), _draft(form), change, home_tz=me.timezone, now=now()
            )
            return _Outcome(found=found, tried=change)
        req = uc.draft_request(
            db_session(), _draft(form), auth.actor(), home_tz=me.timezone, now=now()
        )
    except uc.NoOptions as exc:
        return _Outcome(found=exc.found)
    except LookupError:
        abort(404)
    except draft_search.ChangeError as exc:
        return _Outcome(problem=f"{exc.field} {exc.value!r}: {exc.message}")
    except services.SearchProblem as exc:
        return _Outcome(problem=exc.message)
    _replace_old(request.form.get("replaces", ""))
    note = search_views.tried_note(request.form, len(req.options))
    if note:
        flash(note)
    return redirect(url_for("coord_requests.request_preview", rid=req.id))


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
    outcome = _Outcome()
    if form.validate_on_submit():
        result = _search(form)
        if not isinstance(result, _Outcome):
            return result
        outcome = result
    posted = request.method == "POST"
    code = 422 if outcome.problem else 400 if posted and not outcome.found else 200
    found = outcome.found if outcome.tried is None else None
    return render_template(
        "coord/request_form.html",
        form=form,
        problem=outcome.problem,
        zones=all_zones(),
        found=found,
        tried=outcome.tried,
        tried_found=outcome.found if outcome.tried else None,
        names=people_of_loop(form.loop.data) if outcome.tried else {},
        my_tz=me.timezone,
        tz=(form.candidate_tz.data or "").strip() or me.timezone,
        tries=search_views.buttons(
            found.explanation if found else None, search_views.typed(request.form)
        ),
    ), code


def _timeline(
    req: SchedulingRequest,
    opt_row: OfferedOption,
    people: dict[str, Interviewer],
    busy: tuple[uc.Busy, uc.Busy],
    hours: tuple[int, int],
) -> Any:
    opt = services.stored_option(opt_row)
    axis = auth.me().timezone
    span = span_on(opt, axis, hours)
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
                busy=busy[0].get(key, []),
                holds=busy[1].get(key, []),
            )
        )
    title = f"Option {opt_row.rank}: who is at which local hour"
    return render(rows, span, title, axis_tz=axis, hours=hours)


def _with_people(req: SchedulingRequest) -> dict[str, Any]:
    """What the preview and the detail page share: people, their timelines, the zones."""
    s = db_session()
    people = uc.people_for(s, req)
    busy = uc.busy_for(s, req, people, now())
    me = auth.me()
    hours = shared_hours([services.stored_option(o) for o in req.options], me.timezone)
    return {
        "req": req,
        "people": people,
        "timeline": lambda o: _timeline(req, o, people, busy, hours),
        "tz": _zone(req),
        "my_tz": me.timezone,
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


def _preview(req: SchedulingRequest, form: OfferForm, problem: str | None = None) -> str:
    """The preview page: options by the candidate's day, near-duplicates folded, and with
    fewer options than are offered, the engine's explanation and its suggestions."""
    wanted = int(get_settings().server.offer_count)
    sort = request.args.get("sort", "time")
    sort = sort if sort in SORTS else "time"
    found = None
    if len(req.options) < wanted:
        found = uc.explain_draft(db_session(), req, wanted=wanted, now=now())
    return render_template(
        "coord/request_preview.html",
        form=form,
        problem=problem,
        days=preview_days(list(req.options), _zone(req), sort),
        sort=sort,
        sorts=SORTS,
        ticked=set(form.options.data or []),
        found=found,
        tries=search_views.buttons(
            found.explanation if found else None, search_views.of_request(req)
        ),
        delete=ActionForm(),
        sessions_of=lambda o: services.stored_option(o).sessions,
        **_with_people(req),
    )


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
    return _preview(req, form)


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
        return _preview(req, form, "Choose at least one option to offer."), 400
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


@bp.post("/requests/<int:rid>/delete")
@auth.login_required
def request_delete(rid: int) -> WResponse:
    req = _own_request(rid)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not uc.delete_draft(db_session(), req, auth.actor(), now()):
        flash(f"A {req.status} request cannot be deleted; cancel it instead.")
        return _back(rid)
    flash("Draft deleted.")
    return redirect(url_for("coord_requests.requests_list"))


@bp.get("/requests")
@auth.login_required
def requests_list() -> str:
    me = auth.me()
    status = request.args.get("status", "")
    status = status if status in uc.STATUSES else ""
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
        needs=_needs_all(found.rows),
    )


def _needs_all(rows: list[SchedulingRequest]) -> dict[int, list[Reason]]:
    stale = timedelta(minutes=float(get_settings().sync.stale_after_minutes))
    return uc.needs_coordinator(db_session(), rows, now=now(), stale_after=stale)


def _needs(req: SchedulingRequest) -> list[Reason]:
    return _needs_all([req]).get(req.id, [])


@bp.get("/requests/<int:rid>")
@auth.login_required
def request_detail(rid: int) -> str:
    req = _own_request(rid)
    b = services.active_booking(req)
    return render_template(
        "coord/request_detail.html",
        mails=uc.request_mails(db_session(), req),
        failed_jobs=failures.failed_jobs(db_session(), req),
        live_fallbacks=failures.live_fallbacks(db_session(), req, b),
        shown_error=failures.shown_error,
        booking=b,
        repair_notices=repair.open_notices(db_session(), req),
        swaps=repair.swap_choices(db_session(), b, now()) if b else {},
        action=ActionForm(),
        link=candidate_link(req) if req.status in AWAITING_CANDIDATE else None,
        reply=(reply := ranges_uc.current_reply(db_session(), req.id)),
        found=ranges_uc.found_options(reply),
        needs_you=_needs(req),
        **_with_people(req),
    )


@bp.post("/requests/<int:rid>/ranges/send")
@auth.login_required
def ranges_send(rid: int) -> WResponse:
    """One click: the options found inside the candidate's ranges are offered and mailed."""
    req = _own_request(rid)
    if not ActionForm().validate_on_submit():
        abort(400)
    if req.status not in booking_service.OPEN:
        flash(f"A {req.status} request cannot be sent new times.")
        return _back(rid)
    me = auth.me()
    try:
        sent = ranges_uc.send_found(
            db_session(),
            req,
            candidate_link(req),
            me.name or me.email,
            auth.actor(),
            policy=_policy(),
            now=now(),
        )
    except ranges_uc.NoneStillFree as exc:
        flash(
            f"None of the {exc.found} time(s) found is still free; nothing was sent. "
            "Search again from a new request or write to the candidate."
        )
        return _back(rid)
    flash(f"Sent {sent} time(s) to {req.candidate_email}." if sent else "Nothing to send.")
    return _back(rid)


@bp.post("/requests/<int:rid>/ranges/dismiss")
@auth.login_required
def ranges_dismiss(rid: int) -> WResponse:
    req = _own_request(rid)
    if not ActionForm().validate_on_submit():
        abort(400)
    done = ranges_uc.dismiss(db_session(), req, auth.actor(), now())
    flash("Dismissed the candidate's reply." if done else "Nothing to dismiss.")
    return _back(rid)


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


def _requeue(rid: int, what: str, run: Any) -> WResponse:
    """Put a failed job or mail of the signed-in coordinator's request back in the queue."""
    req = _own_request(rid)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        run(db_session(), req, auth.actor(), now())
    except failures.NotRetryable as exc:
        if exc.status is None:
            abort(404)
        flash(f"That {what} is {exc.status}; it was already queued again.")
        return _back(rid)
    flash(f"The {what} is queued again; the worker takes it within seconds.")
    return _back(rid)


@bp.post("/requests/<int:rid>/jobs/<int:job_id>/retry")
@auth.login_required
def request_job_retry(rid: int, job_id: int) -> WResponse:
    """Queue a job of this request that failed for good again, its attempts reset."""
    return _requeue(rid, "job", lambda s, req, who, at: failures.retry_job(s, req, job_id, who, at))


@bp.post("/requests/<int:rid>/mails/<int:mail_id>/resend")
@auth.login_required
def request_mail_resend(rid: int, mail_id: int) -> WResponse:
    """Queue a mail of this request that failed for good again, its attempts reset."""
    return _requeue(
        rid, "mail", lambda s, req, who, at: failures.resend_mail(s, req, mail_id, who, at)
    )
