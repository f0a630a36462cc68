"""The mailbox behind the Microsoft Graph emulator: events, recurrence, delta rounds.

Events are kept as Graph stores them (``start``/``end`` as ``dateTimeTimeZone``
in the zone they were written in; a ``seriesMaster`` with a
``patternedRecurrence``). Reads expand series into ``occurrence`` instances
(``daily`` and ``weekly`` patterns; ``numbered``, ``endDate`` and ``noEnd``
ranges), as ``calendarView`` does, and present times in UTC, Graph's default
without a ``Prefer: outlook.timezone`` header. Documentation followed:

* event resource: https://learn.microsoft.com/graph/api/resources/event
* patternedRecurrence: https://learn.microsoft.com/graph/api/resources/patternedrecurrence
* calendarView delta: https://learn.microsoft.com/graph/delta-query-events
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_graph_time(value: dict[str, Any]) -> datetime:
    """A ``dateTimeTimeZone`` (IANA zone or UTC) as aware UTC."""
    text = str(value["dateTime"]).rstrip("Z")
    main, _, fraction = text.partition(".")
    naive = datetime.fromisoformat(main + (f".{fraction[:6]}" if fraction else ""))
    zone_name = str(value.get("timeZone") or "UTC")
    zone = UTC if zone_name.upper() == "UTC" else ZoneInfo(zone_name)
    return naive.replace(tzinfo=zone).astimezone(UTC)


def graph_utc(moment: datetime) -> dict[str, str]:
    """How Graph presents a time in UTC (seven fraction digits)."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return {"dateTime": f"{text}.0000000", "timeZone": "UTC"}


@dataclass
class StoredEvent:
    body: dict[str, Any]
    version: int


@dataclass
class Instance:
    """One event as calendarView lists it (a single event or one occurrence)."""

    id: str
    body: dict[str, Any]
    start: datetime
    end: datetime
    version: int


@dataclass
class DeltaToken:
    window: tuple[datetime, datetime]
    seen: dict[str, int]  # instance id -> version when the round ended
    high_water: int
    epoch: int


@dataclass
class Mailbox:
    """One user's default calendar."""

    address: str
    display_name: str
    teams_enabled: bool = True
    teams_link_delayed: bool = False  # onlineMeeting only filled after the create answer
    events: dict[str, StoredEvent] = field(default_factory=dict)
    deleted_occurrences: dict[str, set[date]] = field(default_factory=dict)
    transactions: dict[str, str] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self) -> str:
        return f"AAMkAD{self.address.split('@')[0]}{next(self._ids):05d}="

    # -- expansion ------------------------------------------------------------

    def instances(self, t_min: datetime, t_max: datetime) -> list[Instance]:
        found: list[Instance] = []
        for event_id, stored in self.events.items():
            body = stored.body
            if body.get("type") == "seriesMaster":
                found.extend(self._occurrences(event_id, stored, t_max))
                continue
            start, end = span_of(body)
            found.append(Instance(event_id, body, start, end, stored.version))
        return [i for i in found if i.start < t_max and t_min < i.end]

    def _occurrences(self, master_id: str, stored: StoredEvent, t_max: datetime) -> list[Instance]:
        master = stored.body
        zone_name = str(master["start"].get("timeZone") or "UTC")
        zone = UTC if zone_name.upper() == "UTC" else ZoneInfo(zone_name)
        first = parse_graph_time(master["start"]).astimezone(zone)
        length = parse_graph_time(master["end"]) - parse_graph_time(master["start"])
        skipped = self.deleted_occurrences.get(master_id, set())
        found = []
        for day in recurrence_days(master["recurrence"], t_max.astimezone(zone).date()):
            local = datetime.combine(day, first.time().replace(tzinfo=None), tzinfo=zone)
            start = local.astimezone(UTC)
            if day in skipped:
                continue
            body = {
                **{k: v for k, v in master.items() if k != "recurrence"},
                "id": f"{master_id}.{day:%Y%m%d}",
                "type": "occurrence",
                "seriesMasterId": master_id,
                "start": graph_utc(start),
                "end": graph_utc(start + length),
                "recurrence": None,
            }
            found.append(Instance(body["id"], body, start, start + length, stored.version))
        return found


def span_of(body: dict[str, Any]) -> tuple[datetime, datetime]:
    if body.get("isAllDay"):
        s, e = body["start"]["dateTime"][:10], body["end"]["dateTime"][:10]
        return (
            datetime.fromisoformat(s).replace(tzinfo=UTC),
            datetime.fromisoformat(e).replace(tzinfo=UTC),
        )
    return parse_graph_time(body["start"]), parse_graph_time(body["end"])


def recurrence_days(recurrence: dict[str, Any], last: date) -> Iterator[date]:
    """The local dates of a patternedRecurrence, up to ``last`` (``daily``/``weekly``)."""
    pattern, span = recurrence["pattern"], recurrence["range"]
    kind, interval = pattern["type"], int(pattern.get("interval", 1))
    if kind not in ("daily", "weekly"):
        raise ValueError(f"the emulator only expands daily and weekly patterns, not {kind}")
    day = date.fromisoformat(span["startDate"])
    end = date.fromisoformat(span["endDate"]) if span["type"] == "endDate" else last
    count = int(span["numberOfOccurrences"]) if span["type"] == "numbered" else None
    weekdays = {WEEKDAYS.index(d.lower()) for d in pattern.get("daysOfWeek", [])}
    week_start = day - timedelta(days=day.weekday())
    made = 0
    while day <= min(end, last) and (count is None or made < count):
        if kind == "daily":
            hit = (day - date.fromisoformat(span["startDate"])).days % interval == 0
        else:
            weeks = (day - timedelta(days=day.weekday()) - week_start).days // 7
            hit = day.weekday() in weekdays and weeks % interval == 0
        if hit:
            made += 1
            yield day
        day += timedelta(days=1)


def present(body: dict[str, Any]) -> dict[str, Any]:
    """An event as Graph answers without a time zone preference (times in UTC)."""
    out = {"@odata.type": "#microsoft.graph.event", **body}
    if not body.get("isAllDay"):
        out["start"] = graph_utc(parse_graph_time(body["start"]))
        out["end"] = graph_utc(parse_graph_time(body["end"]))
    else:
        out["start"] = {"dateTime": body["start"]["dateTime"][:10] + "T00:00:00.0000000"}
        out["end"] = {"dateTime": body["end"]["dateTime"][:10] + "T00:00:00.0000000"}
        out["start"]["timeZone"] = out["end"]["timeZone"] = "UTC"
    return out


def schedule_item(instance: Instance) -> dict[str, Any]:
    """A scheduleItem of getSchedule for one instance."""
    body = instance.body
    return {
        "isPrivate": body.get("sensitivity") == "private",
        "status": body.get("showAs", "busy"),
        "subject": body.get("subject", ""),
        "location": (body.get("location") or {}).get("displayName", ""),
        "start": graph_utc(instance.start),
        "end": graph_utc(instance.end),
    }


def on_schedule(instance: Instance) -> bool:
    """Exchange leaves cancelled meetings and declined invitations out of free/busy."""
    body = instance.body
    declined = (body.get("responseStatus") or {}).get("response") == "declined"
    return not body.get("isCancelled") and not declined


def delta_changes(
    mailbox: Mailbox, token: DeltaToken | None, window: tuple[datetime, datetime]
) -> tuple[list[dict[str, Any]], dict[str, int], int]:
    """The items of a delta round, what the next token remembers, and its high water."""
    current = {i.id: i for i in mailbox.instances(*window)}
    high = max((s.version for s in mailbox.events.values()), default=0)
    if token is None:
        items = [present(i.body) for i in current.values()]
        return items, {k: i.version for k, i in current.items()}, high
    items = [present(i.body) for k, i in current.items() if token.seen.get(k) != i.version]
    for gone in token.seen.keys() - current.keys():
        items.append({"@odata.type": "#microsoft.graph.event", "id": gone, "@removed": {}})
    # documented: events changed outside the window may come as removals too
    for event_id, stored in mailbox.events.items():
        outside = event_id not in current and not any(k.startswith(event_id) for k in current)
        if stored.version > token.high_water and outside:
            items.append({"id": event_id, "@removed": {}})
    for item in items:
        if "@removed" in item:
            item["@removed"] = {"reason": "deleted"}
    return items, {k: i.version for k, i in current.items()}, max(high, token.high_water)
