"""Keep personal-link tokens and OAuth codes out of access logs.

Candidate links (``/c/<token>``), interviewer links (``/i/<token>``) and
calendar feeds (``/i/feed/<token>.ics``) are bearer credentials, and the
OAuth callback's query carries an authorization code: the request lines that
gunicorn and the demo server log are rewritten before they are written.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

_TOKEN = re.compile(r"(/(?:c|i)/(?:feed/)?)(?!oauth/)[A-Za-z0-9_.\-~%]{8,}")
_QUERY = re.compile(r"\?[^\s\"]*")
HIDDEN = "[hidden]"


def redact_tokens(text: str) -> str:
    """``text`` with the tokens of candidate, interviewer and feed links replaced."""
    return _TOKEN.sub(r"\1" + HIDDEN, text)


def redact(text: str) -> str:
    """``text`` with link tokens and every query string replaced by ``[hidden]``."""
    return _QUERY.sub("?" + HIDDEN, redact_tokens(text))


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message (for werkzeug's logger)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


def install_werkzeug_filter() -> None:
    install_filter(logging.getLogger("werkzeug"))


def install_filter(logger: logging.Logger) -> None:
    """Redact every record logged on ``logger`` (the app's error log, gunicorn's)."""
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())


class RedactingGunicornLogger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's logger with the request line, path, query and referrer redacted,
    in the access log and in the error log alike."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        install_filter(self.error_log)

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
