"""Exponential backoff with jitter for calls to calendar providers.

The sleep and random functions are injected so tests run instantly and
deterministically; production code uses the defaults.
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


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
        raw = self.base_seconds * (2**retry) + self.random() * self.base_seconds
        return float(min(self.max_seconds, raw))

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
