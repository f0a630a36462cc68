"""The candidate's pages. This issue: verify the link and show the offer; booking is issue 5."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

from web import services
from web.helpers import audit, db_session, get_settings, now

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
        "Your recruiter cancelled this request. "
        "If you think this is a mistake, reply to their e-mail.",
    ),
}


@bp.get("/<token>")
def landing(token: str) -> ResponseReturnValue:
    s = db_session()
    try:
        req = services.verify_candidate_token(
            s,
            str(current_app.config["SECRET_KEY"]),
            token,
            max_age_days=int(get_settings()["security.link_max_age_days"]),
            now=now(),
        )
    except services.LinkProblem as exc:
        title, message = PROBLEMS[exc.kind]
        contact = exc.request.coordinator.email if exc.request is not None else None
        return render_template(
            "candidate/problem.html", title=title, message=message, contact=contact
        ), 410 if exc.kind in ("expired", "cancelled") else 400
    if req.status == "draft":
        return render_template(
            "candidate/problem.html",
            title="This link is not active yet",
            message="Your recruiter has not sent it yet.",
            contact=None,
        ), 400
    if req.status == "sent":
        req.status = "opened"
        req.opened_at = now()
        audit(s, "candidate", "request_opened", "request", req.id)
        s.commit()
    tz = req.candidate_tz or req.coordinator.timezone
    options = [services.stored_option(o) for o in req.options if not o.withdrawn]
    return render_template(
        "candidate/landing.html",
        req=req,
        options=options,
        tz=tz,
        booking=services.active_booking(req),
    )
