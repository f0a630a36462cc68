"""Coordinators signing in (hashed passwords, a database rate limit) and their account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from web.domain.audit import Actor, record, record_by
from web.store.models import Coordinator, SigninAttempt

# A valid hash to compare against when the e-mail is unknown (same cost either way).
_DUMMY = generate_password_hash("panelslot-dummy-password")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


@dataclass(frozen=True)
class SigninLimit:
    """At most ``max_failures`` failed sign-ins per e-mail (four times that per address)
    within ``window``."""

    window: timedelta
    max_failures: int


def too_many_attempts(
    s: Session, email: str, remote: str, limit: SigninLimit, now: datetime
) -> bool:
    since = now - limit.window
    by_email = s.scalar(
        select(func.count()).where(SigninAttempt.email == email, SigninAttempt.at > since)
    )
    by_addr = s.scalar(
        select(func.count()).where(SigninAttempt.remote_addr == remote, SigninAttempt.at > since)
    )
    return (by_email or 0) >= limit.max_failures or (by_addr or 0) >= 4 * limit.max_failures


def authenticate(s: Session, email: str, password: str) -> Coordinator | None:
    row = s.scalar(select(Coordinator).where(func.lower(Coordinator.email) == email.lower()))
    if row is None or not row.active:
        check_password_hash(_DUMMY, password)
        return None
    return row if check_password_hash(row.password_hash, password) else None


def record_failure(s: Session, email: str, remote: str, now: datetime) -> None:
    s.add(SigninAttempt(email=email, remote_addr=remote, at=now))


def clear_failures(s: Session, email: str) -> None:
    s.execute(delete(SigninAttempt).where(SigninAttempt.email == email))


def sign_in(
    s: Session, email: str, password: str, remote: str, now: datetime
) -> Coordinator | None:
    """Check the password, keeping the failure or clearing earlier ones, audited. Commits."""
    who = authenticate(s, email, password)
    if who is None:
        record_failure(s, email, remote, now)
        record(s, now, f"anonymous:{email}", "signin_failed")
    else:
        clear_failures(s, email)
        record(s, now, f"coordinator:{who.email}", "signin", coordinator_id=who.id)
    s.commit()
    return who


class WrongPassword(ValueError):
    """The current password given to change the password is wrong."""


def update_account(
    s: Session,
    me: Coordinator,
    *,
    name: str,
    timezone: str,
    passwords: tuple[str, str] | None,
    now: datetime,
) -> None:
    """Save name and zone, and with ``passwords`` (current, new) the new password. Commits."""
    if passwords is not None and authenticate(s, me.email, passwords[0]) is None:
        raise WrongPassword()
    me.name = name
    me.timezone = timezone
    if passwords is not None:
        me.password_hash = hash_password(passwords[1])
    who = Actor(f"coordinator:{me.email}", me.id)
    record_by(
        s, now, who, "account_edited", "coordinator", me.id, password_changed=passwords is not None
    )
    s.commit()
