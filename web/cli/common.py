"""Shared pieces of the command line: argument parsing and error exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import wraps
from typing import Any, NoReturn, TypeVar

import click

from integrations.errors import IntegrationError
from scheduler.errors import SchedulerError
from scheduler.localtime import find_zone

F = TypeVar("F", bound=Callable[..., Any])
EXIT_USAGE = 2


def fail(message: str) -> NoReturn:
    """Print one line to stderr and exit with status 2."""
    click.echo(f"panelslot: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def friendly_errors(func: F) -> F:
    """Turn the project's errors into one line on stderr and exit status 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (SchedulerError, IntegrationError) as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]


def parse_date(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r}: expected a date like 2027-03-02")


def parse_zone(option: str, text: str) -> str:
    if find_zone(text) is None:
        fail(f"{option} {text!r}: unknown time zone; use an IANA name like Asia/Kolkata")
    return text


def parse_now(text: str | None) -> datetime:
    """``--now`` as an aware UTC datetime (naive values are read as UTC)."""
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        fail(f"--now {text!r}: expected ISO 8601 like 2027-03-01T09:00:00Z")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def emit_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2))
