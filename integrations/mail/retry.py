"""When a failed delivery is tried again: the schedule is :mod:`integrations.backoff`'s
(``RetryPolicy``, ``next_attempt``, the one retry-timing module); permanent errors are
never retried."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime

from integrations.backoff import DEFAULT_RETRY, RetryPolicy, next_attempt
from integrations.errors import MailError
from integrations.mail.message import is_permanent


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
