"""Link tokens and OAuth codes never reach the access logs."""

import logging
from typing import Any

from web.domain.logredact import RedactingFilter, redact

TOKEN = "eyJyIjoxLCJuIjoiWk00M3pDX0pia2N4Z1lOa25haVF5dyJ9.awtX1g.2C-oMd8VR1u0QLtb4B61XN1HB9M"


def test_candidate_interviewer_and_feed_tokens_are_hidden():
    assert redact(f'"GET /c/{TOKEN} HTTP/1.1" 200') == '"GET /c/[hidden] HTTP/1.1" 200'
    assert redact(f"POST /c/{TOKEN}/book") == "POST /c/[hidden]/book"
    assert redact(f"GET /i/{TOKEN}/calendars/3/test") == "GET /i/[hidden]/calendars/3/test"
    assert redact("GET /i/feed/AbCdEf0123456789xyz.ics") == "GET /i/feed/[hidden]"


def test_oauth_callback_query_is_hidden_but_the_route_stays_readable():
    line = "GET /i/oauth/google/callback?state=abc&code=4/0AfJohXn HTTP/1.1"
    assert redact(line) == "GET /i/oauth/google/callback?[hidden] HTTP/1.1"


def test_ordinary_paths_are_kept():
    for line in ("GET /requests/12 HTTP/1.1", "GET /healthz", "GET /static/app.css"):
        assert redact(line) == line


def test_filter_rewrites_werkzeug_records():
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s - "%s" %s',
        ("127.0.0.1", f"GET /c/{TOKEN}", 200),
        None,
    )
    assert RedactingFilter().filter(record)
    assert TOKEN not in record.getMessage() and "/c/[hidden]" in record.getMessage()


def test_the_apps_error_log_redacts_link_tokens(app: Any, caplog: Any) -> None:
    import logging

    with caplog.at_level(logging.ERROR):
        app.logger.error("Exception on %s [GET]", "/c/AbCdEfGhIjKlMnOp.qrstuvwx")
    assert "AbCdEfGhIjKlMnOp" not in caplog.text and "/c/[hidden]" in caplog.text
