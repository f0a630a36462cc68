"""The coordinator's loop pages: the list with each session's pool, create and edit."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WResponse
from wtforms import SelectChoice

from web.domain.usecases import interviewers, loops
from web.domain.usecases.interviewers import KeyTaken
from web.store.models import Loop
from web.ui import auth
from web.ui.forms import LoopForm
from web.ui.helpers import db_session, now

bp = Blueprint("coord_loops", __name__)


def _pool_choices() -> list[SelectChoice]:
    rows = interviewers.active_interviewers(db_session())
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


def _fields(form: LoopForm) -> loops.LoopFields:
    settings = {}
    for name in loops.LOOP_FIELDS:
        val = getattr(form, name).data
        settings[name] = val.strip() if isinstance(val, str) else val
    sessions = tuple(
        loops.SessionFields(
            name=sf.name.data.strip(),
            duration_minutes=sf.duration_minutes.data,
            required=sf.required.data or 1,
            pool=tuple(sf.pool.data),
        )
        for sf in form.filled_sessions()
    )
    return loops.LoopFields(settings, sessions)


@bp.get("/loops")
@auth.login_required
def loops_list() -> str:
    rows, pools = loops.list_loops(db_session())
    return render_template("coord/loops.html", rows=rows, pools=pools)


@bp.route("/loops/new", methods=["GET", "POST"])
@auth.login_required
def loop_new() -> str | WResponse | tuple[str, int]:
    form = _loop_form(None)
    if form.validate_on_submit():
        try:
            row = loops.create_loop(db_session(), _fields(form), auth.actor(), now())
        except KeyTaken:
            form.key.errors.append(f"a loop with id {form.key.data!r} exists")
        else:
            flash(f"Loop {row.name} created.")
            return redirect(url_for("coord_loops.loops_list"))
    code = 400 if request.method == "POST" else 200
    return render_template("coord/loop_form.html", form=form, row=None), code


@bp.route("/loops/<int:lid>/edit", methods=["GET", "POST"])
@auth.login_required
def loop_edit(lid: int) -> str | WResponse | tuple[str, int]:
    row = loops.get_loop(db_session(), lid)
    if row is None:
        abort(404)
    form = _loop_form(row)
    if form.validate_on_submit():
        try:
            loops.update_loop(db_session(), row, _fields(form), auth.actor(), now())
        except KeyTaken:
            form.key.errors.append(f"a loop with id {form.key.data!r} exists")
        else:
            flash("Loop saved.")
            return redirect(url_for("coord_loops.loops_list"))
    code = 400 if request.method == "POST" else 200
    return render_template("coord/loop_form.html", form=form, row=row), code
