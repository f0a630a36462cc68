"""The coordinator's interviewer pages: the list, the load view, add and edit, (de)activate,
calendars, sync, and mailing an interviewer their personal page link."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WResponse

from web.domain.usecases import interviewers as uc
from web.domain.usecases.interviewer_load import interviewer_loads
from web.domain.zones import all_zones, get_zone, offset_label, week_text
from web.store.models import CalendarSource, Interviewer
from web.ui import auth
from web.ui.forms import ActionForm, CalendarForm, InterviewerForm
from web.ui.helpers import db_session, get_settings, now
from web.ui.links import interviewer_link

bp = Blueprint("coord_interviewers", __name__)


def _stale_after() -> timedelta:
    return timedelta(minutes=float(get_settings().sync.stale_after_minutes))


def _sync_status(cal: CalendarSource, at: datetime) -> tuple[str, str]:
    return uc.sync_status(cal, at, _stale_after())


def _list_view(rows: list[Interviewer], at: datetime) -> list[tuple[Any, ...]]:
    """One row per interviewer: (row, offset, local time, week text, calendars' states)."""
    # Precomputed per zone and per week: a company has few of each, lists have many rows.
    zones: dict[str, tuple[str, str]] = {}
    weeks: dict[str, str] = {}
    view = []
    for r in rows:
        if r.timezone not in zones:
            zones[r.timezone] = (
                offset_label(r.timezone, at),
                at.astimezone(get_zone(r.timezone)).strftime("%a %H:%M"),
            )
        wkey = repr(sorted((r.working_hours or {}).items()))
        if wkey not in weeks:
            weeks[wkey] = week_text(r.working_hours or {})
        cals = [(*_sync_status(c, at), c.kind, c.label) for c in r.calendars]
        view.append((r, zones[r.timezone][0], zones[r.timezone][1], weeks[wkey], cals))
    return view


@bp.get("/interviewers")
@auth.login_required
def interviewers_list() -> str:
    show = request.args.get("show", "active")
    rows = uc.list_interviewers(db_session(), include_inactive=show == "all")
    return render_template("coord/interviewers.html", view=_list_view(rows, now()), show=show)


@bp.get("/interviewers/load")
@auth.login_required
def interviewers_load() -> str:
    """Interviews this week and next per interviewer (their local ISO weeks), against caps."""
    show = request.args.get("show", "active")
    rows = interviewer_loads(db_session(), now(), include_inactive=show == "all")
    return render_template("coord/interviewer_load.html", rows=rows, show=show)


def _interviewer_or_404(iid: int) -> Interviewer:
    row = uc.get_interviewer(db_session(), iid)
    if row is None:
        abort(404)
    return row


def _fields(form: InterviewerForm) -> uc.InterviewerFields:
    return uc.InterviewerFields(
        key=form.key.data.strip(),
        name=form.name.data.strip(),
        email=form.email.data.strip(),
        timezone=form.timezone.data.strip(),
        working_hours=form.parsed_hours,
        max_interviews_per_day=form.max_interviews_per_day.data,
        max_interviews_per_week=form.max_interviews_per_week.data,
    )


def _form_page(form: InterviewerForm, row: Interviewer | None) -> tuple[str, int]:
    code = 400 if request.method == "POST" else 200
    html = render_template("coord/interviewer_form.html", form=form, row=row, zones=all_zones())
    return html, code


@bp.route("/interviewers/new", methods=["GET", "POST"])
@auth.login_required
def interviewer_new() -> str | WResponse | tuple[str, int]:
    form = InterviewerForm()
    if request.method == "GET":
        form.working_hours.data = "mon-fri 09:00-17:00"
    if form.validate_on_submit():
        try:
            row = uc.create_interviewer(db_session(), _fields(form), auth.actor(), now())
        except uc.KeyTaken:
            form.key.errors.append(f"an interviewer with id {form.key.data!r} exists")
        else:
            flash(f"Added {row.name}.")
            return redirect(url_for("coord_interviewers.interviewer_detail", iid=row.id))
    return _form_page(form, None)


def _detail_page(row: Interviewer, form: CalendarForm, link: str | None) -> str:
    at = now()
    return render_template(
        "coord/interviewer_detail.html",
        row=row,
        at=at,
        week_text=week_text,
        sync_status=lambda c: _sync_status(c, at),
        local_now=at.astimezone(ZoneInfo(row.timezone)).strftime("%a %d %b %H:%M"),
        calendar_form=form,
        action=ActionForm(),
        personal_link=link,
    )


@bp.get("/interviewers/<int:iid>")
@auth.login_required
def interviewer_detail(iid: int) -> str:
    row = _interviewer_or_404(iid)
    return _detail_page(row, CalendarForm(), interviewer_link(row))


@bp.route("/interviewers/<int:iid>/edit", methods=["GET", "POST"])
@auth.login_required
def interviewer_edit(iid: int) -> str | WResponse | tuple[str, int]:
    row = _interviewer_or_404(iid)
    form = InterviewerForm(obj=row if request.method == "GET" else None)
    if request.method == "GET":
        form.working_hours.data = week_text(row.working_hours)
    if form.validate_on_submit():
        try:
            uc.update_interviewer(db_session(), row, _fields(form), auth.actor(), now())
        except uc.KeyTaken:
            form.key.errors.append(f"an interviewer with id {form.key.data!r} exists")
        else:
            flash("Saved.")
            return redirect(url_for("coord_interviewers.interviewer_detail", iid=row.id))
    return _form_page(form, row)


@bp.post("/interviewers/<int:iid>/active")
@auth.login_required
def interviewer_active(iid: int) -> WResponse:
    row = _interviewer_or_404(iid)
    if not ActionForm().validate_on_submit():
        abort(400)
    uc.toggle_active(db_session(), row, auth.actor(), now())
    flash(f"{row.name} is now {'active' if row.active else 'inactive'}.")
    return redirect(url_for("coord_interviewers.interviewer_detail", iid=row.id))


@bp.post("/interviewers/<int:iid>/calendars")
@auth.login_required
def interviewer_add_calendar(iid: int) -> str | WResponse | tuple[str, int]:
    row = _interviewer_or_404(iid)
    form = CalendarForm()
    if not form.validate_on_submit():
        return _detail_page(row, form, None), 400
    uc.add_calendar(
        db_session(),
        row,
        kind=form.kind.data,
        url=form.url.data.strip(),
        label=(form.label.data or "").strip(),
        who=auth.actor(),
        now=now(),
    )
    flash("Calendar added; a sync has been queued.")
    return redirect(url_for("coord_interviewers.interviewer_detail", iid=row.id))


@bp.post("/interviewers/<int:iid>/send-link")
@auth.login_required
def interviewer_send_link(iid: int) -> WResponse:
    """Mail the interviewer their personal page link (one click, CSRF, audited)."""
    row = _interviewer_or_404(iid)
    if not ActionForm().validate_on_submit():
        abort(400)
    back = redirect(url_for("coord_interviewers.interviewer_detail", iid=row.id))
    if not auth.allow(f"send-link:interviewer:{row.id}", auth.SYNC_NOW_LIMIT):
        flash("The link was sent several times already; wait a few minutes.")
        return back
    me = auth.me()
    try:
        uc.send_personal_link(
            db_session(), row, interviewer_link(row), me.name or me.email, auth.actor(), now()
        )
    except uc.InterviewerInactive:
        flash(f"{row.name} is inactive: reactivate them first, their links do not work.")
        return back
    flash(f"Sent {row.name} their personal page link at {row.email}.")
    return back


@bp.post("/interviewers/<int:iid>/sync")
@auth.login_required
def interviewer_sync(iid: int) -> WResponse:
    row = _interviewer_or_404(iid)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not auth.allow(f"sync:interviewer:{row.id}", auth.SYNC_NOW_LIMIT):
        flash("Synced often already; wait a few minutes, the worker also syncs on its own.")
        return redirect(url_for("coord_interviewers.interviewer_detail", iid=row.id))
    uc.queue_sync(db_session(), row, auth.actor().name, now())
    flash("Sync queued; the worker picks it up within seconds.")
    return redirect(url_for("coord_interviewers.interviewer_detail", iid=row.id))
