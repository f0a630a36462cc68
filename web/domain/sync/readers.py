"""Readers: one calendar source (ICS feed, CalDAV, Google, Microsoft 365) made ready for
one sync. A reader is built in the session's thread (it reads credentials and state),
``read`` may run in any thread, and ``save`` writes provider state back to the row."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Protocol

from integrations.calendars.base import BusyRead, BusyReader, CalendarBackend
from integrations.calendars.feed import FeedSnapshot, ICSFeedBackend
from integrations.errors import CalendarError
from scheduler.model import Interval
from web.domain.sync.config import SyncConfig, signed_in
from web.domain.sync.msgraph import msgraph_reader
from web.store.models import CalendarSource, Interviewer


class Reader(BusyReader, Protocol):
    """A calendar made ready for one source; ``save`` writes provider state back."""

    def save(self, src: CalendarSource) -> None: ...


def secret_json(src: CalendarSource, cfg: SyncConfig) -> dict[str, Any]:
    """The source's decrypted credentials (CalendarError when missing or unreadable)."""
    from integrations.crypto import decrypt_secret

    if not src.credentials:
        raise CalendarError(src.label or src.kind, "no credentials stored; add the account again")
    try:
        data = json.loads(decrypt_secret(src.credentials, environ=cfg.token_environ))
    except ValueError:
        raise CalendarError(
            src.label or src.kind, "the stored credentials are unreadable; add the account again"
        ) from None
    if not isinstance(data, dict):
        raise CalendarError(src.label or src.kind, "the stored credentials are unreadable")
    return data


def encrypt_json(data: Mapping[str, Any], cfg: SyncConfig) -> str:
    from integrations.crypto import encrypt_secret

    return encrypt_secret(json.dumps(dict(data)), environ=cfg.token_environ)


# ---------------------------------------------------------------- ICS feeds


@dataclass
class FeedReader:
    """An ICS feed. An unchanged feed (304 / same bytes) whose stored blocks already cover
    the window is not parsed at all (``use_stored``): its stored blocks stay as they are.

    Everything it needs from the database is copied at construction, so ``read`` may
    run in a worker thread."""

    backend: ICSFeedBackend
    margin: timedelta  # how far past the needed window stored blocks are computed
    etag: str | None = None  # of the copy the stored blocks were computed from
    last_modified: str | None = None
    coverage: Interval | None = None  # the span the stored blocks were computed for
    events_read: int = 0
    covered: Interval | None = None  # set when blocks were computed by a real read
    use_stored: bool = False

    @staticmethod
    def coverage_of(src: CalendarSource, timezone: str, email: str | None) -> Interval | None:
        try:
            data = json.loads(src.sync_state or "{}")
            if data.get("tz") != timezone or data.get("email") != email:
                return None
            a, b = (datetime.fromisoformat(x) for x in data["covered"])
            return Interval(a, b)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def read(self, window: Interval) -> BusyRead:
        snapshot, unchanged = self.backend.refresh()
        self.use_stored = unchanged and self._stored_covers(snapshot, window)
        if self.use_stored:
            return BusyRead(busy=(), events_read=self.events_read, unchanged=True)
        self.covered = window
        return self.backend.read_copy(snapshot, window, unchanged=unchanged)

    def _stored_covers(self, snapshot: FeedSnapshot, window: Interval) -> bool:
        """Whether the stored blocks were computed from this very copy, for this window."""
        same_as_stored = bool(snapshot.etag or snapshot.last_modified) and (
            snapshot.etag == self.etag and snapshot.last_modified == self.last_modified
        )
        covered = self.coverage
        return (
            same_as_stored
            and covered is not None
            and covered.start <= window.start
            and window.end - self.margin <= covered.end
        )

    def save(self, src: CalendarSource) -> None:
        good = self.backend.last_good
        if self.covered is not None:
            src.sync_state = json.dumps(
                {
                    "covered": [self.covered.start.isoformat(), self.covered.end.isoformat()],
                    "tz": self.backend.timezone,
                    "email": self.backend.email,
                }
            )
        if good is None or not self.backend.is_url:
            return
        if good.etag or good.last_modified:
            if src.etag != good.etag or src.last_modified != good.last_modified:
                src.snapshot = gzip.compress(good.data, compresslevel=5)
                src.etag = good.etag
                src.last_modified = good.last_modified
        elif src.etag or src.last_modified:  # the server stopped sending validators
            src.snapshot = src.etag = src.last_modified = None


def _stored_copy(src: CalendarSource) -> FeedSnapshot | None:
    """The gzip copy of the last good body stored with the source (None: none, damaged)."""
    if not src.snapshot:
        return None
    try:  # parsed only if it is needed (a changed window), not on every 304
        data = gzip.decompress(src.snapshot)
    except (OSError, EOFError):
        return None  # a damaged copy: download afresh
    return FeedSnapshot(data, etag=src.etag, last_modified=src.last_modified)


def ics_reader(src: CalendarSource, who: Interviewer, cfg: SyncConfig) -> FeedReader:
    location = src.url
    if location.lower().startswith("file://"):
        location = location[len("file://") :]
    backend = ICSFeedBackend(
        location,
        timezone=who.timezone,
        email=who.email,
        name=src.label or None,
        max_bytes=cfg.feed_max_bytes,
        timeout=min(cfg.timeout, 10.0),
        total_timeout=cfg.read_seconds,
        snapshots=cfg.snapshots,
        block_private_networks=cfg.block_private,
        allowed_hosts=cfg.allowed_hosts,
        reader=cfg.reader,
    )
    if backend.is_url and (src.etag or src.last_modified):
        backend.keep_copy(lambda: _stored_copy(src))
    return FeedReader(
        backend,
        cfg.margin,
        etag=src.etag,
        last_modified=src.last_modified,
        coverage=FeedReader.coverage_of(src, who.timezone, who.email),
        events_read=src.events_read or 0,
    )


# ---------------------------------------------------------------- CalDAV


@dataclass
class PlainReader:
    """A backend with no state to store back (CalDAV)."""

    backend: CalendarBackend
    use_stored: bool = False  # always read afresh

    def read(self, window: Interval) -> BusyRead:
        return self.backend.read_busy(window)

    def save(self, src: CalendarSource) -> None:
        return None


def caldav_backend(src: CalendarSource, who: Interviewer, cfg: SyncConfig) -> CalendarBackend:
    """The CalDAV backend of ``src`` (CalendarError when its credentials are unusable)."""
    from integrations.calendars.caldav_backend import CalDAVBackend

    secret = secret_json(src, cfg)
    return CalDAVBackend(
        src.url,
        str(secret.get("username", "")),
        str(secret.get("password", "")),
        calendar_urls=src.selected_calendars or None,
        timezone=who.timezone,
        email=who.email,
        timeout_seconds=cfg.timeout,
        label=src.label or None,
        reader=cfg.reader,
    )


def caldav_reader(src: CalendarSource, who: Interviewer, cfg: SyncConfig) -> PlainReader:
    return PlainReader(caldav_backend(src, who, cfg))


# ---------------------------------------------------------------- Google


@dataclass
class GoogleReader:
    backend: Any  # GoogleCalendarBackend
    token_before: str | None
    cfg: SyncConfig
    use_stored: bool = False  # always read afresh (sync mode keeps its own state)

    def read(self, window: Interval) -> BusyRead:
        return self.backend.read_busy(window)  # type: ignore[no-any-return]

    def save(self, src: CalendarSource) -> None:
        from integrations.calendars.google_backend import sync_state_to_json
        from integrations.google_auth import encrypt_credentials

        creds = self.backend.credentials
        if creds.token and creds.token != self.token_before:
            src.credentials = encrypt_credentials(creds, environ=self.cfg.token_environ)
            self.token_before = creds.token
        if self.backend.options.mode == "sync" and self.backend.sync_state:
            from integrations.crypto import encrypt_secret

            src.sync_state = encrypt_secret(
                sync_state_to_json(self.backend.sync_state), environ=self.cfg.token_environ
            )


def google_backend(src: CalendarSource, who: Interviewer, cfg: SyncConfig) -> Any:
    """The Google backend of ``src`` (raises CalendarError when it cannot be built)."""
    from integrations.calendars.google_backend import (
        GoogleCalendarBackend,
        GoogleOptions,
        sync_state_from_json,
    )
    from integrations.google_auth import decrypt_credentials

    label = src.label or "Google Calendar"
    client, stored = signed_in(src, cfg.google, label, "Google Calendar", "GOOGLE")
    creds = decrypt_credentials(stored, client, environ=cfg.token_environ)
    mode = src.mode or cfg.google_mode
    state = {}
    if mode == "sync" and src.sync_state:
        from integrations.crypto import decrypt_secret

        state = sync_state_from_json(decrypt_secret(src.sync_state, environ=cfg.token_environ))
    options = GoogleOptions(
        calendar_ids=tuple(src.selected_calendars or ("primary",)),
        mode="sync" if mode == "sync" else "freebusy",
        api_endpoint=cfg.google_api_endpoint,
        timezone=who.timezone,
        email=who.email,
        label=label,
        timeout_seconds=cfg.timeout,
    )
    return GoogleCalendarBackend(creds, options, sync_state=state, backoff=cfg.google_backoff)


def google_reader(src: CalendarSource, who: Interviewer, cfg: SyncConfig) -> GoogleReader:
    backend = google_backend(src, who, cfg)
    return GoogleReader(backend, backend.credentials.token, cfg)


# ---------------------------------------------------------------- by kind


ReaderFactory = Callable[[CalendarSource, Interviewer, SyncConfig], Reader]
READERS: Mapping[str, ReaderFactory] = MappingProxyType(
    {
        "ics": ics_reader,
        "caldav": caldav_reader,
        "google": google_reader,
        "msgraph": msgraph_reader,
    }
)


def reader_for(src: CalendarSource, who: Interviewer, cfg: SyncConfig) -> Reader:
    """The reader of ``src`` (CalendarError for a kind this build cannot read)."""
    factory = READERS.get(src.kind)
    if factory is None:
        raise CalendarError(
            src.label or src.kind, f"{src.kind} calendars are not supported by this build"
        )
    return factory(src, who, cfg)
