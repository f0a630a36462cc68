"""API tokens (issue 15): created with scopes, shown once, stored as a sha256, revoked.

A token reads ``pst_<prefix>_<secret>``: the prefix (public, unique) finds the row and the
sha256 of the whole token is compared in constant time. The secret has 256 bits of
randomness, so a plain hash is enough (no password stretching is needed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from web.domain.audit import Actor, record_by
from web.domain.usecases.coordinators import SigninLimit, admit
from web.store.api_models import ApiIdempotency, ApiToken
from web.store.models import SigninAttempt

SCOPES = ("read", "write", "book")
TOKEN_START = "pst_"


class TokenProblem(ValueError):
    """A token's field is wrong: ``field`` and ``value`` name it."""

    def __init__(self, field: str, value: str, message: str) -> None:
        self.field = field
        self.value = value
        self.message = message
        super().__init__(f"{field} {value!r}: {message}")


@dataclass(frozen=True)
class NewToken:
    row: ApiToken
    token: str  # shown once, never stored


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    s: Session, coordinator_id: int, name: str, scopes: list[str], who: Actor, now: datetime
) -> NewToken:
    name = name.strip()
    if not name or len(name) > 100:
        raise TokenProblem("name", name, "give the token a name of 1 to 100 characters")
    unknown = [x for x in scopes if x not in SCOPES]
    if unknown or not scopes:
        raise TokenProblem("scopes", ",".join(scopes), f"choose one or more of {SCOPES}")
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(32)}"
    ordered = [x for x in SCOPES if x in scopes]
    row = ApiToken(
        coordinator_id=coordinator_id,
        name=name,
        prefix=prefix,
        secret_hash=_digest(token),
        scopes=ordered,
        created_at=now,
    )
    s.add(row)
    s.flush()
    record_by(s, now, who, "api_token.create", "api_token", row.id, name=name, scopes=ordered)
    return NewToken(row, token)


def own_tokens(s: Session, coordinator_id: int) -> list[ApiToken]:
    q = select(ApiToken).where(ApiToken.coordinator_id == coordinator_id)
    return list(s.scalars(q.order_by(ApiToken.id.desc())))


def revoke_token(s: Session, token_id: int, who: Actor, now: datetime) -> bool:
    """Revoke the caller's token ``token_id``; False when it is not theirs."""
    row = s.get(ApiToken, token_id)
    if row is None or row.coordinator_id != who.coordinator_id:
        return False
    if row.revoked_at is None:
        row.revoked_at = now
        record_by(s, now, who, "api_token.revoke", "api_token", row.id)
    return True


def token_for(s: Session, presented: str) -> ApiToken | None:
    """The live token ``presented`` is, or None (unknown, wrong secret, revoked)."""
    parts = presented.split("_", 2)  # the secret itself may hold "_"
    if len(parts) != 3 or not presented.startswith(TOKEN_START):
        return None
    row = s.scalar(select(ApiToken).where(ApiToken.prefix == parts[1]))
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(presented)):
        return None
    return row if row.revoked_at is None else None


def admit_call(s: Session, token_id: int, limit: SigninLimit, now: datetime) -> bool:
    """One more call of the token: whether it is within ``limit`` (commits). Its calls
    older than the window are forgotten first, so the table holds one window per token."""
    where = f"token:{token_id}"
    s.execute(
        delete(SigninAttempt).where(
            SigninAttempt.email == "api",
            SigninAttempt.remote_addr == where,
            SigninAttempt.at <= now - limit.window,
        )
    )
    return admit(s, "api", where, limit, now)


# ---------------------------------------------------------------- Idempotency-Key


class KeyReused(ValueError):
    """The same ``Idempotency-Key`` came with a different body."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"Idempotency-Key {key!r} was used with a different body")


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def replay(s: Session, token_id: int, key: str, body: bytes) -> ApiIdempotency | None:
    """The stored response of ``key`` (raises :class:`KeyReused` for another body)."""
    row = s.scalar(
        select(ApiIdempotency).where(ApiIdempotency.token_id == token_id, ApiIdempotency.key == key)
    )
    if row is not None and row.body_hash != body_digest(body):
        raise KeyReused(key)
    return row


IDEMPOTENCY_KEPT = timedelta(hours=24)  # how long a key's stored response is replayed


def prune_idempotency(s: Session, now: datetime, kept: timedelta = IDEMPOTENCY_KEPT) -> int:
    """Forget stored ``Idempotency-Key`` responses older than ``kept`` (the worker's expire
    job calls this; a key may then be used afresh). Returns how many were forgotten."""
    gone = s.execute(delete(ApiIdempotency).where(ApiIdempotency.created_at < now - kept))
    s.commit()
    return int(getattr(gone, "rowcount", 0) or 0)


def remember(
    s: Session, token_id: int, key: str, body: bytes, status: int, response: str, now: datetime
) -> None:
    s.add(
        ApiIdempotency(
            token_id=token_id,
            key=key,
            body_hash=body_digest(body),
            status=status,
            response=response,
            created_at=now,
        )
    )
