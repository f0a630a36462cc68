"""The ATS connector for Ashby's public API (https://developers.ashbyhq.com).

Every Ashby endpoint is ``POST https://api.ashbyhq.com/<rpc.name>`` with a JSON
body, authenticated with HTTP Basic: the API key as user name and an empty
password. A refused request still answers 200, with ``success: false`` and an
``errorInfo`` object (older answers: an ``errors`` array of codes). List
endpoints page with ``limit``/``cursor`` and answer ``moreDataAvailable`` and
``nextCursor``.

Used here: ``interviewPlan.list``, ``jobInterviewPlan.info`` (a job's stages,
activities and the interviews with their durations), ``user.list``, and
``interviewSchedule.list|create|update|cancel``. Each interview event carries
``extraData`` (string keys and values, under 1 kB, no personal data) where we
keep panelslot's ids, so a retry finds what an earlier call wrote.

Retries: no single HTTP request is repeated. A public method is retried as a
whole under the :class:`~integrations.backoff.Backoff` policy, and each write
starts by listing the application's schedules, so a create whose answer was
lost is found, not repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests

from integrations.ats.errors import AtsAuthError, AtsError
from integrations.ats.model import (
    InterviewPlan,
    PlanSession,
    PlanStage,
    PlanSummary,
    ScheduledSession,
    ScheduleWrite,
    WrittenSession,
)
from integrations.backoff import Backoff

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.ashbyhq.com"
EXTRA_BOOKING = "panelslot_booking"
EXTRA_SESSION = "panelslot_session"
CANCELLED = "Cancelled"


@dataclass(frozen=True)
class AshbyOptions:
    base_url: str = DEFAULT_BASE_URL
    timeout_seconds: float = 20.0
    page_limit: int = 100
    feedback_required: bool = True
    backoff: Backoff = field(default_factory=lambda: Backoff(attempts=3))


def ashby_time(value: datetime) -> str:
    """Ashby's timestamp form, ``2023-01-30T15:00:00.000Z``."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, AtsError) and exc.retryable


@dataclass(frozen=True)
class _LiveEvent:
    event_id: str
    external_id: str
    start: datetime
    end: datetime
    emails: frozenset[str]
    interview_id: str | None


def _live_events(schedule: dict[str, Any], booking_ref: str) -> list[_LiveEvent]:
    events = []
    for raw in schedule.get("interviewEvents") or []:
        extra = raw.get("extraData") or {}
        if extra.get(EXTRA_BOOKING) != booking_ref or not extra.get(EXTRA_SESSION):
            continue
        emails = frozenset(
            str(person.get("email", "")).lower() for person in raw.get("interviewers") or []
        )
        events.append(
            _LiveEvent(
                event_id=str(raw["id"]),
                external_id=str(extra[EXTRA_SESSION]),
                start=parse_time(raw["startTime"]),
                end=parse_time(raw["endTime"]),
                emails=emails,
                interview_id=raw.get("interviewId"),
            )
        )
    return events


def _unchanged(live: _LiveEvent, want: ScheduledSession) -> bool:
    return (
        live.start == want.start.astimezone(UTC)
        and live.end == want.end.astimezone(UTC)
        and live.emails == frozenset(e.lower() for e in want.interviewer_emails)
        and (want.interview_id is None or want.interview_id == live.interview_id)
    )


class AshbyConnector:
    """:class:`~integrations.ats.base.AtsConnector` for Ashby."""

    kind = "ashby"

    def __init__(
        self,
        api_key: str,
        *,
        options: AshbyOptions | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("an Ashby API key is required")
        self._api_key = api_key
        self.options = options or AshbyOptions()
        self._http = session or requests.Session()

    # -- transport -------------------------------------------------------

    def _post(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        """One request; raise :class:`AtsError` for every kind of failure."""
        url = f"{self.options.base_url.rstrip('/')}/{endpoint}"
        try:
            response = self._http.post(
                url,
                json=body,
                auth=(self._api_key, ""),
                headers={"Accept": "application/json"},
                timeout=self.options.timeout_seconds,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise AtsError(endpoint, f"no answer ({type(exc).__name__})", retryable=True) from exc
        return self._answer(endpoint, response)

    def _answer(self, endpoint: str, response: requests.Response) -> dict[str, Any]:
        status = response.status_code
        if status in (401, 403):
            raise AtsAuthError(endpoint, "Ashby refused the API key", status=status)
        if status == 429 or status >= 500:
            raise AtsError(endpoint, f"HTTP {status}", status=status, retryable=True)
        if status != 200:
            raise AtsError(endpoint, f"HTTP {status}", status=status)
        try:
            payload = response.json()
        except ValueError as exc:
            raise AtsError(endpoint, "the answer is not JSON", status=status) from exc
        if not isinstance(payload, dict) or payload.get("success") is not True:
            raise self._refusal(endpoint, payload if isinstance(payload, dict) else {})
        return payload

    @staticmethod
    def _refusal(endpoint: str, payload: dict[str, Any]) -> AtsError:
        info = payload.get("errorInfo") or {}
        errors = [str(e) for e in payload.get("errors") or []]
        code = info.get("code") or (errors[0] if errors else None)
        message = info.get("message") or ", ".join(errors) or "request refused"
        return AtsError(endpoint, str(message), code=code, status=200)

    def _list(self, endpoint: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        request = {**body, "limit": self.options.page_limit}
        cursors: set[str] = set()
        while True:
            payload = self._post(endpoint, request)
            results.extend(payload.get("results") or [])
            cursor = payload.get("nextCursor")
            if not payload.get("moreDataAvailable") or not cursor:
                return results
            if cursor in cursors:
                raise AtsError(endpoint, "the pagination cursor repeated itself")
            cursors.add(cursor)
            request = {**request, "cursor": cursor}

    def _retrying(self, call: Callable[[], T]) -> T:
        return self.options.backoff.run(call, retryable=_is_retryable)

    # -- reading ---------------------------------------------------------

    def list_plans(self) -> list[PlanSummary]:
        rows = self._retrying(lambda: self._list("interviewPlan.list", {}))
        return [
            PlanSummary(plan_id=str(r["id"]), title=str(r.get("title", "")))
            for r in rows
            if not r.get("isArchived")
        ]

    def interview_plan(self, job_id: str) -> InterviewPlan:
        payload = self._retrying(lambda: self._post("jobInterviewPlan.info", {"jobId": job_id}))
        results = payload.get("results") or {}
        stages = tuple(
            sorted(
                (self._stage(raw) for raw in results.get("stages") or []),
                key=lambda stage: stage.order,
            )
        )
        return InterviewPlan(
            job_id=str(results.get("jobId", job_id)),
            plan_id=str(results.get("interviewPlanId", "")),
            stages=stages,
        )

    @staticmethod
    def _stage(raw: dict[str, Any]) -> PlanStage:
        sessions = [
            PlanSession(
                interview_id=str(item.get("interviewId") or item.get("id")),
                title=str(item.get("title", "")),
                duration_minutes=int(item.get("interviewDurationMinutes") or 0),
                schedulable=bool(item.get("isSchedulable", True)),
            )
            for activity in raw.get("activities") or []
            for item in activity.get("interviews") or []
        ]
        return PlanStage(
            stage_id=str(raw["id"]),
            title=str(raw.get("title", "")),
            order=int(raw.get("orderInInterviewPlan") or 0),
            sessions=tuple(sessions),
        )

    def user_emails(self) -> frozenset[str]:
        rows = self._retrying(lambda: self._list("user.list", {}))
        return frozenset(
            str(r["email"]).lower() for r in rows if r.get("email") and r.get("isEnabled", True)
        )

    # -- writing ---------------------------------------------------------

    def _find_schedule(
        self, application_id: str, booking_ref: str
    ) -> tuple[dict[str, Any], list[_LiveEvent]] | None:
        schedules = self._list("interviewSchedule.list", {"applicationId": application_id})
        for schedule in schedules:
            if schedule.get("status") == CANCELLED:
                continue
            live = _live_events(schedule, booking_ref)
            if live:
                return schedule, live
        return None

    def _event_body(self, booking_ref: str, session: ScheduledSession) -> dict[str, Any]:
        body: dict[str, Any] = {
            "startTime": ashby_time(session.start),
            "endTime": ashby_time(session.end),
            "interviewers": [
                {"email": email, "feedbackRequired": self.options.feedback_required}
                for email in session.interviewer_emails
            ],
            "extraData": {EXTRA_BOOKING: booking_ref, EXTRA_SESSION: session.external_id},
        }
        if session.interview_id:
            body["interviewId"] = session.interview_id
        return body

    def write_schedule(
        self, application_id: str, booking_ref: str, sessions: Sequence[ScheduledSession]
    ) -> ScheduleWrite:
        if not sessions:
            raise ValueError("write_schedule needs at least one session; use cancel_schedule")
        ids = [s.external_id for s in sessions]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate session external ids in {ids}")
        return self._retrying(lambda: self._write_once(application_id, booking_ref, sessions))

    def _write_once(
        self, application_id: str, booking_ref: str, sessions: Sequence[ScheduledSession]
    ) -> ScheduleWrite:
        found = self._find_schedule(application_id, booking_ref)
        if found is None:
            return self._create(application_id, booking_ref, sessions)
        schedule, live = found
        return self._update(str(schedule["id"]), booking_ref, sessions, live)

    def _create(
        self, application_id: str, booking_ref: str, sessions: Sequence[ScheduledSession]
    ) -> ScheduleWrite:
        body = {
            "applicationId": application_id,
            "interviewEvents": [self._event_body(booking_ref, s) for s in sessions],
        }
        schedule = self._post("interviewSchedule.create", body)["results"]
        written = _live_events(schedule, booking_ref)
        return ScheduleWrite(
            schedule_id=str(schedule["id"]),
            sessions=tuple(WrittenSession(e.external_id, e.event_id) for e in written),
            created=tuple(s.external_id for s in sessions),
        )

    def _update(
        self,
        schedule_id: str,
        booking_ref: str,
        sessions: Sequence[ScheduledSession],
        live: list[_LiveEvent],
    ) -> ScheduleWrite:
        by_ext: dict[str, _LiveEvent] = {}
        surplus: list[_LiveEvent] = []
        for event in live:  # a second event under one external id is surplus
            if event.external_id in by_ext:
                surplus.append(event)
            else:
                by_ext[event.external_id] = event
        wanted = {s.external_id for s in sessions}
        plan = _UpdatePlan()
        for session in sessions:
            current = by_ext.get(session.external_id)
            body = self._event_body(booking_ref, session)
            if current is None:
                plan.items.append(body)
                plan.created.append(session.external_id)
            elif _unchanged(current, session):
                plan.unchanged.append(session.external_id)
            else:
                plan.items.append({**body, "interviewEventId": current.event_id})
                plan.updated.append(session.external_id)
        stale = [e for e in by_ext.values() if e.external_id not in wanted] + surplus
        return self._apply(schedule_id, booking_ref, plan, stale, by_ext)

    def _apply(
        self,
        schedule_id: str,
        booking_ref: str,
        plan: _UpdatePlan,
        stale: list[_LiveEvent],
        before: dict[str, _LiveEvent],
    ) -> ScheduleWrite:
        schedule: dict[str, Any] | None = None
        if plan.items:
            body = {"interviewScheduleId": schedule_id, "interviewEvent": plan.items}
            schedule = self._post("interviewSchedule.update", body)["results"]
        if stale:
            body = {
                "interviewScheduleId": schedule_id,
                "interviewEventIdToCancel": [e.event_id for e in stale],
            }
            schedule = self._post("interviewSchedule.update", body)["results"]
        if schedule is not None:
            written = {e.external_id: e.event_id for e in _live_events(schedule, booking_ref)}
        else:
            written = {ext: e.event_id for ext, e in before.items()}
        cancelled = {e.external_id for e in stale} - set(written)
        return ScheduleWrite(
            schedule_id=schedule_id,
            sessions=tuple(WrittenSession(ext, eid) for ext, eid in written.items()),
            created=tuple(plan.created),
            updated=tuple(plan.updated),
            cancelled=tuple(sorted(cancelled)),
            unchanged=tuple(plan.unchanged),
        )

    def cancel_schedule(self, application_id: str, booking_ref: str) -> bool:
        def once() -> bool:
            found = self._find_schedule(application_id, booking_ref)
            if found is None:
                return False
            self._post("interviewSchedule.cancel", {"id": str(found[0]["id"])})
            return True

        return self._retrying(once)


@dataclass
class _UpdatePlan:
    items: list[dict[str, Any]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
