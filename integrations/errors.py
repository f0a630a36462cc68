"""Errors raised by integrations; each carries the data its message needs."""

from __future__ import annotations

from typing import Any


class IntegrationError(Exception):
    """Base class of every error raised in ``integrations``.

    Errors cross process boundaries (``integrations.budget``) whole: pickling
    keeps the message and every field, whatever the subclass's ``__init__``.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[IntegrationError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class CalendarError(IntegrationError):
    """A calendar could not be read or written.

    ``source`` names the calendar (file path, URL without credentials, or
    account label), ``line`` the 1-based line of an ICS file when known.
    """

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        self.source = source
        self.message = message
        self.line = line
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {message}")


class CalendarTimeout(CalendarError):
    """A calendar server did not answer, or did not finish, within ``seconds``."""

    def __init__(self, source: str, message: str, *, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(source, message)


class ReconnectRequired(CalendarError):
    """The provider revoked or refused the credentials: the owner must reconnect."""


class MailError(IntegrationError):
    """A mail could not be delivered."""
