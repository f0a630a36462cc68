"""Signed links are checked against the clock the caller passes, not the wall clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from web.domain import services
from web.domain.services import signed_payload
from web.store.db import Database
from web.store.models import Interviewer, Loop, SchedulingRequest

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


# ------------------------------------------------ the link checks with a pinned now

SIGNED = datetime(2027, 3, 1, 9, 0, 0, tzinfo=UTC)  # whole seconds: tokens stamp seconds


def _request(db: Database, coordinator_id: int) -> int:
    with db.session() as s:
        loop_id = s.scalars(select(Loop.id)).first()
        req = SchedulingRequest(
            coordinator_id=coordinator_id,
            loop_id=loop_id,
            candidate_name="Cam",
            candidate_email="cam@example.com",
            date_from=date(2027, 3, 8),
            date_to=date(2027, 3, 12),
            status="sent",
            token_nonce=services.new_nonce(),
        )
        s.add(req)
        s.flush()
        return req.id


def test_a_candidate_link_works_until_exactly_its_max_age(db: Database, company):
    rid = _request(db, company["ann"])
    with db.session() as s:
        token = services.candidate_token(SECRET, s.get(SchedulingRequest, rid), now=SIGNED)
        edge = SIGNED + timedelta(days=14)
        check = services.verify_candidate_token
        assert check(s, SECRET, token, max_age_days=14, now=edge).id == rid
        with pytest.raises(services.LinkProblem) as err:
            check(s, SECRET, token, max_age_days=14, now=edge + timedelta(seconds=1))
        assert err.value.kind == "expired"
        # the wall clock plays no part: a link signed in 2027 is valid in 2027
        assert check(s, SECRET, token, max_age_days=1, now=SIGNED).id == rid
    assert services.candidate_link_payload(SECRET, token) == (rid, _nonce(db, rid))
    assert services.candidate_link_payload(SECRET, token[:-2] + "xx") is None


def _nonce(db: Database, rid: int) -> str:
    with db.session() as s:
        return s.get(SchedulingRequest, rid).token_nonce


def test_an_interviewer_link_works_until_exactly_its_max_age(db: Database, company):
    with db.session() as s:
        row = s.scalars(select(Interviewer).where(Interviewer.active.is_(True))).first()
        token = services.interviewer_token(SECRET, row, now=SIGNED)
        edge = SIGNED + timedelta(days=30)
        check = services.verify_interviewer_token
        assert check(s, SECRET, token, max_age_days=30, now=edge) is row
        assert check(s, SECRET, token, max_age_days=30, now=edge + timedelta(seconds=1)) is None
        assert check(s, SECRET, token, max_age_days=29, now=edge) is None
