"""The personal links a coordinator hands out: the candidate's and the interviewer's."""

from __future__ import annotations

from flask import url_for

from web.domain import services
from web.store.models import Interviewer, SchedulingRequest
from web.ui.helpers import now, public_url, secret_key


def candidate_link(req: SchedulingRequest) -> str:
    token = services.candidate_token(secret_key(), req, now=now())
    return public_url(url_for("candidate.landing", token=token))


def interviewer_link(row: Interviewer) -> str:
    token = services.interviewer_token(secret_key(), row, now=now())
    return public_url(url_for("interviewer.landing", token=token))
