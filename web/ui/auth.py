"""Coordinator sign-in for the views: the session cookie, who is signed in, the guard.

Passwords and the rate limit live in :mod:`web.domain.usecases.coordinators`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import g, redirect, request, session, url_for

from web.domain.audit import Actor
from web.domain.usecases.coordinators import SigninLimit, admit, hash_password
from web.store.models import Coordinator
from web.ui.helpers import db_session, get_settings, now

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["actor", "current_coordinator", "hash_password", "login_required", "me"]


def signin_limit() -> SigninLimit:
    st = get_settings()
    return SigninLimit(
        window=timedelta(minutes=st.security.signin_window_minutes),
        max_failures=st.security.signin_max_failures,
    )


SYNC_NOW_LIMIT = 6  # "sync now" per interviewer and address in the sign-in window


def allow(bucket: str, attempts: int) -> bool:
    """One more use of a limited action (``bucket``) from this address: whether it may go
    on (at most ``attempts`` per sign-in window; recorded and committed either way)."""
    window = signin_limit().window
    limit = SigninLimit(window=window, max_failures=attempts)
    remote = request.remote_addr or ""
    return admit(db_session(), bucket, remote, limit, now())


def start_session(who: Coordinator) -> None:
    """Sign ``who`` in on this browser (a fresh cookie, bound to their session version)."""
    session.clear()
    session["coordinator_id"] = who.id
    session["session_version"] = who.session_version


def current_coordinator() -> Coordinator | None:
    if "coordinator" in g:
        return g.coordinator  # type: ignore[no-any-return]
    cid = session.get("coordinator_id")
    row = db_session().get(Coordinator, cid) if isinstance(cid, int) else None
    ended = row is not None and session.get("session_version") != row.session_version
    if row is not None and (not row.active or ended):
        row = None  # deactivated, or the session was ended (logout elsewhere, new password)
    g.coordinator = row
    return row


def me() -> Coordinator:
    """The signed-in coordinator (on a :func:`login_required` view)."""
    row = current_coordinator()
    assert row is not None
    return row


def actor() -> Actor:
    """The signed-in coordinator as the audit log names them."""
    row = me()
    return Actor(f"coordinator:{row.email}", row.id)


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_coordinator() is None:
            return redirect(url_for("coordinator.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
