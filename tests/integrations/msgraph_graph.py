"""The Microsoft Graph v1.0 calendar routes of the emulator (see msgraph_emulator.py
for the documentation pages each shape follows)."""

from __future__ import annotations

import itertools
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from tests.integrations.msgraph_store import (
    DeltaToken,
    Instance,
    Mailbox,
    StoredEvent,
    delta_changes,
    on_schedule,
    parse_graph_time,
    present,
    schedule_item,
)

if TYPE_CHECKING:
    from tests.integrations.msgraph_emulator import MicrosoftEmulator

READ_SCOPES = frozenset({"Calendars.Read", "Calendars.ReadWrite"})
WRITE_SCOPES = frozenset({"Calendars.ReadWrite"})
MAX_SCHEDULES = 20
MAX_SCHEDULE_DAYS = 62
VIEW_DIGIT = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingelsewhere": "4"}
VIEW_RANK = {"0": 0, "4": 1, "1": 2, "2": 3, "3": 4}  # which status wins a shared slot


def graph_error(
    status: int, code: str, message: str = "", headers: dict[str, str] | None = None
) -> Response:
    payload = {
        "error": {
            "code": code,
            "message": message or code,
            "innerError": {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": secrets.token_hex(8),
                "client-request-id": secrets.token_hex(8),
            },
        }
    }
    return Response(
        json.dumps(payload), status=status, mimetype="application/json", headers=headers
    )


def ok(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def _query_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)


def _page_size(request: Request, cap: int) -> int:
    for part in request.headers.get("Prefer", "").split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "odata.maxpagesize" and value.strip().isdigit():
            return max(1, min(cap, int(value)))
    return cap


class GraphRoutes:
    def __init__(self, emulator: MicrosoftEmulator) -> None:
        self.emu = emulator
        self.rounds: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, DeltaToken] = {}
        self.epoch = 0
        self.location_on_expiry = False
        self._ids = itertools.count(1)

    # -- controls --------------------------------------------------------------------

    def expire_delta_tokens(self, *, with_location: bool) -> None:
        with self.emu.lock:
            self.epoch += 1
            self.location_on_expiry = with_location

    def add_event(self, box: Mailbox, body: dict[str, Any]) -> str:
        with self.emu.lock:
            event = {
                "type": "seriesMaster" if body.get("recurrence") else "singleInstance",
                "isCancelled": False,
                "isAllDay": False,
                "showAs": "busy",
                "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
                "organizer": {"emailAddress": {"name": box.display_name, "address": box.address}},
                "attendees": [],
                "isOnlineMeeting": False,
                "onlineMeeting": None,
                **body,
            }
            event.setdefault("id", box.new_id())
            event.setdefault("iCalUId", "040000008200E00074C5B7101A82E008" + secrets.token_hex(8))
            box.events[event["id"]] = StoredEvent(event, next(self.emu.version))
            return str(event["id"])

    def change_event(self, box: Mailbox, event_id: str, changes: dict[str, Any]) -> None:
        with self.emu.lock:
            stored = box.events[event_id]
            stored.body.update(changes)
            stored.version = next(self.emu.version)

    # -- dispatch ---------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        from tests.integrations.msgraph_emulator import RecordedRequest

        body = request.get_json(silent=True) if request.data else None
        with self.emu.lock:
            self.emu.requests.append(
                RecordedRequest(
                    request.method, request.path, dict(request.args), dict(request.headers), body
                )
            )
            fault = self._take_fault(request.path)
        if fault is not None and not fault.after_processing:
            return self._fault(fault)
        response = self._authorised(request, body)
        return self._fault(fault) if fault is not None else response

    def _take_fault(self, path: str) -> Any:
        for fault in self.emu.faults:
            if fault.remaining > 0 and fault.path_contains in path:
                fault.remaining -= 1
                return fault
        return None

    @staticmethod
    def _fault(fault: Any) -> Response:
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
        return graph_error(fault.status, fault.code, "emulated fault", headers)

    def _authorised(self, request: Request, body: Any) -> Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        with self.emu.lock:
            found = self.emu.access_tokens.get(token)
        if found is None:
            return graph_error(
                401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
            )
        address, scopes = found
        box = self.emu.mailboxes.get(address.casefold())
        if box is None:
            return graph_error(404, "MailboxNotEnabledForRESTAPI", "The mailbox is not enabled.")
        parts = [p.lower() for p in request.path.strip("/").split("/")[1:]]
        raw = request.path.strip("/").split("/")[1:]
        write = request.method in ("POST", "PATCH", "DELETE") and parts != [
            "me",
            "calendar",
            "getschedule",
        ]
        if not scopes & (WRITE_SCOPES if write else READ_SCOPES):
            return graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials.")
        try:
            with self.emu.lock:
                return self._route(request, parts, raw, box, body or {})
        except (KeyError, ValueError, TypeError) as exc:
            return graph_error(400, "ErrorInvalidRequest", f"cannot process the request: {exc}")

    def _route(
        self, request: Request, parts: list[str], raw: list[str], box: Mailbox, body: Any
    ) -> Response:
        method = request.method
        if parts == ["me", "calendar", "getschedule"] and method == "POST":
            return self._schedule(body)
        if parts == ["me", "calendarview", "delta"] and method == "GET":
            return self._delta(request, box)
        if parts in (["me", "calendar", "events"], ["me", "events"]) and method == "POST":
            return self._create(box, body)
        if len(parts) == 3 and parts[:2] == ["me", "events"]:
            event_id = raw[2]
            if event_id not in box.events:
                return graph_error(404, "ErrorItemNotFound", "The specified object was not found.")
            if method == "GET":
                return self._get(box, event_id, request.args.get("$select"))
            if method == "PATCH":
                return self._patch(box, event_id, body)
            if method == "DELETE":
                return self._delete(box, event_id)
        return graph_error(400, "BadRequest", f"Resource not found for {method} {request.path}")

    # -- getSchedule ------------------------------------------------------------------

    def _schedule(self, body: dict[str, Any]) -> Response:
        schedules = body["schedules"]
        start, end = parse_graph_time(body["startTime"]), parse_graph_time(body["endTime"])
        interval = int(body.get("availabilityViewInterval", 30))
        if len(schedules) > MAX_SCHEDULES:
            return graph_error(400, "ErrorInvalidRequest", "at most 20 schedules per request")
        if not start < end or end - start >= timedelta(days=MAX_SCHEDULE_DAYS):
            return graph_error(400, "ErrorInvalidRequest", "the period must be under 62 days")
        if not 5 <= interval <= 1440:
            return graph_error(400, "ErrorInvalidRequest", "availabilityViewInterval is 5..1440")
        value = []
        for address in schedules:
            box = self.emu.mailboxes.get(str(address).casefold())
            if box is None:
                value.append(
                    {
                        "scheduleId": address,
                        "availabilityView": "",
                        "scheduleItems": [],
                        "error": {
                            "message": "The user or resource could not be found.",
                            "responseCode": "ErrorMailRecipientNotFound",
                        },
                    }
                )
                continue
            found = [i for i in box.instances(start, end) if on_schedule(i)]
            found.sort(key=lambda i: (i.start, i.end))
            value.append(
                {
                    "scheduleId": address,
                    "availabilityView": _view(found, start, end, interval),
                    "scheduleItems": [schedule_item(i) for i in found],
                    "workingHours": {},
                }
            )
        context = "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)"
        return ok({"@odata.context": context, "value": value})

    # -- delta ---------------------------------------------------------------------------

    def _delta(self, request: Request, box: Mailbox) -> Response:
        args = {k.lower(): v for k, v in request.args.items()}
        size = _page_size(request, self.emu.page_size)
        if "$skiptoken" in args:
            round_id, _, offset = args["$skiptoken"].partition(".")
            return self._page(self.rounds[round_id], int(offset), size)
        token = None
        if "$deltatoken" in args:
            token = self.tokens.get(args["$deltatoken"])
            if token is None or token.epoch != self.epoch:
                headers = None
                if self.location_on_expiry:
                    headers = {
                        "Location": f"{self.emu.graph_endpoint}/me/calendarView/delta?$deltatoken="
                    }
                return graph_error(
                    410, "syncStateNotFound", "The sync state generation is not found.", headers
                )
            window = token.window
        else:
            window = (_query_time(args["startdatetime"]), _query_time(args["enddatetime"]))
        items, seen, high = delta_changes(box, token, window)
        round_id = f"r{next(self._ids)}"
        self.rounds[round_id] = {"id": round_id, "items": items, "window": window, "seen": seen}
        self.rounds[round_id]["high"] = high
        return self._page(self.rounds[round_id], 0, size)

    def _page(self, state: dict[str, Any], offset: int, size: int) -> Response:
        base = f"{self.emu.graph_endpoint}/me/calendarView/delta"
        items = state["items"][offset : offset + size]
        payload: dict[str, Any] = {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(event)",
            "value": items,
        }
        if offset + size < len(state["items"]):
            payload["@odata.nextLink"] = f"{base}?$skiptoken={state['id']}.{offset + size}"
        else:
            token_id = secrets.token_urlsafe(12)
            self.tokens[token_id] = DeltaToken(
                state["window"], state["seen"], state["high"], self.epoch
            )
            payload["@odata.deltaLink"] = f"{base}?$deltatoken={token_id}"
        return ok(payload)

    # -- events ----------------------------------------------------------------------------

    def _create(self, box: Mailbox, body: dict[str, Any]) -> Response:
        parse_graph_time(body["start"]), parse_graph_time(body["end"])
        txn = body.get("transactionId")
        if txn and box.transactions.get(txn) in box.events:
            return ok(present(box.events[box.transactions[txn]].body), 201)  # a repeated create
        event = dict(body)
        event["attendees"] = [
            {**a, "status": {"response": "none", "time": "0001-01-01T00:00:00Z"}}
            for a in body.get("attendees", [])
        ]
        wants_teams = body.get("isOnlineMeeting") and body.get("onlineMeetingProvider") == (
            "teamsForBusiness"
        )
        if wants_teams and box.teams_enabled:
            join = f"https://teams.microsoft.test/l/meetup-join/19%3ameeting_{secrets.token_hex(8)}%40thread.v2/0"
            event["onlineMeeting"] = {"joinUrl": join, "conferenceId": str(next(self._ids))}
            content = (body.get("body") or {}).get("content", "")
            event["body"] = {"contentType": "html", "content": f"{content}<p>{join}</p>"}
        else:
            event["isOnlineMeeting"], event["onlineMeetingProvider"] = False, "unknown"
        event_id = self.add_event(box, event)
        if txn:
            box.transactions[txn] = event_id
        answer = present(box.events[event_id].body)
        if box.teams_link_delayed:
            answer["onlineMeeting"] = None
        return ok(answer, 201)

    def _get(self, box: Mailbox, event_id: str, select: str | None) -> Response:
        shown = present(box.events[event_id].body)
        if select:
            wanted = {"id", *(s.strip() for s in select.split(","))}
            shown = {k: v for k, v in shown.items() if k in wanted or k.startswith("@odata")}
        return ok(shown)

    def _patch(self, box: Mailbox, event_id: str, body: dict[str, Any]) -> Response:
        stored = box.events[event_id]
        for key in ("start", "end"):
            if key in body:
                parse_graph_time(body[key])
        meeting = stored.body.get("onlineMeeting") or {}
        new_body = body.get("body")
        if (
            meeting
            and new_body is not None
            and meeting["joinUrl"] not in new_body.get("content", "")
        ):
            body = {**body, "isOnlineMeeting": False, "onlineMeeting": None}  # blob removed
        self.change_event(box, event_id, body)
        return ok(present(stored.body))

    def _delete(self, box: Mailbox, event_id: str) -> Response:
        box.events.pop(event_id)
        return Response(status=204)


def _view(found: list[Instance], start: datetime, end: datetime, minutes: int) -> str:
    digits = []
    slot = start
    while slot < end:
        nxt = slot + timedelta(minutes=minutes)
        here = [VIEW_DIGIT.get(str(i.body.get("showAs", "busy")).lower(), "2") for i in found]
        here = [d for d, i in zip(here, found, strict=True) if i.start < nxt and slot < i.end]
        digits.append(max(here, key=VIEW_RANK.__getitem__, default="0"))
        slot = nxt
    return "".join(digits)
