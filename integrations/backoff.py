"""The one retry-timing module: exponential backoff with jitter, and fixed schedules.

Three callers wait between attempts, each in its own unit, and all take their delays here:

* :class:`Backoff`: calls to calendar and ATS providers retried in-process (it sleeps);
* :class:`RetryPolicy` / :func:`next_attempt`: outbox mail, retried later by the worker
  (it returns the instant of the next attempt);
* :func:`next_in_schedule`: a fixed table of waits (outbound webhooks, whose schedule is the
  one Standard Webhooks suggests).

Both exponential forms grow as :func:`exponential` says; they differ in jitter (added, up to
one base unit, for in-process calls; a +/- fraction for mail), and tests pin each. The sleep
and random functions are injected so tests run instantly and deterministically.
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

T = TypeVar("T")


def exponential(retry: int, base: float, factor: float, cap: float) -> float:
    """``base * factor**retry`` seconds (``retry`` from 0), at most ``cap``."""
    return float(min(cap, base * factor**retry))


@dataclass(frozen=True)
class Backoff:
    """Retry policy: ``attempts`` tries in all, delays growing as ``base * 2**n``.

    The n-th delay (n = 0, 1, ...) is ``min(max_seconds, base_seconds * 2**n +
    random() * base_seconds)``: exponential growth plus up to one base unit of
    jitter, capped.
    """

    attempts: int = 5
    base_seconds: float = 1.0
    max_seconds: float = 32.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    random: Callable[[], float] = field(default=_random.random, repr=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"Backoff.attempts must be at least 1, got {self.attempts}")
        if self.base_seconds < 0 or self.max_seconds < 0:
            raise ValueError("Backoff delays must not be negative")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        grown = exponential(retry, self.base_seconds, 2.0, float("inf"))
        return float(min(self.max_seconds, grown + self.random() * self.base_seconds))

    def delays(self) -> Iterator[float]:
        """The ``attempts - 1`` delays between attempts."""
        for retry in range(self.attempts - 1):
            yield self.delay(retry)

    def run(self, call: Callable[[], T], *, retryable: Callable[[BaseException], bool]) -> T:
        """Call ``call`` until it succeeds, retrying errors that ``retryable`` accepts.

        The last error is re-raised once the attempts are used up; an error
        that is not retryable is raised at once.
        """
        for wait in self.delays():
            try:
                return call()
            except Exception as exc:  # noqa: BLE001 - filtered by ``retryable``
                if not retryable(exc):
                    raise
            self.sleep(wait)
        return call()


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
    rand: Callable[[], float] = _random.random,
) -> datetime | None:
    """When to try again after ``attempts`` failed attempts (1 after the first failure).

    ``None`` when ``attempts`` reached ``policy.max_attempts``: give up and show the
    failure. ``rand`` returns a float in [0, 1) (inject a fixed one in tests).
    """
    if attempts < 1:
        raise ValueError(f"attempts={attempts}: count the failed attempts, starting at 1")
    if attempts >= policy.max_attempts:
        return None
    cap = policy.max_delay.total_seconds()
    capped = exponential(attempts - 1, policy.base.total_seconds(), policy.factor, cap)
    spread = 1.0 + policy.jitter * (2.0 * rand() - 1.0)
    delay = min(capped * spread, cap)
    return now + timedelta(seconds=max(delay, 0.0))


def next_in_schedule(schedule: Sequence[timedelta], attempt: int, now: datetime) -> datetime | None:
    """When to try after attempt number ``attempt`` (1-based) failed, by a fixed table of
    waits; ``None`` once the table is used up: give up."""
    if attempt < 1 or attempt > len(schedule):
        return None
    return now + schedule[attempt - 1]
