"""A small emulator of Ashby's public API for tests, served on loopback.

Shapes follow Ashby's own documentation (developers.ashbyhq.com):

* API reference (its OpenAPI document) for ``interviewPlan.list``,
  ``jobInterviewPlan.info``, ``user.list``, ``user.search`` and
  ``interviewSchedule.list|create|update|cancel``: every call is ``POST
  /<rpc.name>`` with a JSON body; the interview event object (``id``,
  ``interviewId``, ``interviewScheduleId``, ``interviewers``, ``startTime``,
  ``endTime``, ``feedbackLink``, ``hasSubmittedFeedback``, ``extraData``...);
  ``interviewSchedule.update`` takes ``interviewEvent`` (one or a list; with an
  ``interviewEventId`` it updates, without it adds) *or*
  ``interviewEventIdToCancel``, and only touches schedules made with the same
  API key; ``extraData`` holds string values, keys of at most 100 and values of
  at most 512 characters, under 1 kB in all.
* *Authentication*: HTTP Basic, the API key as user name, empty password.
* *Responses & Errors*: refusals answer 200 with ``success: false`` and an
  ``errorInfo`` object (``code``, ``message``, ``requestId``).
* *Pagination and Incremental Synchronization*: ``limit`` and ``cursor`` in,
  ``moreDataAvailable`` and ``nextCursor`` out.
* *Authenticating Webhooks* and *Common Payload Data* for
  :meth:`AshbyEmulator.send_webhook`: ``Ashby-Signature: sha256=<hex HMAC of the
  raw body>`` and the ``webhookActionId``/``action``/``data`` envelope.

Choices the documents leave open, made here: a bad key answers HTTP 401; the
error codes ``interviewer_not_found``, ``application_not_found``,
``schedule_not_found``, ``invalid_input`` and ``forbidden`` are this
emulator's. Faults are injected with :meth:`AshbyEmulator.fail_next`.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from integrations.ats.ashby import ashby_time
from integrations.ats.inbound import SIGNATURE_HEADER, sign_body

STAMP = "2027-01-04T09:00:00.000Z"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass
class _Fault:
    endpoint: str
    status: int
    remaining: int
    after_processing: bool


@dataclass
class Recorded:
    endpoint: str
    body: Any
    api_key: str | None


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def _events_of(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = body.get(key)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _check_extra(extra: Any) -> dict[str, str]:
    if extra is None:
        return {}
    if not isinstance(extra, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in extra.items()
    ):
        raise _Refused("invalid_input", "extraData must map strings to strings")
    if any(len(k) > 100 for k in extra) or any(len(v) > 512 for v in extra.values()):
        raise _Refused("invalid_input", "extraData keys <= 100 and values <= 512 characters")
    if len(json.dumps(extra).encode()) >= 1024:
        raise _Refused("invalid_input", "extraData must be under 1kb")
    return dict(extra)


def _parse(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise _Refused("invalid_input", f"{name} is required")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Refused("invalid_input", f"{name} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise _Refused("invalid_input", f"{name} needs a UTC offset")
    return parsed


class AshbyEmulator:
    """Run with ``with AshbyEmulator() as emu:``; ``emu.base_url`` is the API's base."""

    def __init__(self, *, api_key: str = "ashby-test-key", page_size: int = 100) -> None:
        self.api_keys = {api_key}
        self.page_size = page_size
        self.requests: list[Recorded] = []
        self.users: list[dict[str, Any]] = []
        self.plans: list[dict[str, Any]] = []
        self.job_plans: dict[str, dict[str, Any]] = {}
        self.applications: dict[str, dict[str, Any]] = {}
        self.schedules: dict[str, dict[str, Any]] = {}
        self.default_interview_id = str(uuid.uuid4())
        self._owner: dict[str, str] = {}
        self._faults: list[_Fault] = []
        self._lock = threading.RLock()
        self._request_ids = itertools.count(1)
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    # -- lifecycle -------------------------------------------------------

    def start(self) -> AshbyEmulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> AshbyEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- test controls ---------------------------------------------------

    def add_user(self, email: str, first: str = "Test", last: str = "User", **extra: Any) -> str:
        user = {
            "id": str(uuid.uuid4()),
            "firstName": first,
            "lastName": last,
            "email": email,
            "globalRole": "Elevated Access",
            "isEnabled": True,
            "updatedAt": STAMP,
            **extra,
        }
        with self._lock:
            self.users.append(user)
        return str(user["id"])

    def add_job_plan(self, job_id: str, title: str, stages: list[dict[str, Any]]) -> str:
        """Add a job's plan; ``stages`` items: ``{"title", "interviews": [(title, minutes)]}``."""
        plan_id = str(uuid.uuid4())
        built = []
        for order, stage in enumerate(stages):
            interviews = [
                {
                    "id": str(uuid.uuid4()),
                    "title": name,
                    "interviewId": str(uuid.uuid4()),
                    "interviewDurationMinutes": minutes,
                    "isSchedulable": True,
                }
                for name, minutes in stage.get("interviews", [])
            ]
            built.append(
                {
                    "id": stage.get("id") or str(uuid.uuid4()),
                    "title": stage["title"],
                    "type": stage.get("type", "Active"),
                    "orderInInterviewPlan": order,
                    "interviewStageGroupId": str(uuid.uuid4()),
                    "activities": [
                        {"id": str(uuid.uuid4()), "title": stage["title"], "interviews": interviews}
                    ],
                }
            )
        with self._lock:
            self.plans.append(
                {"id": plan_id, "title": title, "isArchived": False, "createdAt": STAMP}
                | {"updatedAt": STAMP}
            )
            self.job_plans[job_id] = {"jobId": job_id, "interviewPlanId": plan_id, "stages": built}
        return plan_id

    def add_application(self, job_id: str, name: str, email: str, stage_index: int = 0) -> str:
        plan = self.job_plans[job_id]
        stage = plan["stages"][stage_index]
        app_id = str(uuid.uuid4())
        with self._lock:
            self.applications[app_id] = {
                "id": app_id,
                "createdAt": STAMP,
                "updatedAt": STAMP,
                "status": "Active",
                "candidate": {
                    "id": str(uuid.uuid4()),
                    "name": name,
                    "primaryEmailAddress": {"value": email, "type": "Personal", "isPrimary": True},
                },
                "currentInterviewStage": {
                    **{k: stage[k] for k in ("id", "title", "type", "orderInInterviewPlan")},
                    "interviewStageGroupId": stage["interviewStageGroupId"],
                    "interviewPlanId": plan["interviewPlanId"],
                },
                "job": {"id": job_id, "title": f"Job {job_id}"},
                "hiringTeam": [],
            }
        return app_id

    def fail_next(
        self, endpoint: str, status: int, *, times: int = 1, after_processing: bool = False
    ) -> None:
        """The next ``times`` calls of ``endpoint`` answer ``status``.

        With ``after_processing`` the call takes effect first (the answer is lost).
        """
        with self._lock:
            self._faults.append(_Fault(endpoint, status, times, after_processing))

    def calls(self, endpoint: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.endpoint == endpoint]

    def live_events(self, application_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                event
                for s in self.schedules.values()
                if s["applicationId"] == application_id and s["status"] != "Cancelled"
                for event in s["interviewEvents"]
            ]

    def send_webhook(
        self,
        url: str,
        action: str,
        data: dict[str, Any],
        *,
        secret: str | None,
        action_id: str | None = None,
    ) -> requests.Response:
        """POST a webhook the way Ashby does (signed when a secret token is set)."""
        event_id = action_id or str(uuid.uuid4())
        payload = {"webhookActionId": event_id, "action": action, "data": data}
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if secret:
            headers[SIGNATURE_HEADER] = sign_body(secret, body)
        return requests.post(url, data=body, headers=headers, timeout=10)

    def stage_change(self, application_id: str) -> dict[str, Any]:
        """``data`` of a ``candidateStageChange`` webhook for the application."""
        with self._lock:
            return {"application": json.loads(json.dumps(self.applications[application_id]))}

    # -- WSGI ------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._dispatch(Request(environ))(environ, start_response)

    def _api_key(self, request: Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        return user if user in self.api_keys and password == "" else None

    def _dispatch(self, request: Request) -> Response:
        endpoint = request.path.strip("/")
        body = request.get_json(silent=True) if request.data else {}
        key = self._api_key(request)
        with self._lock:
            self.requests.append(Recorded(endpoint, body, key))
            fault = next((f for f in self._faults if f.endpoint == endpoint and f.remaining), None)
            if fault is not None:
                fault.remaining -= 1
        if request.method != "POST":
            return _json({"success": False}, 405)
        if key is None:
            return _json({"success": False, "errorInfo": {"code": "unauthenticated"}}, 401)
        if fault is not None and not fault.after_processing:
            return _json({"success": False}, fault.status)
        response = self._handle(endpoint, body if isinstance(body, dict) else {}, key)
        if fault is not None:
            return _json({"success": False}, fault.status)
        return response

    def _handle(self, endpoint: str, body: dict[str, Any], key: str) -> Response:
        handlers = {
            "interviewPlan.list": lambda: self._page(self.plans, body),
            "jobInterviewPlan.info": lambda: self._ok(self._job_plan(body)),
            "user.list": lambda: self._page(self.users, body),
            "user.search": lambda: self._ok(
                [u for u in self.users if u["email"].lower() == str(body.get("email")).lower()]
            ),
            "interviewSchedule.list": lambda: self._page(self._schedules(body), body),
            "interviewSchedule.create": lambda: self._ok(self._create(body, key)),
            "interviewSchedule.update": lambda: self._ok(self._update(body, key)),
            "interviewSchedule.cancel": lambda: self._ok(self._cancel(body, key)),
        }
        handler = handlers.get(endpoint)
        if handler is None:
            return _json({"success": False, "errorInfo": {"code": "not_found"}}, 404)
        try:
            with self._lock:
                return handler()
        except _Refused as exc:
            info = {"code": exc.code, "message": exc.message}
            return _json({"success": False, "errorInfo": info | {"requestId": self._rid()}})

    def _rid(self) -> str:
        return f"req-{next(self._request_ids)}"

    @staticmethod
    def _ok(results: Any) -> Response:
        return _json({"success": True, "results": json.loads(json.dumps(results))})

    def _page(self, rows: list[dict[str, Any]], body: dict[str, Any]) -> Response:
        limit = min(int(body.get("limit") or self.page_size), self.page_size)
        start = int(body.get("cursor") or 0)
        chunk = rows[start : start + limit]
        more = start + limit < len(rows)
        payload: dict[str, Any] = {"success": True, "results": chunk, "moreDataAvailable": more}
        if more:
            payload["nextCursor"] = str(start + limit)
        else:
            payload["syncToken"] = "sync-1"
        return _json(json.loads(json.dumps(payload)))

    # -- handlers --------------------------------------------------------

    def _job_plan(self, body: dict[str, Any]) -> dict[str, Any]:
        plan = self.job_plans.get(str(body.get("jobId")))
        if plan is None:
            raise _Refused("job_not_found", "Job not found")
        return plan

    def _schedules(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        app, stage = body.get("applicationId"), body.get("interviewStageId")
        return [
            s
            for s in self.schedules.values()
            if (app is None or s["applicationId"] == app)
            and (stage is None or s["interviewStageId"] == stage)
        ]

    def _event(self, raw: dict[str, Any], schedule_id: str, event_id: str) -> dict[str, Any]:
        start = _parse(raw.get("startTime"), "startTime")
        end = _parse(raw.get("endTime"), "endTime")
        if end <= start:
            raise _Refused("invalid_input", "endTime must be after startTime")
        people = raw.get("interviewers")
        if not isinstance(people, list) or not people:
            raise _Refused("invalid_input", "interviewers are required")
        by_email = {u["email"].lower(): u for u in self.users if u["isEnabled"]}
        interviewers = []
        for person in people:
            user = by_email.get(str(person.get("email", "")).lower())
            if user is None:
                raise _Refused("interviewer_not_found", f"No user {person.get('email')}")
            required = bool(person.get("feedbackRequired", False))
            interviewers.append(
                user
                | {"trainingRole": None, "interviewerPool": None}
                | {"isFeedbackRequired": required}
            )
        now = ashby_time(datetime.now(UTC))
        return {
            "id": event_id,
            "interviewId": raw.get("interviewId") or self.default_interview_id,
            "interviewScheduleId": schedule_id,
            "interviewerUserIds": [u["id"] for u in interviewers],
            "interviewers": interviewers,
            "createdAt": now,
            "updatedAt": now,
            "startTime": ashby_time(start),
            "endTime": ashby_time(end),
            "feedbackLink": f"https://app.ashbyhq.com/interview-briefings/{event_id}/feedback",
            "location": None,
            "meetingLink": None,
            "hasSubmittedFeedback": False,
            "extraData": _check_extra(raw.get("extraData")),
        }

    def _create(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        app = self.applications.get(str(body.get("applicationId")))
        if app is None:
            raise _Refused("application_not_found", "Application not found")
        raws = _events_of(body, "interviewEvents")
        if not raws:
            raise _Refused("invalid_input", "interviewEvents are required")
        schedule_id = str(uuid.uuid4())
        events = [self._event(raw, schedule_id, str(uuid.uuid4())) for raw in raws]
        schedule = {
            "id": schedule_id,
            "status": "Scheduled",
            "applicationId": app["id"],
            "interviewStageId": app["currentInterviewStage"]["id"],
            "scheduledBy": None,
            "createdAt": ashby_time(datetime.now(UTC)),
            "updatedAt": ashby_time(datetime.now(UTC)),
            "interviewEvents": events,
        }
        self.schedules[schedule_id] = schedule
        self._owner[schedule_id] = key
        return schedule

    def _own_schedule(self, schedule_id: Any, key: str) -> dict[str, Any]:
        schedule = self.schedules.get(str(schedule_id))
        if schedule is None:
            raise _Refused("schedule_not_found", "Interview schedule not found")
        if self._owner.get(schedule["id"]) != key:
            raise _Refused("forbidden", "Only schedules created with this API key can change")
        return schedule

    def _update(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        schedule = self._own_schedule(body.get("interviewScheduleId"), key)
        if schedule["status"] == "Cancelled":
            raise _Refused("invalid_input", "The interview schedule is cancelled")
        changes = _events_of(body, "interviewEvent")
        cancels = [str(i) for i in _events_of(body, "interviewEventIdToCancel")]
        if bool(changes) == bool(cancels):
            raise _Refused("invalid_input", "Send interviewEvent or interviewEventIdToCancel")
        events = {e["id"]: e for e in schedule["interviewEvents"]}
        for raw in changes:
            event_id = raw.get("interviewEventId")
            if event_id is not None and event_id not in events:
                raise _Refused("invalid_input", f"No interview event {event_id}")
            new = self._event(raw, schedule["id"], str(event_id or uuid.uuid4()))
            if event_id is not None:
                new["createdAt"] = events[event_id]["createdAt"]
            events[new["id"]] = new
        for event_id in cancels:
            event = events.get(event_id)
            if event is None:
                raise _Refused("invalid_input", f"No interview event {event_id}")
            if event["hasSubmittedFeedback"] and not body.get("allowFeedbackDeletion"):
                raise _Refused("invalid_input", "The event has feedback")
            del events[event_id]
        schedule["interviewEvents"] = list(events.values())
        schedule["updatedAt"] = ashby_time(datetime.now(UTC))
        return schedule

    def _cancel(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        schedule = self._own_schedule(body.get("id"), key)
        schedule["status"] = "Cancelled"
        schedule["updatedAt"] = ashby_time(datetime.now(UTC))
        return schedule
