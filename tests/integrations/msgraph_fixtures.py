"""Shared set-up for the Microsoft 365 tests: the emulator, a registered app, a connected user."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import requests

from integrations.backoff import Backoff
from integrations.calendars.msgraph_backend import GraphOptions, MicrosoftGraphBackend
from integrations.msgraph_auth import (
    MicrosoftClientConfig,
    MicrosoftCredentials,
    finish_authorization,
    scopes_for,
    start_authorization,
)
from tests.integrations.contract import SeedEvent
from tests.integrations.msgraph_emulator import MicrosoftEmulator

USER = "alice@contoso.test"
CLIENT_ID = "00001111-aaaa-2222-bbbb-3333cccc4444"
SECRET = "client-secret-value"
REDIRECT = "https://panelslot.example.com/oauth/microsoft/callback"


class RecordingSleep:
    """Stands in for time.sleep in Backoff: records the waits, never sleeps."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def config_for(emulator: MicrosoftEmulator) -> MicrosoftClientConfig:
    return MicrosoftClientConfig(
        client_id=CLIENT_ID,
        client_secret=SECRET,
        redirect_uri=REDIRECT,
        authority=emulator.authority,
        instance_discovery=False,
        ca_bundle=emulator.ca_path,
    )


def prepare(emulator: MicrosoftEmulator, **mailbox: Any) -> None:
    emulator.register_client(CLIENT_ID, SECRET, REDIRECT)
    emulator.add_mailbox(USER, "Alice Example", **mailbox)
    emulator.sign_in(USER)


def browser_callback(
    emulator: MicrosoftEmulator, url: str, redirect: str = REDIRECT
) -> dict[str, str]:
    """What a browser does: open the consent URL, follow it to our redirect URI."""
    answer = requests.get(url, allow_redirects=False, verify=emulator.ca_path, timeout=10)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(redirect + "?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def connect(emulator: MicrosoftEmulator, *, write: bool = True) -> MicrosoftCredentials:
    config = config_for(emulator)
    scopes = scopes_for(write=write)
    started = start_authorization(config, scopes, login_hint=USER)
    callback = browser_callback(emulator, started.url)
    return finish_authorization(config, scopes, callback_args=callback, flow=started.flow)


def make_backend(
    emulator: MicrosoftEmulator,
    credentials: MicrosoftCredentials,
    *,
    sleep: RecordingSleep | None = None,
    **options: Any,
) -> MicrosoftGraphBackend:
    opts = GraphOptions(
        email=USER,
        api_endpoint=emulator.graph_endpoint,
        ca_bundle=emulator.ca_path,
        **options,
    )
    backoff = Backoff(attempts=4, sleep=sleep or RecordingSleep(), random=lambda: 0.0)
    return MicrosoftGraphBackend(credentials, opts, backoff=backoff)


def _zone_name(moment: datetime) -> str:
    return moment.tzinfo.key if isinstance(moment.tzinfo, ZoneInfo) else "UTC"


def _local(moment: datetime) -> dict[str, str]:
    naive = (
        moment.replace(tzinfo=None)
        if isinstance(moment.tzinfo, ZoneInfo)
        else (moment.astimezone(UTC).replace(tzinfo=None))
    )
    return {"dateTime": naive.isoformat(timespec="seconds"), "timeZone": _zone_name(moment)}


def _recurrence(seed: SeedEvent) -> dict[str, Any]:
    rule = dict(part.split("=", 1) for part in (seed.rrule or "").split(";"))
    kinds = {"DAILY": "daily", "WEEKLY": "weekly"}
    pattern: dict[str, Any] = {
        "type": kinds[rule["FREQ"]],
        "interval": int(rule.get("INTERVAL", 1)),
    }
    start_day = seed.start.date().isoformat()
    if "COUNT" in rule:
        span = {"type": "numbered", "numberOfOccurrences": int(rule["COUNT"])}
    else:
        span = {"type": "noEnd"}
    span.update({"startDate": start_day, "recurrenceTimeZone": _zone_name(seed.start)})
    return {"pattern": pattern, "range": span}


def seed_to_graph(seed: SeedEvent) -> dict[str, Any]:
    """A SeedEvent as Graph stores it after a create in the user's own calendar."""
    body: dict[str, Any] = {
        "subject": seed.summary,
        "start": _local(seed.start),
        "end": _local(seed.end),
        "showAs": "free" if seed.transparent else "busy",
        "isCancelled": seed.cancelled,
    }
    if seed.rrule:
        body["recurrence"] = _recurrence(seed)
    return body


def seed(emulator: MicrosoftEmulator, events: list[SeedEvent], address: str = USER) -> None:
    for event in events:
        event_id = emulator.add_event(address, seed_to_graph(event))
        for ex in event.exdates:
            local = ex.astimezone(event.start.tzinfo) if event.start.tzinfo else ex
            emulator.delete_occurrence(address, event_id, local.date())
