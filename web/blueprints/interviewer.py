"""The interviewer's personal page (placeholder; the calendar issue adds connections)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select

from web import services
from web.helpers import db_session, now
from web.models import BookingSession
from web.zones import week_text

bp = Blueprint("interviewer", __name__, url_prefix="/i")


@bp.get("/<token>")
def landing(token: str) -> str:
    s = db_session()
    row = services.verify_interviewer_token(s, str(current_app.config["SECRET_KEY"]), token)
    if row is None:
        abort(404)
    at = now()
    upcoming = list(
        s.scalars(
            select(BookingSession)
            .where(
                BookingSession.interviewer_id == row.id,
                BookingSession.active.is_(True),
                BookingSession.end > at,
                BookingSession.start < at + timedelta(days=60),
            )
            .order_by(BookingSession.start)
        )
    )
    return render_template(
        "interviewer/landing.html",
        row=row,
        upcoming=upcoming,
        hours=week_text(row.working_hours),
        local_now=at.astimezone(ZoneInfo(row.timezone)).strftime("%a %d %b %H:%M"),
    )
