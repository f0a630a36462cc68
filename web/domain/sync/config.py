"""How calendars are read: :class:`SyncConfig`, built once from the settings by the app
factory, the worker and the CLI, and passed on explicitly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from integrations.budget import ReadBudget, Reader
from integrations.calendars.feed import FeedSnapshots
from integrations.errors import CalendarError, ReconnectRequired
from integrations.urlguard import parse_allowed_hosts
from scheduler.model import Interval
from web.store.models import CalendarSource

PAST = timedelta(days=1)
AHEAD = timedelta(days=90)
STALE_AFTER = timedelta(minutes=60)
C = TypeVar("C")


@dataclass(frozen=True)
class SyncConfig:
    """How calendars are read; built from the app settings by :meth:`from_settings`."""

    past: timedelta = PAST
    ahead: timedelta = AHEAD
    stale_after: timedelta = STALE_AFTER
    margin: timedelta = timedelta(days=7)
    parallel: int = 4  # provider reads at once
    feed_max_bytes: int = 10 * 1024 * 1024
    timeout: float = 20.0
    google: Any = None  # integrations.google_auth.GoogleClientConfig, None = not configured
    google_mode: str = "freebusy"
    google_api_endpoint: str | None = None
    google_backoff: Any = None  # integrations.backoff.Backoff; None = its defaults
    microsoft: Any = None  # integrations.msgraph_auth.MicrosoftClientConfig; None = not set up
    microsoft_mode: str = "freebusy"
    microsoft_api_endpoint: str | None = None
    microsoft_write_back: bool = True
    microsoft_backoff: Any = None  # integrations.backoff.Backoff; None = its defaults
    # where PANELSLOT_TOKEN_KEY is read from (None: the process environment)
    token_environ: Mapping[str, str] | None = None
    # last good feed copies kept between syncs by the owner of this config (None: none)
    snapshots: FeedSnapshots | None = field(default=None, compare=False, repr=False)
    # the budget every calendar parse runs under (None: in-process, unbounded; tests)
    reader: Reader | None = field(default=None, compare=False, repr=False)
    read_seconds: float = 60.0  # a whole read (fetch and parse) at most
    block_private: bool = False  # refuse private/loopback addresses on every fetch and hop
    allowed_hosts: frozenset[str] = frozenset()  # host:port fetched although private

    @classmethod
    def from_settings(
        cls,
        settings: Any,
        *,
        redirect_uri: str = "",
        microsoft_redirect_uri: str = "",
        environ: Mapping[str, str] | None = None,
        snapshots: FeedSnapshots | None = None,
        web: bool = False,
    ) -> SyncConfig:
        """``web``: for pages, whose reads wait at most ``sync.web_read_seconds``."""
        from web.domain.sync.msgraph import microsoft_config

        sync = settings.sync
        seconds = float(sync.web_read_seconds if web else sync.read_seconds)
        budget = ReadBudget(seconds=seconds, memory_mb=int(sync.read_memory_mb))
        return cls(
            reader=Reader(budget),
            read_seconds=seconds,
            block_private=not sync.allow_private_feeds,
            allowed_hosts=parse_allowed_hosts(sync.allowed_feed_hosts),
            ahead=timedelta(days=int(settings.sync.days_ahead)),
            stale_after=timedelta(minutes=float(settings.sync.stale_after_minutes)),
            feed_max_bytes=int(float(settings.sync.feed_max_mb) * 1024 * 1024),
            timeout=min(float(settings.sync.timeout_seconds), seconds),
            parallel=max(1, int(settings.sync.parallel)),
            google=_google_config(settings, redirect_uri),
            google_mode=settings.google.mode,
            google_api_endpoint=settings.google.api_endpoint or None,
            microsoft=microsoft_config(settings, microsoft_redirect_uri),
            microsoft_mode=settings.microsoft.mode,
            microsoft_api_endpoint=settings.microsoft.api_endpoint or None,
            microsoft_write_back=bool(settings.microsoft.write_back),
            token_environ=_token_environ(settings, environ),
            snapshots=snapshots,
        )

    def window(self, now: datetime) -> Interval:
        """What a sync reads: the needed span plus ``margin`` (so that an unchanged feed
        can be answered from stored blocks for that long, even by a fresh process)."""
        return Interval(now - self.past, now + self.ahead + self.margin)


def _google_config(settings: Any, redirect_uri: str) -> Any:
    """The Google OAuth client of the settings, or None when Google is not set up."""
    if not (settings.google.client_id and settings.google.client_secret):
        return None
    from integrations.google_auth import GoogleClientConfig

    return GoogleClientConfig(
        client_id=settings.google.client_id,
        client_secret=settings.google.client_secret,
        redirect_uri=redirect_uri or "http://localhost/oauth/google/callback",
        auth_uri=settings.google.auth_uri,
        token_uri=settings.google.token_uri,
    )


def _token_environ(settings: Any, environ: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """Where the token key is read: None (the process environment, read at each use, as
    it may be rotated) unless the key comes from a settings file."""
    env = os.environ if environ is None else environ
    key = settings.security.token_key
    origin = getattr(settings, "origins", {}).get("security.token_key", "")
    live = not key or origin.startswith("environment")
    return None if live else {**env, "PANELSLOT_TOKEN_KEY": key}


def signed_in(
    src: CalendarSource, client: C | None, label: str, product: str, prefix: str
) -> tuple[C, str]:
    """The server's app registration for ``product`` and the source's stored sign-in.

    CalendarError when the server is not set up for it (``PANELSLOT_<prefix>_CLIENT_ID``
    and ``_CLIENT_SECRET``), ReconnectRequired when the source was never connected."""
    if client is None:
        raise CalendarError(
            label,
            f"{product} is not configured on this server: the administrator must set "
            f"PANELSLOT_{prefix}_CLIENT_ID and PANELSLOT_{prefix}_CLIENT_SECRET",
        )
    if not src.credentials:
        raise ReconnectRequired(label, f"not connected yet; connect {product} from your page")
    return client, src.credentials
