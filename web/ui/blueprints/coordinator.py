"""The coordinators' workspace: sign-in, interviewers, loops, scheduling requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response as WResponse
from wtforms import SelectChoice

from scheduler.engine import pick_diverse
from scheduler.model import Interval
from web.domain import booking as booking_service
from web.domain import calsync, services
from web.domain.importer import export_toml
from web.domain.jobs import enqueue
from web.domain.zones import all_zones, get_zone, offset_label, week_text
from web.store.models import (
    AuditLog,
    CalendarSource,
    Interviewer,
    Loop,
    LoopSession,
    OfferedOption,
    OutboxMail,
    SchedulingRequest,
    SessionPool,
)
from web.store.statuses import AWAITING_CANDIDATE
from web.ui import auth
from web.ui.forms import (
    AccountForm,
    ActionForm,
    CalendarForm,
    InterviewerForm,
    LoginForm,
    LoopForm,
    OfferForm,
    RequestForm,
)
from web.ui.helpers import audit, db_session, get_settings, now
from web.ui.security import safe_next
from web.ui.timeline import candidate_row, interviewer_row, render, span_for

bp = Blueprint("coordinator", __name__)
PAGE = 50
STALE_AFTER = timedelta(hours=1)


def _me() -> Any:
    me = auth.current_coordinator()
    assert me is not None
    return me


def _actor() -> str:
    return f"coordinator:{_me().email}"


# ---------------------------------------------------------------- sign-in


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | WResponse | tuple[str, int]:
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        s = db_session()
        email = form.email.data.strip().lower()
        remote = request.remote_addr or ""
        if auth.too_many_attempts(s, email, remote):
            minutes = get_settings().security.signin_window_minutes
            error = f"Too many failed sign-ins. Wait {minutes} minutes and try again."
            status = 429
        else:
            who = auth.authenticate(s, email, form.password.data)
            if who is None:
                auth.record_failure(s, email, remote)
                audit(s, f"anonymous:{email}", "signin_failed")
                s.commit()
                error = "Wrong e-mail or password."
                status = 401
            else:
                auth.clear_failures(s, email)
                audit(s, f"coordinator:{who.email}", "signin", coordinator_id=who.id)
                s.commit()
                session.clear()
                session["coordinator_id"] = who.id
                nxt = safe_next(request.args.get("next"))
                return redirect(nxt or url_for("coordinator.requests_list"))
    elif request.method == "POST":
        status = 400
    return render_template("coord/login.html", form=form, error=error), status


@bp.post("/logout")
@auth.login_required
def logout() -> WResponse:
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    session.clear()
    return redirect(url_for("coordinator.login"))


@bp.route("/account", methods=["GET", "POST"])
@auth.login_required
def account() -> str | WResponse | tuple[str, int]:
    me = _me()
    form = AccountForm(obj=me if request.method == "GET" else None)
    error = None
    if form.validate_on_submit():
        s = db_session()
        if (
            form.new_password.data
            and auth.authenticate(s, me.email, form.current_password.data) is None
        ):
            error = "The current password is wrong."
        else:
            me.name = (form.name.data or "").strip()
            me.timezone = form.timezone.data.strip()
            if form.new_password.data:
                me.password_hash = auth.hash_password(form.new_password.data)
            audit(
                s,
                _actor(),
                "account_edited",
                "coordinator",
                me.id,
                coordinator_id=me.id,
                password_changed=bool(form.new_password.data),
            )
            s.commit()
            flash("Account saved.")
            return redirect(url_for("coordinator.account"))
    code = 400 if request.method == "POST" else 200
    return render_template("coord/account.html", form=form, error=error, zones=all_zones()), code


@bp.get("/")
def home() -> WResponse:
    if auth.current_coordinator() is None:
        return redirect(url_for("coordinator.login"))
    return redirect(url_for("coordinator.requests_list"))


# ---------------------------------------------------------------- interviewers


def _sync_status(cal: CalendarSource, at: datetime) -> tuple[str, str]:
    """(css class, text) of a calendar's sync state."""
    if cal.needs_reconnect:
        return "bad", f"reconnect needed (the interviewer must reconnect): {cal.last_error}"
    if cal.last_error and (
        cal.last_good_sync_at is None or (cal.last_attempt_at or at) >= cal.last_good_sync_at
    ):
        kept = (
            f" (using the last good copy from {calsync.ago(at - cal.last_good_sync_at)})"
            if cal.last_good_sync_at
            else ""
        )
        return "bad", f"error: {cal.last_error}{kept}"
    if cal.last_good_sync_at is None:
        return "warn", "never synced"
    age = at - cal.last_good_sync_at
    text = f"synced {calsync.ago(age)}"
    stale_after = timedelta(minutes=float(get_settings().sync.stale_after_minutes))
    if age > stale_after:
        return "warn", f"stale: {text} (older than {stale_after.total_seconds() / 60:g} min)"
    return "ok", text


@bp.get("/interviewers")
@auth.login_required
def interviewers_list() -> str:
    s = db_session()
    show = request.args.get("show", "active")
    q = select(Interviewer).options(selectinload(Interviewer.calendars)).order_by(Interviewer.name)
    if show != "all":
        q = q.where(Interviewer.active.is_(True))
    rows = list(s.scalars(q))
    at = now()
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
    return render_template("coord/interviewers.html", view=view, show=show)


def _interviewer_or_404(iid: int) -> Interviewer:
    row = db_session().scalar(
        select(Interviewer)
        .where(Interviewer.id == iid)
        .options(selectinload(Interviewer.calendars))
    )
    if row is None:
        abort(404)
    return row


def _key_taken(model: Any, key: str, own_id: int | None) -> bool:
    found = db_session().scalar(select(model.id).where(model.key == key))
    return found is not None and found != own_id


def _fill_interviewer(row: Interviewer, form: InterviewerForm) -> Interviewer:
    """Copy the form's fields onto ``row`` (new or edited)."""
    row.key = form.key.data.strip()
    row.name = form.name.data.strip()
    row.email = form.email.data.strip()
    row.timezone = form.timezone.data.strip()
    row.working_hours = form.parsed_hours
    row.max_interviews_per_day = form.max_interviews_per_day.data
    return row


@bp.route("/interviewers/new", methods=["GET", "POST"])
@auth.login_required
def interviewer_new() -> str | WResponse | tuple[str, int]:
    form = InterviewerForm()
    if request.method == "GET":
        form.working_hours.data = "mon-fri 09:00-17:00"
    if form.validate_on_submit():
        if _key_taken(Interviewer, form.key.data.strip(), None):
            form.key.errors.append(f"an interviewer with id {form.key.data!r} exists")
        else:
            s = db_session()
            row = _fill_interviewer(Interviewer(link_nonce=services.new_nonce()), form)
            s.add(row)
            s.flush()
            audit(
                s, _actor(), "interviewer_created", "interviewer", row.id, coordinator_id=_me().id
            )
            s.commit()
            flash(f"Added {row.name}.")
            return redirect(url_for("coordinator.interviewer_detail", iid=row.id))
    code = 400 if request.method == "POST" else 200
    return render_template(
        "coord/interviewer_form.html", form=form, row=None, zones=all_zones()
    ), code


@bp.get("/interviewers/<int:iid>")
@auth.login_required
def interviewer_detail(iid: int) -> str:
    row = _interviewer_or_404(iid)
    at = now()
    from web.domain.services import interviewer_token

    link = _public_url() + url_for(
        "interviewer.landing", token=interviewer_token(_secret(), row, now=now())
    ).lstrip("/")
    return render_template(
        "coord/interviewer_detail.html",
        row=row,
        at=at,
        week_text=week_text,
        sync_status=lambda c: _sync_status(c, at),
        local_now=at.astimezone(ZoneInfo(row.timezone)).strftime("%a %d %b %H:%M"),
        calendar_form=CalendarForm(),
        action=ActionForm(),
        personal_link=link,
    )


@bp.route("/interviewers/<int:iid>/edit", methods=["GET", "POST"])
@auth.login_required
def interviewer_edit(iid: int) -> str | WResponse | tuple[str, int]:
    row = _interviewer_or_404(iid)
    form = InterviewerForm(obj=row if request.method == "GET" else None)
    if request.method == "GET":
        form.working_hours.data = week_text(row.working_hours)
    if form.validate_on_submit():
        if _key_taken(Interviewer, form.key.data.strip(), row.id):
            form.key.errors.append(f"an interviewer with id {form.key.data!r} exists")
        else:
            s = db_session()
            _fill_interviewer(row, form)
            audit(s, _actor(), "interviewer_edited", "interviewer", row.id, coordinator_id=_me().id)
            s.commit()
            flash("Saved.")
            return redirect(url_for("coordinator.interviewer_detail", iid=row.id))
    code = 400 if request.method == "POST" else 200
    return render_template(
        "coord/interviewer_form.html", form=form, row=row, zones=all_zones()
    ), code


@bp.post("/interviewers/<int:iid>/active")
@auth.login_required
def interviewer_active(iid: int) -> WResponse:
    row = _interviewer_or_404(iid)
    if not ActionForm().validate_on_submit():
        abort(400)
    s = db_session()
    row.active = not row.active
    if not row.active:
        row.link_nonce = services.new_nonce()  # revoke personal links
    audit(
        s,
        _actor(),
        "interviewer_" + ("activated" if row.active else "deactivated"),
        "interviewer",
        row.id,
        coordinator_id=_me().id,
    )
    s.commit()
    flash(f"{row.name} is now {'active' if row.active else 'inactive'}.")
    return redirect(url_for("coordinator.interviewer_detail", iid=row.id))


@bp.post("/interviewers/<int:iid>/calendars")
@auth.login_required
def interviewer_add_calendar(iid: int) -> str | WResponse | tuple[str, int]:
    row = _interviewer_or_404(iid)
    form = CalendarForm()
    if form.validate_on_submit():
        s = db_session()
        url = form.url.data.strip()
        cal = CalendarSource(
            kind=form.kind.data,
            label=(form.label.data or "").strip() or url.rsplit("/", 1)[-1],
            url=url,
        )
        row.calendars.append(cal)
        s.flush()
        enqueue(s, "sync_interviewer", {"interviewer_id": row.id}, now=now(), requested_by=_actor())
        audit(
            s,
            _actor(),
            "calendar_added",
            "interviewer",
            row.id,
            coordinator_id=_me().id,
            kind=cal.kind,
        )
        s.commit()
        flash("Calendar added; a sync has been queued.")
        return redirect(url_for("coordinator.interviewer_detail", iid=row.id))
    at = now()
    return (
        render_template(
            "coord/interviewer_detail.html",
            row=row,
            at=at,
            week_text=week_text,
            sync_status=lambda c: _sync_status(c, at),
            local_now=at.astimezone(ZoneInfo(row.timezone)).strftime("%a %d %b %H:%M"),
            calendar_form=form,
            action=ActionForm(),
            personal_link=None,
        ),
        400,
    )


@bp.post("/interviewers/<int:iid>/sync")
@auth.login_required
def interviewer_sync(iid: int) -> WResponse:
    row = _interviewer_or_404(iid)
    if not ActionForm().validate_on_submit():
        abort(400)
    s = db_session()
    enqueue(s, "sync_interviewer", {"interviewer_id": row.id}, now=now(), requested_by=_actor())
    s.commit()
    flash("Sync queued; the worker picks it up within seconds.")
    return redirect(url_for("coordinator.interviewer_detail", iid=row.id))


# ---------------------------------------------------------------- loops


def _pool_choices() -> list[SelectChoice]:
    rows = db_session().scalars(
        select(Interviewer).where(Interviewer.active.is_(True)).order_by(Interviewer.name)
    )
    return [SelectChoice(str(i.id), f"{i.name} ({i.timezone})") for i in rows]


def _loop_form(loop: Loop | None) -> LoopForm:
    form = LoopForm(obj=loop if (loop is not None and request.method == "GET") else None)
    if request.method == "GET":
        while len(form.sessions) > 0:
            form.sessions.pop_entry()
        for ls in loop.sessions if loop else []:
            form.sessions.append_entry(
                {
                    "name": ls.name,
                    "duration_minutes": ls.duration_minutes,
                    "required": ls.required,
                    "pool": [i.id for i in ls.pool],
                }
            )
        for _ in range(2):
            form.sessions.append_entry({"duration_minutes": 60, "required": 1})
    choices = _pool_choices()
    for entry in form.sessions:
        entry.form.pool.choices = choices
    return form


@bp.get("/loops")
@auth.login_required
def loops_list() -> str:
    s = db_session()
    rows = list(s.scalars(select(Loop).options(selectinload(Loop.sessions)).order_by(Loop.name)))
    pools: dict[int, list[str]] = {}
    for sid, name in s.execute(
        select(SessionPool.session_id, Interviewer.name)
        .join(Interviewer, Interviewer.id == SessionPool.interviewer_id)
        .order_by(Interviewer.key)
    ):
        pools.setdefault(sid, []).append(name)
    return render_template("coord/loops.html", rows=rows, pools=pools)


def _save_loop(form: LoopForm, row: Loop) -> None:
    s = db_session()
    for f in (
        "key",
        "name",
        "order",
        "min_gap_minutes",
        "max_gap_minutes",
        "granularity_minutes",
        "min_notice_hours",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "video_url_template",
        "video",
        "show_interviewer_names",
    ):
        val = getattr(form, f).data
        setattr(row, f, val.strip() if isinstance(val, str) else val)
    row.video_url_template = row.video_url_template or ""
    row.sessions.clear()
    s.flush()
    people = {i.id: i for i in s.scalars(select(Interviewer))}
    for pos, sf in enumerate(form.filled_sessions()):
        row.sessions.append(
            LoopSession(
                position=pos,
                name=sf.name.data.strip(),
                duration_minutes=sf.duration_minutes.data,
                required=sf.required.data or 1,
                pool=[people[i] for i in sf.pool.data if i in people],
            )
        )


@bp.route("/loops/new", methods=["GET", "POST"])
@auth.login_required
def loop_new() -> str | WResponse | tuple[str, int]:
    form = _loop_form(None)
    if form.validate_on_submit():
        if _key_taken(Loop, form.key.data.strip(), None):
            form.key.errors.append(f"a loop with id {form.key.data!r} exists")
        else:
            s = db_session()
            row = Loop(key=form.key.data.strip(), name=form.name.data.strip())
            s.add(row)
            _save_loop(form, row)
            s.flush()
            audit(s, _actor(), "loop_created", "loop", row.id, coordinator_id=_me().id)
            s.commit()
            flash(f"Loop {row.name} created.")
            return redirect(url_for("coordinator.loops_list"))
    code = 400 if request.method == "POST" else 200
    return render_template("coord/loop_form.html", form=form, row=None), code


@bp.route("/loops/<int:lid>/edit", methods=["GET", "POST"])
@auth.login_required
def loop_edit(lid: int) -> str | WResponse | tuple[str, int]:
    row = services.load_loop(db_session(), lid)
    if row is None:
        abort(404)
    form = _loop_form(row)
    if form.validate_on_submit():
        if _key_taken(Loop, form.key.data.strip(), row.id):
            form.key.errors.append(f"a loop with id {form.key.data!r} exists")
        else:
            s = db_session()
            _save_loop(form, row)
            audit(s, _actor(), "loop_edited", "loop", row.id, coordinator_id=_me().id)
            s.commit()
            flash("Loop saved.")
            return redirect(url_for("coordinator.loops_list"))
    code = 400 if request.method == "POST" else 200
    return render_template("coord/loop_form.html", form=form, row=row), code


# ---------------------------------------------------------------- requests


def _secret() -> str:
    from flask import current_app

    return str(current_app.config["SECRET_KEY"])


def _public_url() -> str:
    base = get_settings().server.public_url or request.url_root
    return base if base.endswith("/") else base + "/"


def candidate_link(req: SchedulingRequest) -> str:
    token = services.candidate_token(_secret(), req, now=now())
    return _public_url() + url_for("candidate.landing", token=token).lstrip("/")


def _own_request(rid: int) -> SchedulingRequest:
    req = db_session().get(SchedulingRequest, rid)
    if req is None or req.coordinator_id != _me().id:
        abort(404)
    return req


def _option_choices(req: SchedulingRequest) -> list[SelectChoice]:
    return [SelectChoice(str(o.id), f"Option {o.rank}") for o in req.options]


def _loop_choices() -> list[SelectChoice]:
    rows = db_session().scalars(select(Loop).where(Loop.active.is_(True)).order_by(Loop.name))
    return [SelectChoice(str(lp.id), lp.name) for lp in rows]


@bp.route("/requests/new", methods=["GET", "POST"])
@auth.login_required
def request_new() -> str | WResponse | tuple[str, int]:
    form = RequestForm()
    form.loop.choices = _loop_choices()
    me = _me()
    if request.method == "GET":
        today = now().astimezone(ZoneInfo(me.timezone)).date()
        form.date_from.data = today + timedelta(days=2)
        form.date_to.data = today + timedelta(days=12)
    problem = None
    if form.validate_on_submit():
        s = db_session()
        loop = services.load_loop(s, form.loop.data)
        if loop is None:
            abort(404)
        tz = (form.candidate_tz.data or "").strip() or None
        at = now()
        try:
            result = services.search(
                s,
                loop,
                candidate_tz=tz or me.timezone,
                date_from=form.date_from.data,
                date_to=form.date_to.data,
                hours=form.parsed_hours,
                now=at,
                limit=20,
            )
        except services.SearchProblem as exc:
            problem = exc.message
        else:
            req = SchedulingRequest(
                coordinator_id=me.id,
                loop_id=loop.id,
                candidate_name=form.candidate_name.data.strip(),
                candidate_email=form.candidate_email.data.strip(),
                candidate_tz=tz,
                date_from=form.date_from.data,
                date_to=form.date_to.data,
                candidate_hours_start=form.parsed_hours[0],
                candidate_hours_end=form.parsed_hours[1],
                note=(form.note.data or "").strip(),
                status="draft",
                token_nonce=services.new_nonce(),
                created_at=at,
            )
            s.add(req)
            s.flush()
            for rank, opt in enumerate(result.options, start=1):
                s.add(
                    OfferedOption(
                        request_id=req.id,
                        rank=rank,
                        score=opt.score,
                        sessions=services.option_json(opt),
                        start=opt.start,
                        end=opt.end,
                    )
                )
            audit(
                s,
                _actor(),
                "request_drafted",
                "request",
                req.id,
                coordinator_id=me.id,
                options=len(result.options),
            )
            s.commit()
            return redirect(url_for("coordinator.request_preview", rid=req.id))
    code = 400 if request.method == "POST" else 200
    if problem:
        code = 422
    return render_template(
        "coord/request_form.html", form=form, problem=problem, zones=all_zones()
    ), code


def _busy_for(
    req: SchedulingRequest, people: dict[str, Interviewer]
) -> dict[str, list[tuple[datetime, datetime]]]:
    """Busy time (calendars, other bookings, other requests' holds) around the options."""
    if not req.options or not people:
        return {}
    window = Interval(
        min(o.start for o in req.options) - timedelta(hours=14),
        max(o.end for o in req.options) + timedelta(hours=14),
    )
    pic = services.load_busy(
        db_session(), people.values(), window, exclude_request_id=req.id, now=now()
    )
    return {k: [(iv.start, iv.end) for iv in v] for k, v in pic.busy.items()}


def _timeline(
    req: SchedulingRequest,
    opt_row: OfferedOption,
    people: dict[str, Interviewer],
    busy: dict[str, list[tuple[datetime, datetime]]] | None = None,
) -> Any:
    from web.domain.zones import parse_week

    opt = services.stored_option(opt_row)
    span = span_for(opt)
    tz = req.candidate_tz or _me().timezone
    rows = [
        candidate_row(
            f"{req.candidate_name} (candidate)",
            tz,
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
                busy=(busy or {}).get(key, []),
            )
        )
    return render(rows, span, f"Option {opt_row.rank}: who is at which local hour")


def _people_for(req: SchedulingRequest) -> dict[str, Interviewer]:
    keys = {k for o in req.options for s in o.sessions for k in s["interviewers"]}
    for b in req.bookings:
        keys |= {bs.interviewer.key for bs in b.sessions}
    if not keys:
        return {}
    return {
        i.key: i for i in db_session().scalars(select(Interviewer).where(Interviewer.key.in_(keys)))
    }


def _default_offer(req: SchedulingRequest, count: int) -> list[int]:
    """Tick the top ``count`` options, spread over days as the engine spreads its list."""
    pairs = [(services.stored_option(row), row.id) for row in req.options]
    ids = {id(option): row_id for option, row_id in pairs}
    zone = req.candidate_tz or _me().timezone
    chosen = pick_diverse([option for option, _ in pairs], count, zone)
    return [ids[id(option)] for option in chosen]


@bp.get("/requests/<int:rid>/preview")
@auth.login_required
def request_preview(rid: int) -> str | WResponse:
    req = _own_request(rid)
    if req.status != "draft":
        return redirect(url_for("coordinator.request_detail", rid=rid))
    people = _people_for(req)
    busy = _busy_for(req, people)
    form = OfferForm()
    form.options.choices = _option_choices(req)
    n = int(get_settings().server.offer_count)
    form.options.data = _default_offer(req, n)
    return render_template(
        "coord/request_preview.html",
        req=req,
        form=form,
        people=people,
        timeline=lambda o: _timeline(req, o, people, busy),
        tz=req.candidate_tz or _me().timezone,
        my_tz=_me().timezone,
        problem=None,
    )


@bp.post("/requests/<int:rid>/send")
@auth.login_required
def request_send(rid: int) -> str | WResponse | tuple[str, int]:
    req = _own_request(rid)
    if req.status != "draft":
        flash("This request was already sent.")
        return redirect(url_for("coordinator.request_detail", rid=rid))
    form = OfferForm()
    form.options.choices = _option_choices(req)
    if not form.validate_on_submit():
        people = _people_for(req)
        busy = _busy_for(req, people)
        return (
            render_template(
                "coord/request_preview.html",
                req=req,
                form=form,
                people=people,
                timeline=lambda o: _timeline(req, o, people, busy),
                tz=req.candidate_tz or _me().timezone,
                my_tz=_me().timezone,
                problem="Choose at least one option to offer.",
            ),
            400,
        )
    s = db_session()
    chosen = [o for o in req.options if o.id in set(form.options.data)]
    opts = [services.stored_option(o) for o in chosen]
    at = now()
    req.expires_at = at + timedelta(days=int(get_settings().security.link_max_age_days))
    services.offer(s, req, opts, hold_until=req.expires_at)
    booking_service.apply_hold_policy(
        s, req, booking_service.BookingPolicy.from_settings(get_settings())
    )
    req.status = "sent"
    req.sent_at = at
    mail = services.candidate_mail(req, candidate_link(req), _me().name or _me().email)
    mail.next_attempt_at = at
    s.add(mail)
    audit(
        s, _actor(), "request_sent", "request", req.id, coordinator_id=_me().id, offered=len(opts)
    )
    s.commit()
    flash(f"Sent {len(opts)} option(s) to {req.candidate_email}.")
    return redirect(url_for("coordinator.request_detail", rid=req.id))


@bp.get("/requests")
@auth.login_required
def requests_list() -> str:
    s = db_session()
    me = _me()
    status = request.args.get("status", "")
    page = max(1, request.args.get("page", 1, type=int) or 1)
    q = select(SchedulingRequest).where(SchedulingRequest.coordinator_id == me.id)
    if status:
        q = q.where(SchedulingRequest.status == status)
    total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = list(
        s.scalars(
            q.options(
                selectinload(SchedulingRequest.loop), selectinload(SchedulingRequest.bookings)
            )
            .order_by(SchedulingRequest.created_at.desc(), SchedulingRequest.id.desc())
            .limit(PAGE)
            .offset((page - 1) * PAGE)
        )
    )
    booked_ids = [b.id for r in rows for b in r.bookings if b.status == "confirmed"]
    first: dict[int, datetime] = {}
    if booked_ids:
        from web.store.models import BookingSession

        for bid, start in s.execute(
            select(BookingSession.booking_id, func.min(BookingSession.start))
            .where(BookingSession.booking_id.in_(booked_ids))
            .group_by(BookingSession.booking_id)
        ):
            first[bid] = start if start.tzinfo else start.replace(tzinfo=UTC)
    booked_at = {}
    for r in rows:
        b = services.active_booking(r)
        if b is not None and b.id in first:
            booked_at[r.id] = first[b.id]
    return render_template(
        "coord/requests.html",
        rows=rows,
        status=status,
        page=page,
        pages=max(1, -(-total // PAGE)),
        total=total,
        booked_at=booked_at,
        my_tz=me.timezone,
        statuses=("draft", "sent", "opened", "booked", "rescheduled", "cancelled", "expired"),
    )


@bp.get("/requests/<int:rid>")
@auth.login_required
def request_detail(rid: int) -> str:
    req = _own_request(rid)
    s = db_session()
    people = _people_for(req)
    busy = _busy_for(req, people)
    mails = list(
        s.scalars(select(OutboxMail).where(OutboxMail.request_id == req.id).order_by(OutboxMail.id))
    )
    booking = services.active_booking(req)
    return render_template(
        "coord/request_detail.html",
        req=req,
        people=people,
        mails=mails,
        booking=booking,
        timeline=lambda o: _timeline(req, o, people, busy),
        tz=req.candidate_tz or _me().timezone,
        my_tz=_me().timezone,
        action=ActionForm(),
        link=candidate_link(req) if req.status in AWAITING_CANDIDATE else None,
    )


@bp.post("/requests/<int:rid>/resend")
@auth.login_required
def request_resend(rid: int) -> WResponse:
    req = _own_request(rid)
    if not ActionForm().validate_on_submit():
        abort(400)
    if req.status not in ("sent", "opened"):
        flash(f"A {req.status} request cannot be resent.")
        return redirect(url_for("coordinator.request_detail", rid=rid))
    s = db_session()
    at = now()
    req.expires_at = at + timedelta(days=int(get_settings().security.link_max_age_days))
    mail = services.candidate_mail(req, candidate_link(req), _me().name or _me().email, resend=True)
    mail.next_attempt_at = at
    s.add(mail)
    audit(s, _actor(), "request_resent", "request", req.id, coordinator_id=_me().id)
    s.commit()
    flash(f"Sent the link again to {req.candidate_email}.")
    return redirect(url_for("coordinator.request_detail", rid=rid))


@bp.post("/requests/<int:rid>/cancel")
@auth.login_required
def request_cancel(rid: int) -> WResponse:
    req = _own_request(rid)
    if not ActionForm().validate_on_submit():
        abort(400)
    if req.status in ("cancelled", "expired"):
        flash(f"This request is already {req.status}.")
        return redirect(url_for("coordinator.request_detail", rid=rid))
    s = db_session()
    at = now()
    was_sent = req.status != "draft"
    req.status = "cancelled"
    req.cancelled_at = at
    req.token_nonce = services.new_nonce()  # the old link stops working
    # CANCEL invites, reminders withdrawn, holds released, calendar events deleted (issue 5)
    booking_service.cancel_in_session(
        s,
        req,
        now=at,
        policy=booking_service.BookingPolicy.from_settings(get_settings()),
        actor=_actor(),
    )
    if was_sent:
        s.add(
            OutboxMail(
                kind="request_cancelled",
                request_id=req.id,
                to_addr=req.candidate_email,
                subject=f"Interview scheduling cancelled: {req.loop.name}",
                text_body=f"Hello {req.candidate_name},\n\nThe scheduling of your interview "
                f"({req.loop.name}) has been cancelled by {_me().name or _me().email}. "
                "Your earlier link no longer works.\n",
                next_attempt_at=at,
            )
        )
    audit(s, _actor(), "request_cancelled", "request", req.id, coordinator_id=_me().id)
    s.commit()
    flash("Request cancelled.")
    return redirect(url_for("coordinator.request_detail", rid=rid))


# ---------------------------------------------------------------- export, audit


@bp.get("/export.toml")
@auth.login_required
def export() -> Response:
    text = export_toml(db_session())
    return Response(
        text,
        mimetype="application/toml",
        headers={"Content-Disposition": 'attachment; filename="panelslot-export.toml"'},
    )


@bp.get("/audit")
@auth.login_required
def audit_log() -> str:
    rows = db_session().scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(200))
    return render_template("coord/audit.html", rows=list(rows), my_tz=_me().timezone)
