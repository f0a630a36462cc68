"""The address guard runs on every redirect hop, before connecting: a feed whose first hop
is allowed (``sync.allowed_feed_hosts``) but that redirects to an internal address is
refused at the second hop, in the feed backend, the worker's sync and the interviewer's
page; webhooks follow no redirect at all. All traffic stays on loopback: the first server
is a loopback server named in the allow-list, the internal targets are loopback servers
(or addresses the guard refuses before any connection, under a session that would fail the
test if anything left loopback)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import select

from integrations.calendars.feed import ICSFeedBackend
from integrations.errors import CalendarError
from integrations.mail import MemoryMailer
from integrations.urlguard import (
    host_port,
    parse_allowed_hosts,
    private_host_reason,
    refuse_private,
)
from integrations.webhooks import Outcome, WebhookMessage, deliver
from scheduler.model import Interval
from tests.fixtures.sync import add_source, blocks, day_events, ics, source, utc
from tests.fixtures.webapp import NOW, csrf_of
from tests.integrations.feed_server import FeedServer, Redirect, Static, serve
from web.domain import services
from web.domain.jobs import enqueue
from web.domain.sync.config import SyncConfig
from web.domain.worker import Worker
from web.store.db import Database
from web.store.models import CalendarSource, Interviewer
from web.store.settings import SettingsError, load_settings

DAY = utc(2027, 3, 2)
GOOD = ics(*day_events("a", DAY, [9, 11]))
WEEK = Interval(DAY - timedelta(days=1), DAY + timedelta(days=6))


class LoopbackOnly(HTTPAdapter):
    """A tripwire: any connection off loopback fails the test instead of leaving the host."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        host = urlsplit(request.url).hostname or ""
        assert ipaddress.ip_address(host).is_loopback, f"left loopback: {request.url}"
        self.sent.append(request.url)
        return super().send(request, *args, **kwargs)


@pytest.fixture
def target() -> Iterator[FeedServer]:
    """The internal server a redirect points at (never to be reached)."""
    server, stop = serve()
    server.routes["/internal.ics"] = Static(GOOD)
    yield server
    stop()


def _internal_urls(target: FeedServer) -> list[str]:
    return [
        target.url("/internal.ics"),
        f"http://[::1]:{target.port}/internal.ics",
        "http://10.20.30.40/internal.ics",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    ]


def _allowed(feeds: FeedServer) -> frozenset[str]:
    return parse_allowed_hosts(f"127.0.0.1:{feeds.port}")


def test_the_allow_list_is_host_and_port_as_written() -> None:
    assert host_port("https://Cal.Example/x.ics") == "cal.example:443"
    assert host_port("webcal://cal.example/x.ics") == "cal.example:443"
    assert host_port("http://[::1]:8080/x") == "[::1]:8080"
    assert parse_allowed_hosts("cal.intranet:8443, [fd00::5]:443") == {
        "cal.intranet:8443",
        "[fd00::5]:443",
    }
    with pytest.raises(ValueError, match="'cal.intranet' is not host:port"):
        parse_allowed_hosts("cal.intranet")
    with pytest.raises(SettingsError, match="sync.allowed_feed_hosts"):
        load_settings(environ={"PANELSLOT_SYNC_ALLOWED_FEED_HOSTS": "a:99999"})
    allowed = parse_allowed_hosts("127.0.0.1:8080")
    refuse_private("http://127.0.0.1:8080/x", allowed)  # named: allowed
    with pytest.raises(ValueError, match="private or local address"):
        refuse_private("http://127.0.0.1:8081/x", allowed)  # another port: refused


@pytest.mark.parametrize("hop", range(4), ids=["127.0.0.1", "[::1]", "10.x", "169.254.169.254"])
def test_the_feed_backend_refuses_the_second_hop_before_connecting(
    feeds: FeedServer, target: FeedServer, hop: int
) -> None:
    feeds.routes["/cal.ics"] = Static(GOOD)
    tripwire = LoopbackOnly()
    session = requests.Session()
    session.mount("http://", tripwire)
    backend = ICSFeedBackend(
        feeds.url("/cal.ics"),
        timezone="Europe/London",
        block_private_networks=True,
        allowed_hosts=_allowed(feeds),
        session=session,
    )
    first = backend.read_busy(WEEK)  # the allowed first hop is fetched
    assert first.busy
    bad = _internal_urls(target)[hop]
    feeds.routes["/cal.ics"] = Redirect(bad)
    with pytest.raises(CalendarError) as err:
        backend.read_busy(WEEK)
    message = str(err.value)
    assert f"http://127.0.0.1:{feeds.port}/cal.ics" in message  # the feed, redacted
    assert "redirected to http://" in message and "which is refused" in message
    assert "private or local address" in message
    assert "meta-data" not in message  # hop URLs are shown redacted (last segment only)
    assert target.seen == [] and all(str(feeds.port) in u for u in tripwire.sent)
    kept = backend.read_last_good(WEEK)  # the last good copy stays
    assert kept is not None and kept.busy == first.busy


def test_without_the_allow_list_the_first_hop_is_refused(feeds: FeedServer) -> None:
    feeds.routes["/cal.ics"] = Static(GOOD)
    backend = ICSFeedBackend(
        feeds.url("/cal.ics"), timezone="Europe/London", block_private_networks=True
    )
    with pytest.raises(CalendarError, match="127.0.0.1 is a private or local address"):
        backend.read_busy(WEEK)
    assert feeds.seen == []


def _public_dns(host: str, _port: None) -> list[tuple[Any, ...]]:
    """What a rebinding name tells the guard: a public address."""
    return [(2, 1, 6, "", ("93.184.215.14", 0))]


def test_a_connection_that_reaches_a_private_address_is_closed_unsent(feeds: FeedServer) -> None:
    """DNS rebinding: the guard is told a public address, the connection lands on
    127.0.0.1; the peer check of the guarded session closes it before the request."""
    feeds.routes["/cal.ics"] = Static(GOOD)
    backend = ICSFeedBackend(
        feeds.url("/cal.ics"),
        timezone="Europe/London",
        block_private_networks=True,
        resolve=_public_dns,
    )
    with pytest.raises(CalendarError) as err:
        backend.read_busy(WEEK)
    assert "answered from 127.0.0.1, a private or local address" in str(err.value)
    assert feeds.seen == []  # connected, then closed: no request was sent


def _guarded(app: Any, feeds: FeedServer) -> Any:
    return app.extensions["panelslot.settings"].updated(
        {"sync.allow_private_feeds": False, "sync.allowed_feed_hosts": f"127.0.0.1:{feeds.port}"}
    )


@pytest.mark.parametrize("hop", range(2), ids=["127.0.0.1", "[::1]"])
def test_the_workers_sync_refuses_the_second_hop_and_keeps_the_last_good_blocks(
    app: Any, db: Database, company: Any, feeds: FeedServer, target: FeedServer, hop: int
) -> None:
    settings = _guarded(app, feeds)
    worker = Worker(settings, db, MemoryMailer(), clock=lambda: NOW)
    assert worker.config.block_private and worker.config.allowed_hosts
    feeds.routes["/alice.ics"] = Static(GOOD)
    sid = add_source(db, "alice", kind="ics", label="alice-work", url=feeds.url("/alice.ics"))
    worker.sync()
    before = blocks(db, sid)
    assert before and source(db, sid).last_error is None
    feeds.routes["/alice.ics"] = Redirect(_internal_urls(target)[hop])
    with db.session() as s:
        alice = s.scalar(select(Interviewer).where(Interviewer.key == "alice"))
        assert alice is not None
        enqueue(s, "sync_interviewer", {"interviewer_id": alice.id}, now=NOW)
    assert worker.run_jobs() == 1
    row = source(db, sid)
    assert "which is refused" in (row.last_error or "")
    assert "private or local address" in (row.last_error or "")
    assert target.seen == [] and blocks(db, sid) == before
    assert row.last_good_sync_at == NOW


def test_the_interviewers_page_refuses_the_second_hop(
    app: Any, client: Any, db: Database, company: Any, feeds: FeedServer, target: FeedServer
) -> None:
    settings = _guarded(app, feeds)
    app.extensions["panelslot.settings"] = settings
    app.extensions["panelslot.sync"] = SyncConfig.from_settings(settings, web=True)
    with db.session() as s:
        alice = s.scalars(select(Interviewer).where(Interviewer.key == "alice")).one()
        alice.link_nonce = alice.link_nonce or services.new_nonce()
        s.flush()
        page = f"/i/{services.interviewer_token(app.config['SECRET_KEY'], alice, now=NOW)}"
    feeds.routes["/alice.ics"] = Static(GOOD)
    token = csrf_of(client.get(page).get_data(as_text=True))
    resp = client.post(
        f"{page}/calendars/ics",
        data={"csrf_token": token, "label": "Work", "url": feeds.url("/alice.ics")},
    )
    assert resp.status_code == 302  # the allowed host passes the form's check
    assert "Work: connection works" in client.get(page).get_data(as_text=True)
    with db.session() as s:
        sid = s.scalars(select(CalendarSource.id)).one()
    before = blocks(db, sid)

    feeds.routes["/alice.ics"] = Redirect(target.url("/internal.ics"))
    token = csrf_of(client.get(page).get_data(as_text=True))
    assert client.post(f"{page}/calendars/{sid}/test", data={"csrf_token": token}).status_code
    html = client.get(page).get_data(as_text=True)
    assert f"redirected to http://127.0.0.1:{target.port}/internal.ics, which is refused" in html
    assert target.seen == [] and blocks(db, sid) == before

    token = csrf_of(client.get(page).get_data(as_text=True))
    resp = client.post(
        f"{page}/calendars/ics",
        data={"csrf_token": token, "url": target.url("/internal.ics")},
    )
    assert resp.status_code == 400 and "private or local address" in resp.get_data(as_text=True)
    assert target.seen == []


def _hook(url: str, allowed: frozenset[str]) -> Any:
    return deliver(
        url,
        "whsec_" + "A" * 32,
        WebhookMessage("msg_1", "booking.created", {"booking": 1}, NOW),
        now=NOW,
        url_guard=lambda hop: refuse_private(hop, allowed),
        allowed_hosts=allowed,
    )


def test_webhooks_follow_no_redirect(feeds: FeedServer, target: FeedServer) -> None:
    feeds.routes["/hook"] = Redirect(target.url("/internal.ics"), code=307)
    attempt = _hook(feeds.url("/hook"), _allowed(feeds))
    assert attempt.outcome is Outcome.FAILED and attempt.response_code == 307
    assert "redirects are not followed" in attempt.error
    assert len(feeds.hits("/hook")) == 1 and target.seen == []
    refused = _hook(target.url("/internal.ics"), _allowed(feeds))
    assert refused.outcome is Outcome.REFUSED and "private or local address" in refused.error
    assert target.seen == []


def _rebound_guard(url: str) -> None:
    """The URL guard as DNS rebinding fools it: the name looks public."""
    reason = private_host_reason(url, _public_dns)
    if reason is not None:
        raise ValueError(reason)


def test_a_webhook_connection_that_reaches_a_private_address_is_closed_unsent(
    feeds: FeedServer,
) -> None:
    """DNS rebinding on a webhook: the URL guard is told a public address, the connection
    lands on 127.0.0.1 and is closed before the POST; the attempt is refused, not retried."""
    feeds.routes["/hook"] = Static(b"ok")
    url = feeds.url("/hook")
    message = WebhookMessage("msg_2", "booking.created", {"booking": 2}, NOW)
    attempt = deliver(url, "whsec_" + "A" * 32, message, now=NOW, url_guard=_rebound_guard)
    assert attempt.outcome is Outcome.REFUSED and attempt.next_attempt_at is None
    assert "answered from 127.0.0.1, a private or local address" in attempt.error
    assert feeds.seen == []  # connected, then closed: nothing was sent
    allowed = deliver(
        url,
        "whsec_" + "A" * 32,
        message,
        now=NOW,
        url_guard=_rebound_guard,
        allowed_hosts=_allowed(feeds),
    )  # the same endpoint named in the allow-list is delivered to
    assert allowed.outcome is Outcome.DELIVERED and len(feeds.hits("/hook")) == 1
