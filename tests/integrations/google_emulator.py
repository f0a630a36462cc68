"""A small Google Calendar API v3 emulator for tests, served on loopback.

It speaks enough of the real wire protocol for the real
``google-api-python-client`` to talk to it:

* ``POST /calendar/v3/freeBusy`` (at most 50 calendars, at most 90 days; recurring
  series are expanded, as Google does),
* ``GET|POST /calendar/v3/calendars/{id}/events`` with paging, ``syncToken``
  and ``nextSyncToken`` on the last page only,
* ``GET|PATCH|DELETE /calendar/v3/calendars/{id}/events/{eventId}`` (a deleted event
  is still returned by GET, with ``status: cancelled``, as Google does),
* ``POST /token`` for refreshing access tokens (refresh tokens can be revoked).

Attendees carry ``responseStatus`` (``needsAction`` unless given); an attendee's
answer is made with :meth:`GoogleEmulator.respond`.

Faults are injected with :meth:`GoogleEmulator.fail_next` and
:meth:`GoogleEmulator.invalidate_sync_tokens`. Every API request is recorded
in :attr:`GoogleEmulator.requests`.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

API_PREFIX = "/calendar/v3"
BASE32HEX = "0123456789abcdefghijklmnopqrstuv"
MAX_FREEBUSY_CALENDARS = 50
MAX_FREEBUSY_DAYS = 90
NOT_COMBINABLE_WITH_SYNC_TOKEN = ("timeMin", "timeMax", "q", "orderBy", "updatedMin", "iCalUID")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class RecordedRequest:
    method: str
    path: str
    args: dict[str, str]
    body: Any


@dataclass
class _Fault:
    status: int
    reason: str
    remaining: int
    path_contains: str = ""
    after_processing: bool = False


@dataclass
class _StoredEvent:
    body: dict[str, Any]
    version: int
    deleted: bool = False


@dataclass
class _CalendarStore:
    events: dict[str, _StoredEvent] = field(default_factory=dict)


def _error(status: int, reason: str, message: str = "") -> Response:
    payload = {
        "error": {
            "code": status,
            "message": message or reason,
            "errors": [{"domain": "global", "reason": reason, "message": message or reason}],
        }
    }
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def _parse_rfc3339(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"not an RFC 3339 time with offset: {value}")
    return parsed.astimezone(UTC)


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event_span(body: dict[str, Any]) -> tuple[datetime, datetime] | None:
    start, end = body.get("start", {}), body.get("end", {})
    if "dateTime" in start and "dateTime" in end:
        return _parse_rfc3339(start["dateTime"]), _parse_rfc3339(end["dateTime"])
    if "date" in start and "date" in end:
        s, e = date.fromisoformat(start["date"]), date.fromisoformat(end["date"])
        return (
            datetime(s.year, s.month, s.day, tzinfo=UTC),
            datetime(e.year, e.month, e.day, tzinfo=UTC),
        )
    return None


def _as_utc(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _ics_time(name: str, value: dict[str, Any]) -> str:
    if "date" in value:
        return f"{name};VALUE=DATE:{value['date'].replace('-', '')}"
    moment = _parse_rfc3339(value["dateTime"])
    zone = value.get("timeZone")
    if zone and zone != "UTC":
        local = moment.astimezone(ZoneInfo(zone))
        return f"{name};TZID={zone}:{local.strftime('%Y%m%dT%H%M%S')}"
    return f"{name}:{moment.strftime('%Y%m%dT%H%M%SZ')}"


def _series_ics(members: list[dict[str, Any]]) -> str:
    """A recurring series (master and exceptions) as Google would expand it, in iCalendar."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//emulator//EN"]
    for event in members:
        lines += ["BEGIN:VEVENT", f"UID:{event.get('iCalUID', event['id'])}"]
        lines.append("DTSTAMP:20270101T000000Z")
        if "originalStartTime" in event:
            lines.append(_ics_time("RECURRENCE-ID", event["originalStartTime"]))
        start = event.get("start") or event.get("originalStartTime")
        end = event.get("end") or start
        lines += [_ics_time("DTSTART", start), _ics_time("DTEND", end)]
        lines += list(event.get("recurrence", []))
        lines.append(f"STATUS:{str(event.get('status', 'confirmed')).upper()}")
        if event.get("transparency") == "transparent":
            lines.append("TRANSP:TRANSPARENT")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


class GoogleEmulator:
    """Run with ``with GoogleEmulator() as emu:``; ``emu.api_endpoint`` is the client's endpoint."""

    def __init__(self, *, page_size: int = 250) -> None:
        self.page_size = page_size
        self.requests: list[RecordedRequest] = []
        self.calendars: dict[str, _CalendarStore] = {}
        self._lock = threading.RLock()
        self._version = itertools.count(1)
        self._ids = itertools.count(1)
        self._epoch = 0
        self._faults: list[_Fault] = []
        self._token_faults: list[_Fault] = []
        self._access_tokens: set[str] = set()
        self._refresh_tokens: set[str] = set()
        self._revoked: set[str] = set()
        self._codes: dict[str, tuple[str, str, str]] = {}
        self.token_requests = 0
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> GoogleEmulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> GoogleEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_endpoint(self) -> str:
        return f"{self.base_url}{API_PREFIX}/"

    @property
    def token_uri(self) -> str:
        return f"{self.base_url}/token"

    # -- test controls -----------------------------------------------------

    def add_calendar(self, calendar_id: str) -> None:
        with self._lock:
            self.calendars.setdefault(calendar_id, _CalendarStore())

    def add_event(self, calendar_id: str, body: dict[str, Any]) -> str:
        """Store an event as the API would after an insert; return its id."""
        with self._lock:
            store = self.calendars.setdefault(calendar_id, _CalendarStore())
            event = dict(body)
            event.setdefault("id", f"evt{next(self._ids):06d}")
            event.setdefault("status", "confirmed")
            event.setdefault("iCalUID", f"{event['id']}@google.test")
            event.setdefault("sequence", 0)
            event["attendees"] = _with_answers(event.get("attendees", []), [])
            store.events[event["id"]] = _StoredEvent(event, next(self._version))
            return str(event["id"])

    def respond(
        self,
        calendar_id: str,
        event_id: str,
        email: str,
        response_status: str,
        *,
        updated: datetime | None = None,
    ) -> None:
        """An attendee answers (``accepted``, ``declined``, ``tentative``, ``needsAction``).

        Like Google, this changes the event (it shows up in the next incremental
        sync) but not its ``sequence``.
        """
        with self._lock:
            stored = self.calendars[calendar_id].events[event_id]
            matches = [a for a in stored.body.get("attendees", []) if a.get("email") == email]
            if not matches:
                raise KeyError(f"{email} is not an attendee of {event_id}")
            for attendee in matches:
                attendee["responseStatus"] = response_status
            if updated is not None:
                stored.body["updated"] = _rfc3339(updated)
            stored.version = next(self._version)

    def delete_event(self, calendar_id: str, event_id: str) -> None:
        with self._lock:
            stored = self.calendars[calendar_id].events[event_id]
            stored.deleted = True
            stored.body["status"] = "cancelled"
            stored.version = next(self._version)

    def event(self, calendar_id: str, event_id: str) -> dict[str, Any] | None:
        with self._lock:
            stored = self.calendars.get(calendar_id, _CalendarStore()).events.get(event_id)
            if stored is None or stored.deleted:
                return None
            return dict(stored.body)

    def live_events(self, calendar_id: str) -> list[dict[str, Any]]:
        with self._lock:
            store = self.calendars.get(calendar_id, _CalendarStore())
            return [dict(s.body) for s in store.events.values() if not s.deleted]

    def fail_next(
        self,
        status: int,
        times: int = 1,
        *,
        reason: str = "",
        path_contains: str = "",
        after_processing: bool = False,
    ) -> None:
        """Answer the next ``times`` API requests (matching ``path_contains``) with an error.

        With ``after_processing`` the request is carried out first and only the
        answer is lost (a write that succeeded although the client saw a 5xx).
        """
        default = {
            403: "rateLimitExceeded",
            429: "rateLimitExceeded",
            401: "authError",
        }.get(status, "backendError")
        with self._lock:
            self._faults.append(
                _Fault(status, reason or default, times, path_contains, after_processing)
            )

    def fail_token_next(self, status: int, error: str, times: int = 1) -> None:
        """Answer the next ``times`` token requests with ``{"error": error}``."""
        with self._lock:
            self._token_faults.append(_Fault(status, error, times))

    def invalidate_sync_tokens(self) -> None:
        """Every sync token issued so far now answers 410 Gone."""
        with self._lock:
            self._epoch += 1

    def issue_refresh_token(self, refresh_token: str) -> None:
        with self._lock:
            self._refresh_tokens.add(refresh_token)

    def issue_access_token(self, access_token: str) -> None:
        with self._lock:
            self._access_tokens.add(access_token)

    def authorize(self, code: str, code_challenge: str, refresh_token: str, scope: str) -> None:
        """Remember a consent for ``scope`` (space-separated): ``code`` is exchangeable
        once, with the PKCE verifier."""
        with self._lock:
            self._codes[code] = (code_challenge, refresh_token, scope)

    def revoke(self, refresh_token: str) -> None:
        """Revoke a refresh token and every access token issued so far."""
        with self._lock:
            self._revoked.add(refresh_token)
            self._access_tokens.clear()

    def api_requests(self, method: str | None = None, path_contains: str = "") -> list[Any]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and path_contains in r.path
            ]

    # -- WSGI ----------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        if request.path == "/token":
            return self._token(request)
        if not request.path.startswith(API_PREFIX + "/"):
            return _error(404, "notFound", f"no route {request.path}")
        body = request.get_json(silent=True) if request.data else None
        with self._lock:
            self.requests.append(
                RecordedRequest(request.method, request.path, dict(request.args), body)
            )
            fault = self._take_fault(request.path)
        if fault is not None and not fault.after_processing:
            return _error(fault.status, fault.reason)
        response = self._authorised_api(request, body)
        if fault is not None:
            return _error(fault.status, fault.reason)
        return response

    def _authorised_api(self, request: Request, body: Any) -> Response:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip()
        with self._lock:
            authorised = token in self._access_tokens
        if not authorised:
            return _error(401, "authError", "Invalid Credentials")
        parts = [unquote(p) for p in request.path[len(API_PREFIX) + 1 :].split("/")]
        try:
            if parts == ["freeBusy"] and request.method == "POST":
                return self._freebusy(body or {})
            if len(parts) == 3 and parts[0] == "calendars" and parts[2] == "events":
                if request.method == "GET":
                    return self._list(parts[1], request.args)
                if request.method == "POST":
                    return self._insert(parts[1], body or {}, request.args)
            if len(parts) == 4 and parts[0] == "calendars" and parts[2] == "events":
                if request.method == "GET":
                    return self._get(parts[1], parts[3])
                if request.method == "PATCH":
                    return self._patch(parts[1], parts[3], body or {})
                if request.method == "DELETE":
                    return self._delete(parts[1], parts[3])
        except ValueError as exc:
            return _error(400, "invalid", str(exc))
        return _error(404, "notFound", f"no route {request.method} {request.path}")

    def _take_fault(self, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.path_contains in path:
                fault.remaining -= 1
                return fault
        return None

    def _token(self, request: Request) -> Response:
        with self._lock:
            self.token_requests += 1
            for fault in self._token_faults:
                if fault.remaining > 0:
                    fault.remaining -= 1
                    return _json({"error": fault.reason}, fault.status)
            grant = request.form.get("grant_type")
            if grant == "authorization_code":
                return self._exchange_code(request)
            if grant != "refresh_token":
                return _json({"error": "unsupported_grant_type"}, 400)
            refresh = request.form.get("refresh_token", "")
            if refresh in self._revoked or refresh not in self._refresh_tokens:
                return _json(
                    {"error": "invalid_grant", "error_description": "Token has been revoked."},
                    400,
                )
            access = f"access-{next(self._ids)}"
            self._access_tokens.add(access)
        return _json({"access_token": access, "expires_in": 3600, "token_type": "Bearer"})

    def _exchange_code(self, request: Request) -> Response:
        code = request.form.get("code", "")
        verifier = request.form.get("code_verifier", "")
        if code not in self._codes:
            return _json({"error": "invalid_grant", "error_description": "Bad code."}, 400)
        challenge, refresh, scope = self._codes.pop(code)
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii") != challenge:
            return _json({"error": "invalid_grant", "error_description": "Bad verifier."}, 400)
        self._refresh_tokens.add(refresh)
        access = f"access-{next(self._ids)}"
        self._access_tokens.add(access)
        return _json(
            {
                "access_token": access,
                "refresh_token": refresh,
                "expires_in": 3600,
                "token_type": "Bearer",
                "scope": scope,
            }
        )

    def _freebusy(self, body: dict[str, Any]) -> Response:
        items = body.get("items", [])
        if len(items) > MAX_FREEBUSY_CALENDARS:
            return _error(400, "tooManyCalendarsRequested", "at most 50 calendars per request")
        t_min, t_max = _parse_rfc3339(body["timeMin"]), _parse_rfc3339(body["timeMax"])
        if t_max <= t_min:
            return _error(400, "timeRangeEmpty", "timeMax must be after timeMin")
        if t_max - t_min > timedelta(days=MAX_FREEBUSY_DAYS):
            return _error(400, "timeRangeTooLong", "the time range is too long")
        calendars: dict[str, Any] = {}
        with self._lock:
            for item in items:
                cal_id = item["id"]
                store = self.calendars.get(cal_id)
                if store is None:
                    calendars[cal_id] = {
                        "errors": [{"domain": "global", "reason": "notFound"}],
                        "busy": [],
                    }
                    continue
                busy = [
                    {"start": _rfc3339(max(a, t_min)), "end": _rfc3339(min(b, t_max))}
                    for a, b in self._busy_spans(store, t_min, t_max)
                ]
                busy.sort(key=lambda b: b["start"])
                calendars[cal_id] = {"busy": busy}
        return _json(
            {
                "kind": "calendar#freeBusy",
                "timeMin": body["timeMin"],
                "timeMax": body["timeMax"],
                "calendars": calendars,
            }
        )

    def _busy_spans(
        self, store: _CalendarStore, t_min: datetime, t_max: datetime
    ) -> list[tuple[datetime, datetime]]:
        """Opaque, confirmed time in ``[t_min, t_max)``, recurring series expanded."""
        spans = []
        series: dict[str, list[dict[str, Any]]] = {}
        for stored in store.events.values():
            event = stored.body
            if stored.deleted:
                continue
            if event.get("recurrence") or event.get("recurringEventId"):
                series.setdefault(str(event.get("iCalUID", event["id"])), []).append(event)
                continue
            if event.get("status") == "cancelled" or event.get("transparency") == "transparent":
                continue
            span = _event_span(event)
            if span is not None and span[0] < t_max and t_min < span[1]:
                spans.append(span)
        for members in series.values():
            cal = icalendar.Calendar.from_ical(_series_ics(members))
            for occurrence in recurring_ical_events.of(cal).between(t_min, t_max):
                if str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
                    continue
                if str(occurrence.get("TRANSP", "")).upper() == "TRANSPARENT":
                    continue
                start, end = occurrence.decoded("DTSTART"), occurrence.decoded("DTEND")
                spans.append((_as_utc(start), _as_utc(end)))
        return spans

    def _list(self, calendar_id: str, args: Any) -> Response:
        sync_token = args.get("syncToken")
        if sync_token:
            clashing = [name for name in NOT_COMBINABLE_WITH_SYNC_TOKEN if name in args]
            if clashing:
                return _error(400, "invalid", f"syncToken cannot be combined with {clashing}")
        with self._lock:
            store = self.calendars.get(calendar_id)
            if store is None:
                return _error(404, "notFound", "calendar not found")
            since = 0
            if sync_token:
                epoch, _, version = sync_token.partition(".")
                if not version.isdigit() or int(epoch) != self._epoch:
                    return _error(410, "fullSyncRequired", "Sync token is no longer valid")
                since = int(version)
            show_deleted = bool(sync_token) or args.get("showDeleted") == "true"
            rows = sorted(store.events.values(), key=lambda s: (s.version, s.body["id"]))
            selected = [
                s.body
                for s in rows
                if s.version > since
                and (show_deleted or not s.deleted)
                and (
                    show_deleted
                    or s.body.get("status") != "cancelled"
                    or "recurringEventId" in s.body
                )
            ]
            high_water = max((s.version for s in rows), default=since)
            high_water = max(high_water, since)
        page_size = min(int(args.get("maxResults", self.page_size)), self.page_size)
        offset = int(args.get("pageToken", "0"))
        page = selected[offset : offset + page_size]
        payload: dict[str, Any] = {"kind": "calendar#events", "items": page}
        if offset + page_size < len(selected):
            payload["nextPageToken"] = str(offset + page_size)
        else:
            payload["nextSyncToken"] = f"{self._epoch}.{high_water}"
        return _json(payload)

    def _insert(self, calendar_id: str, body: dict[str, Any], args: Any) -> Response:
        if calendar_id not in self.calendars:
            return _error(404, "notFound", "calendar not found")
        for key in ("start", "end"):
            if key not in body:
                return _error(400, "required", f"Missing {key}")
        event = dict(body)
        wanted = event.get("id")
        if wanted is not None:
            if not (5 <= len(wanted) <= 1024 and set(wanted) <= set(BASE32HEX)):
                return _error(400, "invalid", "Invalid resource id value.")
            with self._lock:
                if wanted in self.calendars[calendar_id].events:  # deleted ones too
                    return _error(409, "duplicate", "The requested identifier already exists.")
        create = event.get("conferenceData", {}).get("createRequest")
        if create and args.get("conferenceDataVersion") == "1":
            event["conferenceData"] = {
                "createRequest": {**create, "status": {"statusCode": "success"}},
                "conferenceSolution": {"key": {"type": "hangoutsMeet"}},
                "entryPoints": [
                    {
                        "entryPointType": "video",
                        "uri": f"https://meet.google.test/{next(self._ids)}",
                    }
                ],
            }
            event["hangoutLink"] = event["conferenceData"]["entryPoints"][0]["uri"]
        elif create:
            event.pop("conferenceData")
        event_id = self.add_event(calendar_id, event)
        return _json(self.event(calendar_id, event_id))

    def _patch(self, calendar_id: str, event_id: str, body: dict[str, Any]) -> Response:
        with self._lock:
            stored = self.calendars.get(calendar_id, _CalendarStore()).events.get(event_id)
            if stored is None:
                return _error(404, "notFound", "event not found")
            if stored.deleted and body.get("status") != "confirmed":
                return _error(404, "notFound", "event not found")
            stored.deleted = False  # setting status "confirmed" restores a deleted event
            previous = int(stored.body.get("sequence", 0))
            if int(body.get("sequence", previous)) < previous:
                return _error(400, "invalidSequenceValue", "Invalid sequence value.")
            if "attendees" in body:  # answers of attendees who stay are kept
                body = {
                    **body,
                    "attendees": _with_answers(body["attendees"], stored.body.get("attendees", [])),
                }
            stored.body.update(body)
            if "sequence" not in body:
                stored.body["sequence"] = previous + 1
            stored.version = next(self._version)
            return _json(dict(stored.body))

    def _get(self, calendar_id: str, event_id: str) -> Response:
        with self._lock:
            stored = self.calendars.get(calendar_id, _CalendarStore()).events.get(event_id)
            if stored is None:
                return _error(404, "notFound", "event not found")
            return _json(dict(stored.body))

    def _delete(self, calendar_id: str, event_id: str) -> Response:
        with self._lock:
            stored = self.calendars.get(calendar_id, _CalendarStore()).events.get(event_id)
            if stored is None:
                return _error(404, "notFound", "event not found")
            if stored.deleted:
                return _error(410, "deleted", "Resource has been deleted")
        self.delete_event(calendar_id, event_id)
        return Response(status=204)


def _with_answers(
    attendees: list[dict[str, Any]], previous: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``attendees`` with ``responseStatus``: given, else kept from ``previous``, else
    ``needsAction``."""
    answered = {a.get("email"): a.get("responseStatus") for a in previous}
    return [
        {
            **a,
            "responseStatus": a.get("responseStatus")
            or answered.get(a.get("email"))
            or "needsAction",
        }
        for a in attendees
    ]
