"""The coordinators' workspace shell: sign-in and out, the account, the export, the audit log.

Interviewers, loops and requests have their own blueprints (``coord_interviewers``,
``coord_loops``, ``coord_requests``).
"""

from __future__ import annotations

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
from werkzeug.wrappers import Response as WResponse

from web.domain.importer import export_toml
from web.domain.usecases import coordinators
from web.domain.usecases.scheduling_requests import recent_audit
from web.domain.zones import all_zones
from web.ui import auth
from web.ui.forms import AccountForm, ActionForm, LoginForm
from web.ui.helpers import db_session, get_settings, now
from web.ui.security import safe_next

bp = Blueprint("coordinator", __name__)


def _next_page() -> str:
    """Where to go after signing in: a path on this site from ``?next=``, else the requests."""
    return safe_next(request.args.get("next")) or url_for("coord_requests.requests_list")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | WResponse | tuple[str, int]:
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        s = db_session()
        email = form.email.data.strip().lower()
        remote = request.remote_addr or ""
        try:
            who = coordinators.sign_in(
                s, email, form.password.data, remote, auth.signin_limit(), now()
            )
        except coordinators.TooManyAttempts:
            minutes = get_settings().security.signin_window_minutes
            error = f"Too many failed sign-ins. Wait {minutes} minutes and try again."
            status = 429
        else:
            if who is None:
                error = "Wrong e-mail or password."
                status = 401
            else:
                auth.start_session(who)
                return redirect(_next_page())
    elif request.method == "POST":
        status = 400
    return render_template("coord/login.html", form=form, error=error), status


@bp.post("/logout")
@auth.login_required
def logout() -> WResponse:
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    coordinators.end_all_sessions(db_session(), auth.me())
    session.clear()
    return redirect(url_for("coordinator.login"))


@bp.route("/account", methods=["GET", "POST"])
@auth.login_required
def account() -> str | WResponse | tuple[str, int]:
    me = auth.me()
    form = AccountForm(obj=me if request.method == "GET" else None)
    error = None
    if form.validate_on_submit():
        passwords = (
            (form.current_password.data or "", form.new_password.data)
            if form.new_password.data
            else None
        )
        try:
            coordinators.update_account(
                db_session(),
                me,
                name=(form.name.data or "").strip(),
                timezone=form.timezone.data.strip(),
                passwords=passwords,
                remote=request.remote_addr or "",
                limit=auth.signin_limit(),
                now=now(),
            )
        except coordinators.WrongPassword:
            error = "The current password is wrong."
        except coordinators.TooManyAttempts:
            error = "Too many password checks. Wait a few minutes and try again."
        else:
            session["session_version"] = me.session_version  # this browser stays signed in
            flash("Account saved.")
            return redirect(url_for("coordinator.account"))
    code = 400 if request.method == "POST" else 200
    return render_template("coord/account.html", form=form, error=error, zones=all_zones()), code


@bp.get("/")
def home() -> WResponse:
    if auth.current_coordinator() is None:
        return redirect(url_for("coordinator.login"))
    return redirect(url_for("coord_requests.requests_list"))


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
    rows = recent_audit(db_session())
    return render_template("coord/audit.html", rows=rows, my_tz=auth.me().timezone)
