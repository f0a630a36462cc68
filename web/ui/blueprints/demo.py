"""Demo-only pages: the outbox folder where demo mail lands."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, render_template
from sqlalchemy import select

from integrations.mail import read_outbox
from web.store.models import OutboxMail
from web.ui.auth import login_required
from web.ui.helpers import db_session, get_settings

bp = Blueprint("demo", __name__, url_prefix="/demo")


@bp.get("/outbox")
@login_required
def outbox() -> str:
    folder = Path(get_settings().mail.outbox_dir)
    delivered = read_outbox(folder, limit=100)
    waiting = list(
        db_session().scalars(
            select(OutboxMail)
            .where(OutboxMail.status != "sent")
            .order_by(OutboxMail.id.desc())
            .limit(100)
        )
    )
    return render_template(
        "demo_outbox.html", delivered=delivered, waiting=waiting, folder=str(folder)
    )
