"""GET /healthz: database reachable and the job worker alive."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from web.store.models import WorkerHeartbeat
from web.ui.helpers import db_session, get_settings, now

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    body: dict[str, object] = {}
    ok = True
    s = db_session()
    try:
        s.execute(text("SELECT 1"))
        body["database"] = "ok"
    except SQLAlchemyError:
        log.exception("health check: the database did not answer")
        s.rollback()
        body["database"] = "unreachable"
        body["worker"] = "unknown"
        return jsonify(status="down", **body), 503
    beat = s.scalar(select(WorkerHeartbeat).order_by(WorkerHeartbeat.beat_at.desc()).limit(1))
    at = now()
    stale = timedelta(seconds=float(get_settings().server.worker_stale_seconds))
    if beat is None:
        body["worker"] = "never seen"
        ok = False
    else:
        age = (at - beat.beat_at).total_seconds()
        body["worker_last_beat_seconds_ago"] = round(age, 1)
        if at - beat.beat_at > stale:
            body["worker"] = "stale"
            ok = False
        else:
            body["worker"] = "ok"
    return jsonify(status="ok" if ok else "degraded", **body), 200 if ok else 503
