"""Signed links are checked against the clock the caller passes, not the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from web.domain.services import signed_payload

SECRET = "a-test-secret-that-is-long-enough-0123"


def _ser() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(SECRET, salt="panelslot.test")


def test_a_link_is_valid_until_max_age_after_signing_by_the_given_now():
    token = _ser().dumps({"r": 1})
    signed = datetime.now(UTC)
    assert signed_payload(_ser(), token, timedelta(days=14), signed) == {"r": 1}
    assert signed_payload(_ser(), token, timedelta(days=14), signed + timedelta(days=13)) == {
        "r": 1
    }
    with pytest.raises(SignatureExpired):
        signed_payload(_ser(), token, timedelta(days=14), signed + timedelta(days=15))


def test_a_tampered_link_is_refused_whatever_the_clock():
    token = _ser().dumps({"r": 1})
    with pytest.raises(BadSignature):
        signed_payload(_ser(), token[:-2] + "xx", timedelta(days=14), datetime.now(UTC))


def test_links_are_stamped_with_the_callers_now():
    from web.domain.services import _serializer

    at = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
    token = _serializer(SECRET, at).dumps({"r": 7})
    payload, signed_at = _serializer(SECRET).loads(token, return_timestamp=True)
    assert payload == {"r": 7} and signed_at == at
