"""Demo-only pages: the outbox folder where demo mail lands."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, render_template
from sqlalchemy import select

from web.auth import login_required
from web.helpers import db_session, get_settings
from web.models import OutboxMail

bp = Blueprint("demo", __name__, url_prefix="/demo")


@bp.get("/outbox")
@login_required
def outbox() -> str:
    mails = list(db_session().scalars(select(OutboxMail).order_by(OutboxMail.id.desc()).limit(100)))
    folder = Path(get_settings()["mail.outbox_dir"])
    files = (
        sorted((p.name for p in folder.glob("*") if p.is_file()), reverse=True)
        if folder.is_dir()
        else []
    )
    return render_template("demo_outbox.html", mails=mails, folder=str(folder), files=files[:100])
