"""Errors of the engine; each carries the data a message needs."""

from __future__ import annotations


class SchedulerError(Exception):
    """Base class of every error the engine raises."""


class ConfigError(SchedulerError, ValueError):
    """A configuration value is wrong.

    ``source`` is the file (or other origin), ``field`` the dotted path of the
    value (``interviewers[2].timezone``), ``value`` what was found and
    ``hint`` what to do about it.
    """

    def __init__(self, source: str, field: str, value: object, hint: str) -> None:
        self.source = source
        self.field = field
        self.value = value
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        return f"{self.source}: {self.field} = {self.value!r}: {self.hint}"


class SearchError(SchedulerError, ValueError):
    """A search request is wrong (unknown loop, reversed dates, bad hours)."""

    def __init__(self, field: str, value: object, hint: str) -> None:
        self.field = field
        self.value = value
        self.hint = hint
        super().__init__(f"{field} = {value!r}: {hint}")
