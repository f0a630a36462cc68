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
    """At most ``max_failures`` attempts per (account, address) within ``window``, and four
    times that per address over all accounts."""

    window: timedelta
    max_failures: int


def admit(s: Session, bucket: str, remote: str, limit: SigninLimit, now: datetime) -> bool:
    """Record one attempt at a limited action and say whether it may go on. Commits.

    The attempt is committed before it is counted, so parallel attempts cannot
    all see the same low count: of any number racing, at most ``max_failures``
    pass. The limit holds per (bucket, address), so nobody elsewhere can lock a
    coordinator out.
    """
    s.add(SigninAttempt(email=bucket, remote_addr=remote, at=now))
    s.commit()
    recent = SigninAttempt.at > now - limit.window
    pair = s.scalar(
        select(func.count()).where(
            SigninAttempt.email == bucket, SigninAttempt.remote_addr == remote, recent
        )
    )
    addr = s.scalar(select(func.count()).where(SigninAttempt.remote_addr == remote, recent))
    return (pair or 0) <= limit.max_failures and (addr or 0) <= 4 * limit.max_failures


def authenticate(s: Session, email: str, password: str) -> Coordinator | None:
    row = s.scalar(select(Coordinator).where(func.lower(Coordinator.email) == email.lower()))
    if row is None or not row.active:
        check_password_hash(_DUMMY, password)
        return None
    return row if check_password_hash(row.password_hash, password) else None


def clear_attempts(s: Session, bucket: str, remote: str) -> None:
    """A success forgets this address's attempts at ``bucket``."""
    s.execute(
        delete(SigninAttempt).where(
            SigninAttempt.email == bucket, SigninAttempt.remote_addr == remote
        )
    )


class TooManyAttempts(Exception):
    """The rate limit refused the attempt (it was recorded, and nothing was checked)."""


def sign_in(
    s: Session, email: str, password: str, remote: str, limit: SigninLimit, now: datetime
) -> Coordinator | None:
    """Check the password under the rate limit (``TooManyAttempts``), audited. Commits."""
    if not admit(s, email, remote, limit, now):
        raise TooManyAttempts()
    who = authenticate(s, email, password)
    if who is None:
        record(s, now, f"anonymous:{email}", "signin_failed")
    else:
        clear_attempts(s, email, remote)
        record(s, now, f"coordinator:{who.email}", "signin", coordinator_id=who.id)
    s.commit()
    return who


def end_all_sessions(s: Session, who: Coordinator) -> None:
    """Every session of ``who``, on every browser, stops working (logout, new password)."""
    who.session_version = (who.session_version or 0) + 1
    s.commit()


class WrongPassword(ValueError):
    """The current password given to change the password is wrong."""


def update_account(
    s: Session,
    me: Coordinator,
    *,
    name: str,
    timezone: str,
    passwords: tuple[str, str] | None,
    remote: str,
    limit: SigninLimit,
    now: datetime,
) -> None:
    """Save name and zone, and with ``passwords`` (current, new) the new password, which
    ends every other session of ``me``. The password check is rate limited. Commits."""
    bucket = f"account:{me.id}"
    if passwords is not None and not admit(s, bucket, remote, limit, now):
        raise TooManyAttempts()
    if passwords is not None and authenticate(s, me.email, passwords[0]) is None:
        raise WrongPassword()
    me.name = name
    me.timezone = timezone
    if passwords is not None:
        me.password_hash = hash_password(passwords[1])
        me.session_version = (me.session_version or 0) + 1
        clear_attempts(s, bucket, remote)
    who = Actor(f"coordinator:{me.email}", me.id)
    record_by(
        s, now, who, "account_edited", "coordinator", me.id, password_changed=passwords is not None
    )
    s.commit()
