"""A published ICS feed (http(s) URL, webcal:// or a file) as a read-only calendar.

* Conditional GET: the ETag / Last-Modified of the last good copy are sent
  back; ``304 Not Modified`` reuses the parsed copy (``BusyRead.unchanged``).
  A body (or file) equal to the last good copy is not parsed again either.
* Redirects are followed by hand (at most ``max_redirects``); a loop is an error.
* The body is streamed and refused past ``max_bytes`` (after gzip decoding,
  so a compressed bomb is refused too); ``timeout`` bounds connecting and
  each read, ``total_timeout`` the whole download.
* A copy that cannot be read raises ``CalendarError`` naming the feed (and the
  line) while ``last_good`` keeps the previous copy: ``read_last_good`` gives
  its busy time, so a sync can keep serving it and flag the error.
* Credentials in the URL (``https://user:secret@host/...``) and secret paths
  of private feed URLs are used but never shown: ``source`` and every message
  use ``redact_url``'s form.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from integrations.budget import Reader
from integrations.calendars.base import CalendarBackend, InterviewEvent
from integrations.errors import CalendarError, CalendarTimeout
from integrations.ics import Expansion, ICSRead, parse_calendar_with_warnings
from integrations.ics.incremental import GroupState, expand_changes_through
from integrations.urlguard import Resolver, guarded_session, peer_refusal, private_host_reason
from integrations.urls import redact_url
from scheduler.model import Interval

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_CHUNK = 64 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)
_READ_ONLY = "read-only feed: interviews cannot be written to it"
# Expand a little beyond the window asked for, so the next sync (whose window
# has moved on by minutes or days) is answered without expanding again.
SPAN_BEFORE = timedelta(days=1)
SPAN_AFTER = timedelta(days=14)


@dataclass(eq=False)
class FeedSnapshot:
    """The last copy of a feed that was read successfully.

    ``expansions`` caches, per (timezone, email), every occurrence in a span a
    little wider than the window last asked for; while the copy is unchanged,
    reads inside that span only filter it. A later window that leaves the span
    reads ``data`` again (windowed, under the backend's read budget).

    ``groups`` is the incremental state of the last read (``ics.incremental``),
    for one (timezone, email): when the next copy differs, only its changed UID
    groups are read.
    """

    data: bytes
    etag: str | None = None
    last_modified: str | None = None
    file_stamp: tuple[int, int] | None = None  # (mtime_ns, size) for files
    warnings: tuple[str, ...] = ()
    expansions: dict[tuple[str, str | None], Expansion] = field(default_factory=dict)
    groups: dict[tuple[str, str | None], GroupState] = field(default_factory=dict)

    def weight(self) -> int:
        """About how many bytes the copy and its incremental state take."""
        return len(self.data) + sum(state.weight() for state in self.groups.values())

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        source: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FeedSnapshot:
        """Rebuild a stored copy (raises CalendarError if it cannot be read)."""
        notes = parse_calendar_with_warnings(data, source)[1]
        return cls(data, etag, last_modified, None, notes)


class FeedSnapshots:
    """Last good copies by location, for backends made afresh for each sync: they still
    send ETag / Last-Modified and answer an unchanged feed from the cached expansion.

    Owned by whoever builds the backends (the app, the worker, a CLI run) and passed
    in; bounded by bytes, the copies with their incremental states (least recently used
    go first). The default holds about 300 feeds of 2,000 events (a 330 KB copy and a
    480 KB state each): a feed pushed out is read whole the next time it changes."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, FeedSnapshot] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, location: str) -> FeedSnapshot | None:
        with self._lock:
            found = self._items.get(location)
            if found is not None:
                self._items.move_to_end(location)
            return found

    def put(self, location: str, snapshot: FeedSnapshot) -> None:
        with self._lock:
            self._items[location] = snapshot
            self._items.move_to_end(location)
            total = sum(s.weight() for s in self._items.values())
            while total > self.max_bytes and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                total -= dropped.weight()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _inside(window: Interval, span: Interval) -> bool:
    """Whether ``window`` lies in ``span`` with all of ``SPAN_AFTER`` but a day to spare."""
    return span.start <= window.start and window.end + SPAN_AFTER - timedelta(days=1) <= span.end


def _human(size: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


class ICSFeedBackend(CalendarBackend):
    """Read-only calendar backed by an ICS document at a URL or path."""

    kind = "ics"

    def __init__(
        self,
        location: str | os.PathLike[str],
        *,
        timezone: str,
        email: str | None = None,
        name: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout: float = 10.0,
        total_timeout: float = 60.0,
        max_redirects: int = 5,
        session: requests.Session | None = None,
        last_good: FeedSnapshot | None = None,
        block_private_networks: bool = False,
        snapshots: FeedSnapshots | None = None,
        reader: Reader | None = None,
        allowed_hosts: Collection[str] = (),
        resolve: Resolver = socket.getaddrinfo,
    ) -> None:
        location = os.fspath(location)
        if location.lower().startswith("webcal://"):
            location = "https://" + location[len("webcal://") :]
        self.location = location
        self.is_url = location.lower().startswith(("http://", "https://"))
        self.source = name or (redact_url(location) if self.is_url else location)
        self.timezone = timezone
        self.email = email
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.total_timeout = total_timeout
        self.max_redirects = max_redirects
        # guarded: each connection's peer address is checked too (DNS rebinding)
        self.session = session or (
            guarded_session(allowed_hosts) if block_private_networks else requests.Session()
        )
        self.resolve = resolve  # how the guard resolves a host (tests give their own)
        self.snapshots = snapshots  # last good copies shared with other backends (or None)
        if last_good is None and snapshots is not None:
            last_good = snapshots.get(location)
        self.last_good: FeedSnapshot | None = last_good
        # For URLs typed in by users: refuse loopback, private and link-local
        # addresses (on every redirect hop), so a feed cannot probe the host.
        self.block_private_networks = block_private_networks
        # host:port pairs fetched although private (``sync.allowed_feed_hosts``)
        self.allowed_hosts = frozenset(allowed_hosts)
        self.last_error: CalendarError | None = None
        self.fetches = 0  # downloads that returned a body (not 304 / unchanged file)
        # every parse runs under this budget (a child process); None: in this process
        self.reader = reader
        self._fresh: FeedSnapshot | None = None  # downloaded, not read yet: not last_good

    # ---- reading ------------------------------------------------------------
    def read_busy(self, window: Interval) -> ICSRead:
        """Fetch (conditionally) and read; on error ``last_good`` is kept."""
        snapshot, unchanged = self.refresh()
        return self.read_copy(snapshot, window, unchanged=unchanged)

    def refresh(self) -> tuple[FeedSnapshot, bool]:
        """Fetch (conditionally) without reading: the current copy and whether it is unchanged.

        Records the outcome in ``last_error`` and shares the copy through ``snapshots``;
        on error ``last_good`` is kept and the CalendarError raised."""
        try:
            snapshot, unchanged = self.fetch()
        except CalendarError as exc:
            self.last_error = exc
            raise
        self.last_error = None
        if unchanged:
            self._share(snapshot)
        return snapshot, unchanged

    def _share(self, snapshot: FeedSnapshot) -> None:
        if self.snapshots is not None:
            self.snapshots.put(self.location, snapshot)

    def keep_copy(self, load: Callable[[], FeedSnapshot | None]) -> None:
        """Start from a stored copy when none is in hand (``load`` is called only then)."""
        if self.last_good is None:
            self.last_good = load()

    def read_last_good(self, window: Interval) -> ICSRead | None:
        """Busy time of the last good copy, without fetching (None if there is none)."""
        if self.last_good is None:
            return None
        return self.read_copy(self.last_good, window, unchanged=True)

    def fetch(self) -> tuple[FeedSnapshot, bool]:
        """The current copy and whether it is unchanged since the last good one."""
        if self.is_url:
            return self._fetch_url()
        return self._fetch_file()

    def read_copy(self, snapshot: FeedSnapshot, window: Interval, *, unchanged: bool) -> ICSRead:
        """Busy time of ``snapshot`` (a copy from :meth:`refresh`) in ``window``."""
        key = (self.timezone, self.email)
        expansion = snapshot.expansions.get(key)
        if expansion is None or not expansion.covers(window):
            expansion = self._expand(snapshot, window)
            snapshot.expansions[key] = expansion
        read = expansion.read(window)
        return replace(read, unchanged=unchanged, warnings=snapshot.warnings + read.warnings)

    def _expand(self, snapshot: FeedSnapshot, window: Interval) -> Expansion:
        """Read ``snapshot`` over ``window`` (padded) under the budget, reading again only
        the UID groups that changed since the last good copy was read for the same span
        (see ``ics.incremental``). A fresh download becomes ``last_good`` only once it
        reads; if it does not, the old copy stays."""
        key = (self.timezone, self.email)
        previous = snapshot.groups.get(key)
        if previous is None and self.last_good is not None:
            previous = self.last_good.groups.get(key)
        span = Interval(window.start - SPAN_BEFORE, window.end + SPAN_AFTER)
        if previous is not None and _inside(window, previous.span):
            span = previous.span  # the unchanged groups' occurrences stand for this span
        try:
            changes = expand_changes_through(
                self.reader,
                snapshot.data,
                previous,
                source=self.source,
                timezone=self.timezone,
                span=span,
                email=self.email,
            )
        except CalendarError as exc:
            self.last_error = exc
            if snapshot is self._fresh:
                self._fresh = None
            raise
        expansion, notes = changes.expansion, changes.notes
        snapshot.groups.clear()
        if changes.state is not None:
            snapshot.groups[key] = changes.state
        snapshot.warnings = notes
        if snapshot is self._fresh:
            self.last_good, self._fresh = snapshot, None
            self._share(snapshot)
        return expansion

    def _accept(
        self,
        data: bytes,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        file_stamp: tuple[int, int] | None = None,
    ) -> tuple[FeedSnapshot, bool]:
        """A downloaded copy; it becomes ``last_good`` only once it reads (``_expand``)."""
        self.fetches += 1
        previous = self.last_good
        if previous is not None and previous.data == data:  # no validators, same bytes
            previous.etag, previous.last_modified = etag, last_modified
            previous.file_stamp = file_stamp
            return previous, True
        self._fresh = FeedSnapshot(data, etag, last_modified, file_stamp)
        return self._fresh, False

    def _fetch_file(self) -> tuple[FeedSnapshot, bool]:
        path = Path(self.location)
        try:
            # Always read: a same-size rewrite within the file system's timestamp
            # granularity would fool a stat() check; equal bytes are not re-parsed.
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stat.st_size > self.max_bytes:
                raise CalendarError(self.source, self._too_big(stat.st_size))
            data = path.read_bytes()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise CalendarError(self.source, f"cannot read the file: {reason}") from None
        return self._accept(data, file_stamp=stamp)

    def _fetch_url(self) -> tuple[FeedSnapshot, bool]:
        deadline = time.monotonic() + self.total_timeout
        headers = {"Accept": "text/calendar, */*;q=0.5", "Accept-Encoding": "gzip, deflate"}
        if self.last_good is not None:
            if self.last_good.etag:
                headers["If-None-Match"] = self.last_good.etag
            if self.last_good.last_modified:
                headers["If-Modified-Since"] = self.last_good.last_modified
        url = self.location
        seen = [url]  # real URLs; only their redacted form is ever shown
        for _ in range(self.max_redirects + 1):
            response = self._get(url, headers)
            with response:
                if response.status_code in _REDIRECTS and response.headers.get("Location"):
                    url = urljoin(url, response.headers["Location"])
                    if url in seen:
                        hops = [*seen[seen.index(url) :], url]
                        loop = " -> ".join(redact_url(hop) for hop in hops)
                        raise CalendarError(self.source, f"redirect loop: {loop}")
                    seen.append(url)
                    continue
                if response.status_code == 304:
                    if self.last_good is None:
                        raise CalendarError(self.source, "HTTP 304 without an earlier copy")
                    return self.last_good, True
                self._check_status(response)
                data = self._body(response, deadline)
                return self._accept(
                    data,
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                )
        raise CalendarError(
            self.source,
            f"more than {self.max_redirects} redirects ("
            + " -> ".join(redact_url(hop) for hop in seen)
            + ")",
        )

    def _get(self, url: str, headers: dict[str, str]) -> requests.Response:
        if self.block_private_networks:
            self._refuse_private(url)
        try:
            return self.session.get(
                url,
                headers=headers,
                timeout=self.timeout,
                stream=True,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise CalendarTimeout(
                self.source,
                f"no answer within {self.timeout:g} s; the server may be down",
                seconds=self.timeout,
            ) from None
        except requests.ConnectionError as exc:
            peer = peer_refusal(exc)
            if peer is not None:
                raise CalendarError(self.source, self._hop_reason(url, str(peer))) from None
            raise CalendarError(
                self.source,
                f"cannot connect to {urlsplit(url).hostname}; check the URL and your network",
            ) from None
        except requests.RequestException as exc:
            raise CalendarError(self.source, f"request failed ({type(exc).__name__})") from None

    def _refuse_private(self, url: str) -> None:
        """Refuse ``url`` (the feed or a redirect hop) before connecting, naming the hop."""
        reason = private_host_reason(url, self.resolve, self.allowed_hosts)
        if reason is not None:
            raise CalendarError(self.source, self._hop_reason(url, reason))

    def _hop_reason(self, url: str, reason: str) -> str:
        """``reason``, naming the redirect hop (redacted) when ``url`` is not the feed's."""
        if url == self.location:
            return reason
        return f"redirected to {redact_url(url)}, which is refused: {reason}"

    def _check_status(self, response: requests.Response) -> None:
        code = response.status_code
        if 200 <= code < 300:
            return
        reason = response.reason or ""
        if code == 404 or code == 410:
            hint = "the feed does not exist (any more); check the URL"
        elif code in (401, 403):
            hint = "access refused; the feed may be private or its link revoked"
        elif code >= 500:
            hint = "the calendar server failed; it will be retried"
        else:
            hint = "unexpected answer"
        raise CalendarError(self.source, f"HTTP {code} {reason}: {hint}".replace("  ", " "))

    def _body(self, response: requests.Response, deadline: float) -> bytes:
        """The body, streamed: refused past ``max_bytes`` and past the deadline.

        A reader thread pulls chunks while this one waits with a timeout, so a
        server that drips a byte at a time cannot hold a sync past
        ``total_timeout`` (the per-read ``timeout`` alone would not stop it).
        """
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise CalendarError(self.source, self._too_big(int(declared)))
        pipe: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=8)
        stop = threading.Event()

        def pump() -> None:
            try:
                for chunk in response.iter_content(_CHUNK):
                    while not stop.is_set():
                        try:
                            pipe.put(chunk, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
                pipe.put(None)
            except BaseException as exc:  # handed to the waiting thread
                if not stop.is_set():
                    pipe.put(exc)

        threading.Thread(target=pump, name="feed-download", daemon=True).start()
        chunks: list[bytes] = []
        total = 0
        try:
            while True:
                try:
                    item = pipe.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise CalendarTimeout(
                        self.source,
                        f"download took longer than {self.total_timeout:g} s",
                        seconds=self.total_timeout,
                    ) from None
                if item is None:
                    return b"".join(chunks)
                if isinstance(item, BaseException):
                    raise CalendarError(
                        self.source, f"download interrupted ({type(item).__name__})"
                    )
                total += len(item)
                if total > self.max_bytes:
                    raise CalendarError(self.source, self._too_big(None))
                chunks.append(item)
        finally:
            stop.set()

    def _too_big(self, size: int | None) -> str:
        limit = _human(self.max_bytes)
        if size is None:
            return f"larger than the {limit} limit; download stopped"
        return f"{_human(size)} is larger than the {limit} limit"

    # ---- writing: not possible ----------------------------------------------
    def write_event(self, event: InterviewEvent) -> str:
        raise CalendarError(self.source, _READ_ONLY)

    def update_event(self, event_id: str, event: InterviewEvent) -> None:
        raise CalendarError(self.source, _READ_ONLY)

    def cancel_event(self, event_id: str) -> None:
        raise CalendarError(self.source, _READ_ONLY)
