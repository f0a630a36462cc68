"""The delivery retry schedule: exponential backoff with jitter."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from integrations.errors import MailError
from integrations.mail.message import is_permanent


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``base``, ``base*factor``, ... capped at ``max_delay``.

    Each delay is spread by +/- ``jitter`` (a fraction) so that mails failing together
    do not retry together. After ``max_attempts`` attempts the mail is given up.
    """

    base: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    max_delay: timedelta = timedelta(hours=1)
    max_attempts: int = 8
    jitter: float = 0.2


DEFAULT_RETRY = RetryPolicy()


def next_attempt(
    attempts: int,
    now: datetime,
    *,
    policy: RetryPolicy = DEFAULT_RETRY,
    rand: Callable[[], float] = random.random,
) -> datetime | None:
    """When to try again after ``attempts`` failed attempts (1 after the first failure).

    ``None`` when ``attempts`` reached ``policy.max_attempts``: give up and show the
    failure. ``rand`` returns a float in [0, 1) (inject a fixed one in tests).
    """
    if attempts < 1:
        raise ValueError(f"attempts={attempts}: count the failed attempts, starting at 1")
    if attempts >= policy.max_attempts:
        return None
    raw = policy.base.total_seconds() * policy.factor ** (attempts - 1)
    capped = min(raw, policy.max_delay.total_seconds())
    spread = 1.0 + policy.jitter * (2.0 * rand() - 1.0)
    delay = min(capped * spread, policy.max_delay.total_seconds())
    return now + timedelta(seconds=max(delay, 0.0))


def retry_at(
    error: MailError,
    attempts: int,
    now: datetime,
    *,
    policy: RetryPolicy = DEFAULT_RETRY,
    rand: Callable[[], float] = random.random,
) -> datetime | None:
    """``next_attempt`` for a failed delivery; ``None`` for permanent errors too."""
    if is_permanent(error):
        return None
    return next_attempt(attempts, now, policy=policy, rand=rand)
