"""The interviewer's personal page link by mail: one click on the coordinator's page (POST,
CSRF, audited) puts a mail in the outbox, delivered over real SMTP (aiosmtpd on loopback),
whose link opens the page; and every interview invite an interviewer gets carries it."""

from __future__ import annotations

import re
from typing import Any

from flask import url_for
from sqlalchemy import select

from tests.booking.test_smtp import _mailer, smtp  # noqa: F401, F811 - the SMTP server fixture
from tests.fixtures.booking import policy
from tests.fixtures.webapp import NOW, SECRET, get_csrf
from tests.integrations.smtp_server import SMTPTestServer
from tests.people.helpers import book_first
from web.domain.booking import BookingPolicy
from web.domain.personal_links import INTERVIEWER_PATH, LINK_MAIL_KIND, PersonalLinks
from web.domain.worker import deliver_due
from web.store.db import Database
from web.store.models import AuditLog, Interviewer, OutboxMail

LINK_RE = re.compile(r"(https?://\S+/i/[A-Za-z0-9_.\-]+)")


def _alice(db: Database) -> Interviewer:
    with db.session() as s:
        row = s.scalar(select(Interviewer).where(Interviewer.key == "alice"))
        assert row is not None
        s.expunge(row)
        return row


def _opens(client: Any, link: str, name: str) -> str:
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    resp = client.get(path)
    assert resp.status_code == 200, path
    page = resp.get_data(as_text=True)
    assert f"<h1>{name}</h1>" in page
    return page


def test_send_link_mails_the_personal_page_over_smtp(
    signed_in: Any,
    db: Database,
    smtp: SMTPTestServer,  # noqa: F811
    app: Any,
) -> None:
    alice = _alice(db)
    detail = f"/interviewers/{alice.id}"
    page = signed_in.get(detail).get_data(as_text=True)
    assert "Send personal page link" in page and "Or copy the link" in page
    assert signed_in.post(f"{detail}/send-link", data={}).status_code == 400  # no CSRF
    with db.session() as s:
        assert s.scalar(select(OutboxMail).where(OutboxMail.kind == LINK_MAIL_KIND)) is None
    token = get_csrf(signed_in, detail)
    resp = signed_in.post(f"{detail}/send-link", data={"csrf_token": token})
    assert resp.status_code == 302
    flashed = signed_in.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Sent Alice Okafor their personal page link at alice@example.com." in flashed
    with db.session() as s:
        [entry] = s.scalars(select(AuditLog).where(AuditLog.action == "interviewer_link_sent"))
        assert entry.actor == "coordinator:ann@example.com" and entry.object_id == str(alice.id)
        assert "/i/" not in str(entry.detail)  # the link opens the page: never in the log
    sent, failed = deliver_due(db, _mailer(smtp), NOW)
    assert (sent, failed) == (1, 0)
    [rec] = smtp.messages
    assert list(rec.rcpt_tos) == ["alice@example.com"]
    text = rec.message.get_body(("plain",)).get_content()
    assert rec.message.get_body(("html",)) is not None
    [link] = LINK_RE.findall(text)
    assert link.startswith("http://panelslot.test/i/")
    signed_in.get("/logout")
    _opens(app.test_client(), link, "Alice Okafor")


def test_an_inactive_interviewer_gets_no_link(signed_in: Any, db: Database) -> None:
    alice = _alice(db)
    detail = f"/interviewers/{alice.id}"
    token = get_csrf(signed_in, detail)
    signed_in.post(f"{detail}/active", data={"csrf_token": token})
    page = signed_in.get(detail).get_data(as_text=True)
    assert "Send personal page link" not in page
    resp = signed_in.post(f"{detail}/send-link", data={"csrf_token": token})
    assert resp.status_code == 302
    assert "is inactive" in signed_in.get(detail).get_data(as_text=True)
    with db.session() as s:
        assert s.scalar(select(OutboxMail).where(OutboxMail.kind == LINK_MAIL_KIND)) is None


def test_the_link_path_is_the_interviewer_route(app: Any) -> None:
    with app.test_request_context():
        assert url_for("interviewer.landing", token="T") == INTERVIEWER_PATH + "T"


def test_the_app_policy_builds_personal_links(app: Any) -> None:
    made = BookingPolicy.from_settings(app.extensions["panelslot.settings"])
    assert made.personal_links is not None
    assert made.personal_links.base_url == "http://panelslot.test/"
    assert SECRET not in repr(made)


def test_every_interviewer_invite_carries_their_page_link(
    db: Database,
    company: Any,
    smtp: SMTPTestServer,  # noqa: F811
    client: Any,
) -> None:
    links = PersonalLinks("http://panelslot.test/", SECRET)
    book_first(db, "invite-links", policy(personal_links=links))
    deliver_due(db, _mailer(smtp), NOW)
    with db.session() as s:
        names = {i.email: i.name for i in s.scalars(select(Interviewer))}
    staff = [r for r in smtp.messages if r.rcpt_tos[0] in names]
    invites = [r for r in staff if r.message.get_content_type() != "text/plain"]
    assert len(invites) == 2  # one REQUEST per session's interviewer
    for rec in invites:
        assert any(p.get_content_type() == "text/calendar" for p in rec.message.walk())
        text = rec.message.get_body(("plain",)).get_content()
        html = rec.message.get_body(("html",)).get_content()
        [link] = LINK_RE.findall(text)
        assert link in html
        _opens(client, link, names[rec.rcpt_tos[0]])
    cand = [r for r in smtp.messages if list(r.rcpt_tos) == ["priya@example.org"]]
    assert cand and not any(
        LINK_RE.search(r.message.get_body(("plain",)).get_content()) for r in cand
    )
