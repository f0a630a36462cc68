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


def admit(s: Session, bucket: str, remote: str, limit: int) -> bool:
    """Record one attempt at a limited action and say whether it may go on.

    The attempt is committed before it is counted, so parallel attempts cannot
    all see the same low count: of any number racing, at most ``limit`` pass.
    The limit holds per (bucket, address), so nobody elsewhere can lock a
    coordinator out; one address gets four times that over all buckets.
    """
    at = now()
    s.add(SigninAttempt(email=bucket, remote_addr=remote, at=at))
    s.commit()
    since = at - timedelta(minutes=get_settings().security.signin_window_minutes)
    recent = SigninAttempt.at > since
    pair = s.scalar(
        select(func.count()).where(
            SigninAttempt.email == bucket, SigninAttempt.remote_addr == remote, recent
        )
    )
    addr = s.scalar(select(func.count()).where(SigninAttempt.remote_addr == remote, recent))
    return (pair or 0) <= limit and (addr or 0) <= 4 * limit


def admit_signin(s: Session, email: str, remote: str) -> bool:
    return admit(s, email, remote, get_settings().security.signin_max_failures)


def authenticate(s: Session, email: str, password: str) -> Coordinator | None:
    row = s.scalar(select(Coordinator).where(func.lower(Coordinator.email) == email.lower()))
    if row is None or not row.active:
        check_password_hash(_DUMMY, password)
        return None
    return row if check_password_hash(row.password_hash, password) else None


def clear_attempts(s: Session, bucket: str, remote: str) -> None:
    """A success forgets this address's failed attempts at ``bucket``."""
    s.execute(
        delete(SigninAttempt).where(
            SigninAttempt.email == bucket, SigninAttempt.remote_addr == remote
        )
    )


def start_session(who: Coordinator) -> None:
    """Sign ``who`` in on this browser (a fresh cookie, bound to their session version)."""
    session.clear()
    session["coordinator_id"] = who.id
    session["session_version"] = who.session_version


def end_all_sessions(s: Session, who: Coordinator) -> None:
    """Every session of ``who``, on every browser, stops working (logout, new password)."""
    who.session_version = (who.session_version or 0) + 1
    s.flush()


def current_coordinator() -> Coordinator | None:
    if "coordinator" in g:
        return g.coordinator  # type: ignore[no-any-return]
    cid = session.get("coordinator_id")
    row = db_session().get(Coordinator, cid) if isinstance(cid, int) else None
    if row is not None and (
        not row.active or session.get("session_version") != row.session_version
    ):
        row = None  # deactivated, or the session was ended (logout elsewhere, new password)
    g.coordinator = row
    return row


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_coordinator() is None:
            return redirect(url_for("coordinator.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
