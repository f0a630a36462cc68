"""Coordinator sign-in: hashed passwords, session cookie, rate limiting in the database."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import g, redirect, request, session, url_for
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from web.store.models import Coordinator, SigninAttempt
from web.ui.helpers import db_session, get_settings, now

F = TypeVar("F", bound=Callable[..., Any])
# A valid hash to compare against when the e-mail is unknown (same cost either way).
_DUMMY = generate_password_hash("panelslot-dummy-password")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def too_many_attempts(s: Session, email: str, remote: str) -> bool:
    st = get_settings()
    since = now() - timedelta(minutes=int(st.security.signin_window_minutes))
    limit = int(st.security.signin_max_failures)
    by_email = s.scalar(
        select(func.count()).where(SigninAttempt.email == email, SigninAttempt.at > since)
    )
    by_addr = s.scalar(
        select(func.count()).where(SigninAttempt.remote_addr == remote, SigninAttempt.at > since)
    )
    return (by_email or 0) >= limit or (by_addr or 0) >= 4 * limit


def authenticate(s: Session, email: str, password: str) -> Coordinator | None:
    row = s.scalar(select(Coordinator).where(func.lower(Coordinator.email) == email.lower()))
    if row is None or not row.active:
        check_password_hash(_DUMMY, password)
        return None
    return row if check_password_hash(row.password_hash, password) else None


def record_failure(s: Session, email: str, remote: str) -> None:
    s.add(SigninAttempt(email=email, remote_addr=remote, at=now()))


def clear_failures(s: Session, email: str) -> None:
    s.execute(delete(SigninAttempt).where(SigninAttempt.email == email))


def current_coordinator() -> Coordinator | None:
    if "coordinator" in g:
        return g.coordinator  # type: ignore[no-any-return]
    cid = session.get("coordinator_id")
    row = db_session().get(Coordinator, cid) if isinstance(cid, int) else None
    if row is not None and not row.active:
        row = None
    g.coordinator = row
    return row


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_coordinator() is None:
            return redirect(url_for("coordinator.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
