"""Keep interviewers' calendars in the database: sync, staleness, live re-check.

* :func:`sync_all` / :func:`sync_interviewer` read every ``CalendarSource``
  (ICS file or URL, CalDAV, Google, Microsoft 365) and store its busy time as ``BusyBlock``
  rows per interviewer and source. Network reads happen outside write
  transactions; with ``commit=True`` each source is committed on its own.
* A source that fails keeps its last good blocks; ``last_error`` says why and
  ``needs_reconnect`` is set when the provider revoked access.
* ICS feeds keep their ETag / Last-Modified and a gzip copy of the last good
  body, so an unchanged feed costs one ``304`` (also in a fresh process), and
  blocks are rewritten only where they changed.
* Google credentials (refreshed by google-auth) and sync state are stored
  back encrypted after every read.
* :func:`calendar_health`, :func:`stale_by_key` and :func:`option_staleness`
  say which calendars are stale and why; :func:`live_busy` re-reads providers
  before a booking is confirmed, falling back to stored blocks.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from integrations.calendars.base import BusyRead
from integrations.errors import CalendarError, IntegrationError, ReconnectRequired
from scheduler.intervals import merge
from scheduler.model import Interval, Option
from web.store.models import BusyBlock, CalendarSource, Interviewer

log = logging.getLogger(__name__)

PAST = timedelta(days=1)
AHEAD = timedelta(days=90)
STALE_AFTER = timedelta(minutes=60)


# ---------------------------------------------------------------- configuration


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

    @classmethod
    def from_settings(
        cls,
        settings: Any,
        *,
        redirect_uri: str = "",
        microsoft_redirect_uri: str = "",
        environ: Mapping[str, str] | None = None,
    ) -> SyncConfig:
        from web.domain.calsync_msgraph import microsoft_config

        env = os.environ if environ is None else environ
        google = None
        if settings.google.client_id and settings.google.client_secret:
            from integrations.google_auth import GoogleClientConfig

            google = GoogleClientConfig(
                client_id=settings.google.client_id,
                client_secret=settings.google.client_secret,
                redirect_uri=redirect_uri or "http://localhost/oauth/google/callback",
                auth_uri=settings.google.auth_uri,
                token_uri=settings.google.token_uri,
            )
        key = settings.security.token_key
        origin = getattr(settings, "origins", {}).get("security.token_key", "")
        # a key from the environment is read from it at each use (it may be rotated)
        live = not key or origin.startswith("environment")
        token_env = None if live else {**env, "PANELSLOT_TOKEN_KEY": key}
        return cls(
            ahead=timedelta(days=int(settings.sync.days_ahead)),
            stale_after=timedelta(minutes=float(settings.sync.stale_after_minutes)),
            feed_max_bytes=int(float(settings.sync.feed_max_mb) * 1024 * 1024),
            timeout=float(settings.sync.timeout_seconds),
            parallel=max(1, int(settings.sync.parallel)),
            google=google,
            google_mode=settings.google.mode,
            google_api_endpoint=settings.google.api_endpoint or None,
            microsoft=microsoft_config(settings, microsoft_redirect_uri),
            microsoft_mode=settings.microsoft.mode,
            microsoft_api_endpoint=settings.microsoft.api_endpoint or None,
            microsoft_write_back=bool(settings.microsoft.write_back),
            token_environ=token_env,
        )

    def window(self, now: datetime) -> Interval:
        """What a sync reads: the needed span plus ``margin`` (so that an unchanged feed
        can be answered from stored blocks for that long, even by a fresh process)."""
        return Interval(now - self.past, now + self.ahead + self.margin)


_CONFIGURED: list[SyncConfig] = []


def configure(cfg: SyncConfig) -> None:
    """Set the process's default config (the worker does, from its settings)."""
    _CONFIGURED[:] = [cfg]


def reset_config() -> None:
    """Forget the configured default (tests)."""
    _CONFIGURED.clear()


def default_config() -> SyncConfig:
    """The worker's configured default, else defaults (the web passes its config explicitly)."""
    return _CONFIGURED[0] if _CONFIGURED else SyncConfig()


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class SourceResult:
    """What one sync of one calendar did (the CLI prints these)."""

    source_id: int
    label: str
    ok: bool
    busy: int
    events_read: int
    error: str | None
    kind: str = ""
    interviewer_id: int = 0
    interviewer_key: str = ""
    seconds: float = 0.0
    unchanged: bool = False
    reconnect: bool = False
    kept_blocks: int = 0  # last good blocks kept when the read failed
    warnings: tuple[str, ...] = ()  # what the reader guessed or repaired (unknown TZIDs ...)

    def as_json(self) -> dict[str, Any]:
        return {
            "interviewer": self.interviewer_key,
            "calendar_id": self.source_id,
            "calendar": self.label,
            "kind": self.kind,
            "ok": self.ok,
            "events_read": self.events_read,
            "busy_intervals": self.busy,
            "unchanged": self.unchanged,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "reconnect": self.reconnect,
            "kept_blocks": self.kept_blocks,
            "warnings": list(self.warnings),
        }


# ---------------------------------------------------------------- readers


class Reader(Protocol):
    """A calendar made ready for one source; ``save`` writes provider state back."""

    def read(self, window: Interval) -> BusyRead: ...

    def save(self, src: CalendarSource) -> None: ...


def _secret_json(src: CalendarSource, cfg: SyncConfig) -> dict[str, Any]:
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


@dataclass
class _FeedReader:
    """An ICS feed. An unchanged feed (304 / same bytes) whose stored blocks already cover
    the window is not parsed at all (``use_stored``): its stored blocks stay as they are.

    Everything it needs from the database is copied at construction, so ``read`` may
    run in a worker thread."""

    backend: Any  # ICSFeedBackend
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
        from integrations.calendars.feed import SHARED_SNAPSHOTS

        backend = self.backend
        try:
            snapshot, unchanged = backend.fetch()
        except CalendarError as exc:
            backend.last_error = exc
            raise
        backend.last_error = None
        if backend.shared_cache:
            SHARED_SNAPSHOTS.put(backend.location, snapshot)
        same_as_stored = bool(snapshot.etag or snapshot.last_modified) and (
            snapshot.etag == self.etag and snapshot.last_modified == self.last_modified
        )
        covered = self.coverage
        if (
            unchanged
            and same_as_stored  # the stored blocks were computed from this very copy
            and covered is not None
            and covered.start <= window.start
            and window.end - self.margin <= covered.end
        ):
            self.use_stored = True
            return BusyRead(busy=(), events_read=self.events_read, unchanged=True)
        read: BusyRead | None = backend.read_last_good(window)
        assert read is not None  # fetch() succeeded, so there is a last good copy
        self.covered = window
        return replace(read, unchanged=unchanged)

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


def _ics_reader(src: CalendarSource, who: Interviewer, cfg: SyncConfig) -> _FeedReader:
    from integrations.calendars.feed import SHARED_SNAPSHOTS, FeedSnapshot, ICSFeedBackend

    location = src.url
    if location.lower().startswith("file://"):
        location = location[len("file://") :]
    last_good = None
    is_url = location.lower().startswith(("http://", "https://", "webcal://"))
    validators = src.etag or src.last_modified
    if is_url and validators and SHARED_SNAPSHOTS.get(location) is None and src.snapshot:
        try:  # parsed only if it is needed (a changed window), not on every 304
            last_good = FeedSnapshot(
                gzip.decompress(src.snapshot), etag=src.etag, last_modified=src.last_modified
            )
        except (OSError, EOFError):
            last_good = None  # a damaged copy: download afresh
    backend = ICSFeedBackend(
        location,
        timezone=who.timezone,
        email=who.email,
        name=src.label or None,
        max_bytes=cfg.feed_max_bytes,
        timeout=min(cfg.timeout, 10.0),
        total_timeout=max(cfg.timeout * 3, 30.0),
        last_good=last_good,
    )
    return _FeedReader(
        backend,
        cfg.margin,
        etag=src.etag,
        last_modified=src.last_modified,
        coverage=_FeedReader.coverage_of(src, who.timezone, who.email),
        events_read=src.events_read or 0,
    )


@dataclass
class _PlainReader:
    backend: Any

    def read(self, window: Interval) -> BusyRead:
        return self.backend.read_busy(window)  # type: ignore[no-any-return]

    def save(self, src: CalendarSource) -> None:
        return None


def _caldav_reader(src: CalendarSource, who: Interviewer, cfg: SyncConfig) -> _PlainReader:
    from integrations.calendars.caldav_backend import CalDAVBackend

    secret = _secret_json(src, cfg)
    backend = CalDAVBackend(
        src.url,
        str(secret.get("username", "")),
        str(secret.get("password", "")),
        calendar_urls=src.selected_calendars or None,
        timezone=who.timezone,
        email=who.email,
        timeout_seconds=cfg.timeout,
        label=src.label or None,
    )
    return _PlainReader(backend)


@dataclass
class _GoogleReader:
    backend: Any  # GoogleCalendarBackend
    token_before: str | None
    cfg: SyncConfig

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
    if cfg.google is None:
        raise CalendarError(
            label,
            "Google Calendar is not configured on this server: the administrator must set "
            "PANELSLOT_GOOGLE_CLIENT_ID and PANELSLOT_GOOGLE_CLIENT_SECRET",
        )
    if not src.credentials:
        raise ReconnectRequired(label, "not connected yet; connect Google Calendar from your page")
    creds = decrypt_credentials(src.credentials, cfg.google, environ=cfg.token_environ)
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


def _google_reader(src: CalendarSource, who: Interviewer, cfg: SyncConfig) -> _GoogleReader:
    backend = google_backend(src, who, cfg)
    return _GoogleReader(backend, backend.credentials.token, cfg)


def _msgraph_reader(src: CalendarSource, who: Interviewer, cfg: SyncConfig) -> Reader:
    from web.domain.calsync_msgraph import msgraph_reader

    return msgraph_reader(src, who, cfg)


ReaderFactory = Callable[[CalendarSource, Interviewer, SyncConfig], Reader]
BACKENDS: dict[str, ReaderFactory] = {
    "ics": _ics_reader,
    "caldav": _caldav_reader,
    "google": _google_reader,
    "msgraph": _msgraph_reader,
}


# ---------------------------------------------------------------- syncing


def _store_blocks(s: Session, who_id: int, src_id: int, busy: Iterable[Interval]) -> None:
    """Make the source's stored blocks equal ``busy``, touching only the rows that differ."""
    wanted = {(iv.start, iv.end) for iv in busy}
    rows = s.execute(
        select(BusyBlock.id, BusyBlock.start, BusyBlock.end).where(BusyBlock.source_id == src_id)
    ).all()
    have = {(start, end): bid for bid, start, end in rows}
    gone = [bid for span, bid in have.items() if span not in wanted]
    if gone:
        s.execute(delete(BusyBlock).where(BusyBlock.id.in_(gone)))
    s.add_all(
        BusyBlock(interviewer_id=who_id, source_id=src_id, start=a, end=b)
        for a, b in sorted(wanted - set(have))
    )


def _one_line(text: str, limit: int = 600) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass
class _Job:
    """One calendar's sync: prepared and finished with the session, read in any thread."""

    src: CalendarSource
    who: Interviewer
    reader: Reader | None = None
    read_result: BusyRead | None = None
    error: str | None = None
    reconnect: bool = False
    seconds: float = 0.0


def _failure(job: _Job, exc: BaseException) -> None:
    src = job.src
    if isinstance(exc, ReconnectRequired):
        job.error, job.reconnect = _one_line(str(exc)), True
    elif isinstance(exc, IntegrationError):  # CalendarError, TokenKeyError, GoogleAuthError
        job.error = _one_line(str(exc))
    else:
        log.error("calendar %s: unexpected failure", job.src.id, exc_info=exc)
        job.error = (
            f"{src.label or src.kind}: unexpected failure ({type(exc).__name__}); see the log"
        )


def _prepare(src: CalendarSource, who: Interviewer, cfg: SyncConfig) -> _Job:
    """Build the calendar's reader (reads credentials and state: session thread only)."""
    job = _Job(src, who)
    started = time.perf_counter()
    try:
        factory = BACKENDS.get(src.kind)
        if factory is None:
            raise CalendarError(
                src.label or src.kind, f"{src.kind} calendars are not supported by this build"
            )
        job.reader = factory(src, who, cfg)
    except Exception as exc:  # noqa: BLE001 - one calendar must never stop the others
        _failure(job, exc)
    job.seconds = time.perf_counter() - started
    return job


def _read(job: _Job, window: Interval) -> _Job:
    """Talk to the provider (no database access: safe in a worker thread)."""
    if job.reader is None:
        return job
    started = time.perf_counter()
    try:
        job.read_result = job.reader.read(window)
    except Exception as exc:  # noqa: BLE001 - one calendar must never stop the others
        _failure(job, exc)
    job.seconds += time.perf_counter() - started
    return job


def _warnings(read: BusyRead) -> tuple[str, ...]:
    notes = list(getattr(read, "warnings", ()))
    for tzid in getattr(read, "unknown_tzids", ()):
        text = f"unknown time zone {tzid!r}: its times were read in the interviewer's zone"
        if not any(tzid in n for n in notes):
            notes.append(text)
    return tuple(_one_line(n, 300) for n in notes)


def _finish(s: Session, job: _Job, now: datetime) -> SourceResult:
    """Store what the read found (or keep the last good blocks and record the error)."""
    src, who = job.src, job.who
    base: dict[str, Any] = {
        "source_id": src.id,
        "label": src.label or src.kind,
        "kind": src.kind,
        "interviewer_id": who.id,
        "interviewer_key": who.key,
    }
    started = time.perf_counter()
    if job.reader is not None:
        try:
            job.reader.save(src)
        except IntegrationError as exc:
            log.warning("calendar %s: state not saved: %s", src.id, exc)
    src.last_attempt_at = now
    src.last_duration_ms = int(job.seconds * 1000)
    # Writing the source row first takes its row lock (PostgreSQL) or the write lock
    # (SQLite) before the stored blocks are compared: two syncs of one calendar (the
    # periodic one and "sync now", or the worker and `panelslot sync`) take turns.
    s.flush()
    if s.get_bind().dialect.name == "postgresql":
        s.execute(select(CalendarSource.id).where(CalendarSource.id == src.id).with_for_update())
    read = job.read_result
    if read is None:
        src.last_error = job.error
        if job.reconnect:
            src.needs_reconnect = True
        kept = len(s.scalars(select(BusyBlock.id).where(BusyBlock.source_id == src.id)).all())
        return SourceResult(
            **base,
            ok=False,
            busy=0,
            events_read=0,
            error=job.error,
            seconds=job.seconds + time.perf_counter() - started,
            reconnect=job.reconnect,
            kept_blocks=kept,
        )
    if getattr(job.reader, "use_stored", False):  # unchanged and already stored
        count = src.busy_count or 0
    else:
        busy = merge(read.busy)
        _store_blocks(s, who.id, src.id, busy)
        count = len(busy)
    src.last_good_sync_at = now
    src.last_error = None
    src.needs_reconnect = False
    src.events_read = read.events_read
    src.busy_count = count
    return SourceResult(
        **base,
        ok=True,
        busy=count,
        events_read=read.events_read,
        error=None,
        seconds=job.seconds + time.perf_counter() - started,
        unchanged=read.unchanged,
        warnings=_warnings(read),
    )


def sync_source(
    s: Session,
    who: Interviewer,
    src: CalendarSource,
    now: datetime,
    cfg: SyncConfig | None = None,
) -> SourceResult:
    """Read one calendar and store its busy time; never raises for a calendar's fault."""
    cfg = cfg or default_config()
    return _finish(s, _read(_prepare(src, who, cfg), cfg.window(now)), now)


Progress = Callable[[SourceResult], None]


def sync_sources(
    s: Session,
    pairs: Sequence[tuple[Interviewer, CalendarSource]],
    now: datetime,
    cfg: SyncConfig | None = None,
    *,
    commit: bool = False,
    progress: Progress | None = None,
) -> list[SourceResult]:
    """Sync many calendars: up to ``cfg.parallel`` provider reads at once, while the
    results are stored one by one, in order, by this thread (the session's)."""
    cfg = cfg or default_config()
    window = cfg.window(now)
    results: list[SourceResult] = []

    def done(job: _Job) -> None:
        result = _finish(s, job, now)
        if commit:
            s.commit()
        else:
            s.flush()
        results.append(result)
        if progress is not None:
            progress(result)

    if cfg.parallel <= 1 or len(pairs) <= 1:
        for who, src in pairs:
            done(_read(_prepare(src, who, cfg), window))
        return results
    with ThreadPoolExecutor(max_workers=cfg.parallel, thread_name_prefix="calsync") as pool:
        futures = [pool.submit(_read, _prepare(src, who, cfg), window) for who, src in pairs]
        for future in futures:
            done(future.result())
    return results


def sync_interviewer(
    s: Session,
    who: Interviewer,
    now: datetime,
    cfg: SyncConfig | None = None,
    *,
    commit: bool = False,
    progress: Progress | None = None,
) -> list[SourceResult]:
    """Read every calendar of ``who``; a failing one keeps its last good blocks."""
    pairs = [(who, src) for src in who.calendars]
    return sync_sources(s, pairs, now, cfg, commit=commit, progress=progress)


def plan(s: Session, interviewer_ids: Sequence[int] | None = None) -> list[Interviewer]:
    """Active interviewers (or the ones named) with their calendars loaded."""
    q = select(Interviewer).options(selectinload(Interviewer.calendars)).order_by(Interviewer.key)
    if interviewer_ids is None:
        q = q.where(Interviewer.active.is_(True))
    else:
        q = q.where(Interviewer.id.in_(list(interviewer_ids)))
    return list(s.scalars(q))


def sync_all(
    s: Session,
    now: datetime,
    cfg: SyncConfig | None = None,
    *,
    interviewer_ids: Sequence[int] | None = None,
    commit: bool = False,
    progress: Progress | None = None,
) -> list[SourceResult]:
    pairs = [(who, src) for who in plan(s, interviewer_ids) for src in who.calendars]
    return sync_sources(s, pairs, now, cfg, commit=commit, progress=progress)


# ---------------------------------------------------------------- staleness


@dataclass(frozen=True)
class CalendarHealth:
    """Whether the engine may trust a calendar's stored busy time, and why not."""

    source_id: int
    interviewer_id: int
    label: str
    kind: str
    stale: bool
    reconnect: bool
    last_good_sync_at: datetime | None
    reason: str  # "" when fresh and error-free

    @property
    def css(self) -> str:
        if self.reconnect or (self.stale and self.last_good_sync_at is not None):
            return "bad"
        if self.stale or self.reason:
            return "warn"
        return "ok"


def ago(delta: timedelta) -> str:
    mins = int(delta.total_seconds() // 60)
    if mins < 1:
        return "just now"
    if mins < 60:
        return f"{mins} min ago"
    if mins < 48 * 60:
        return f"{mins // 60} h ago"
    return f"{mins // 1440} days ago"


def calendar_health(
    src: CalendarSource, now: datetime, stale_after: timedelta = STALE_AFTER
) -> CalendarHealth:
    good = src.last_good_sync_at
    stale = good is None or now - good > stale_after
    parts = []
    if good is None:
        parts.append("never synced")
    elif stale:
        parts.append(f"last good sync {ago(now - good)}")
    if src.needs_reconnect:
        parts.append("access was revoked: the interviewer must reconnect")
    if src.last_error:
        parts.append(f"error: {src.last_error}")
    return CalendarHealth(
        source_id=src.id,
        interviewer_id=src.interviewer_id,
        label=src.label or src.kind,
        kind=src.kind,
        stale=stale,
        reconnect=bool(src.needs_reconnect),
        last_good_sync_at=good,
        reason="; ".join(parts),
    )


def status_text(src: CalendarSource, now: datetime, stale_after: timedelta = STALE_AFTER) -> str:
    """One line for pages: "synced 3 min ago", "stale: ...", "reconnect needed: ..."."""
    h = calendar_health(src, now, stale_after)
    if h.reconnect:
        return f"reconnect needed: {h.reason}"
    if h.stale:
        return f"stale: {h.reason}"
    assert h.last_good_sync_at is not None
    text = f"synced {ago(now - h.last_good_sync_at)}"
    if src.last_error:
        text += f" (last attempt failed: {src.last_error})"
    return text


def stale_calendars(
    s: Session,
    interviewer_ids: Iterable[int],
    now: datetime,
    stale_after: timedelta = STALE_AFTER,
) -> dict[int, list[CalendarHealth]]:
    """Interviewer id -> their stale calendars (only interviewers with any)."""
    ids = list(interviewer_ids)
    out: dict[int, list[CalendarHealth]] = {}
    if not ids:
        return out
    for src in s.scalars(
        select(CalendarSource)
        .where(CalendarSource.interviewer_id.in_(ids))
        .order_by(CalendarSource.id)
    ):
        h = calendar_health(src, now, stale_after)
        if h.stale:
            out.setdefault(h.interviewer_id, []).append(h)
    return out


def stale_by_key(
    s: Session,
    keys: Iterable[str],
    now: datetime,
    stale_after: timedelta = STALE_AFTER,
) -> dict[str, list[CalendarHealth]]:
    """Like :func:`stale_calendars`, keyed by interviewer key (as engine options are)."""
    rows = s.execute(select(Interviewer.key, Interviewer.id).where(Interviewer.key.in_(list(keys))))
    id_by_key: dict[str, int] = {key: iid for key, iid in rows}
    by_id = stale_calendars(s, id_by_key.values(), now, stale_after)
    return {k: by_id[i] for k, i in id_by_key.items() if i in by_id}


def option_staleness(option: Option, stale: Mapping[str, Sequence[CalendarHealth]]) -> list[str]:
    """Warnings for an option whose interviewers have stale calendars (empty: trustworthy)."""
    seen: list[str] = []
    for slot in option.sessions:
        for key in slot.interviewers:
            if key in stale and key not in seen:
                seen.append(key)
    return [f"{key}: calendar {h.label} is stale ({h.reason})" for key in seen for h in stale[key]]


# ---------------------------------------------------------------- live re-check


@dataclass
class LiveCheck:
    """Busy time per interviewer id, and which calendars could not be read live."""

    busy: dict[int, list[Interval]] = field(default_factory=dict)
    fallbacks: dict[int, list[str]] = field(default_factory=dict)  # id -> "label: why"


def live_check(
    s: Session,
    interviewer_ids: Iterable[int],
    window: Interval,
    now: datetime,
    cfg: SyncConfig | None = None,
) -> LiveCheck:
    """Read the interviewers' calendars now, falling back to stored blocks per calendar.

    Nothing is written: the caller's transaction stays untouched.
    """
    cfg = cfg or default_config()
    result = LiveCheck()
    people = plan(s, list(interviewer_ids))
    jobs = [_prepare(src, who, cfg) for who in people for src in who.calendars]
    if len(jobs) > 1 and cfg.parallel > 1:
        with ThreadPoolExecutor(max_workers=cfg.parallel, thread_name_prefix="live") as pool:
            jobs = list(pool.map(lambda j: _read(j, window), jobs))
    else:
        jobs = [_read(j, window) for j in jobs]
    spans: dict[int, list[Interval]] = {who.id: [] for who in people}
    for job in jobs:
        read = job.read_result
        if read is not None and not getattr(job.reader, "use_stored", False):
            spans[job.who.id].extend(read.busy)
            continue
        if read is None:  # could not be read live: the stored blocks stand in
            result.fallbacks.setdefault(job.who.id, []).append(
                _one_line(job.error or "not readable live", 300)
            )
        rows = s.execute(
            select(BusyBlock.start, BusyBlock.end).where(
                BusyBlock.source_id == job.src.id,
                BusyBlock.start < window.end,
                BusyBlock.end > window.start,
            )
        )
        spans[job.who.id].extend(Interval(a, b) for a, b in rows)
    for who_id, found in spans.items():
        clipped = [
            Interval(max(iv.start, window.start), min(iv.end, window.end))
            for iv in found
            if iv.start < window.end and window.start < iv.end
        ]
        result.busy[who_id] = merge(clipped)
    return result


def live_busy(
    s: Session,
    interviewer_ids: Iterable[int],
    window: Interval,
    now: datetime,
    cfg: SyncConfig | None = None,
) -> dict[int, list[Interval]]:
    """Calendar busy time per interviewer id, read live where possible (for booking)."""
    return live_check(s, interviewer_ids, window, now, cfg).busy


# ---------------------------------------------------------------- summaries


def busy_summary(s: Session, who: Interviewer, now: datetime, days: int = 7) -> dict[int, int]:
    """Source id -> busy blocks stored for the next ``days`` days."""
    rows = s.execute(
        select(BusyBlock.source_id, BusyBlock.id).where(
            BusyBlock.interviewer_id == who.id,
            BusyBlock.end > now,
            BusyBlock.start < now + timedelta(days=days),
        )
    )
    out: dict[int, int] = {}
    for sid, _ in rows:
        out[sid] = out.get(sid, 0) + 1
    return out


def clear_source(s: Session, src: CalendarSource) -> None:
    """Forget a source's stored blocks (before it is deleted or replaced)."""
    s.execute(delete(BusyBlock).where(BusyBlock.source_id == src.id))
