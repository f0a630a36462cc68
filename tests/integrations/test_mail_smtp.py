"""Invites delivered through a real SMTP server (aiosmtpd on loopback) and parsed back.

Each test sends with :class:`SMTPMailer` over a real socket (plain, STARTTLS with login,
or implicit TLS), then reads what the server received: the envelope, the MIME layout and
the ``text/calendar`` part, parsed with icalendar.
"""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from integrations.errors import MailError
from integrations.invites import (
    Participant,
    SessionTime,
    build_invites,
    invite_cancel,
    invite_request,
    loop_uid,
    session_uid,
)
from integrations.mail import MailDeliveryError, OutgoingMail, SMTPMailer
from tests.integrations.smtp_server import (
    Certificate,
    ReceivedMail,
    SMTPTestServer,
    make_certificate,
)
from tests.loopback import listening_socket, port_of

PASSWORD = "Tr0ub4dor&3-not-for-logs"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DOMAIN = "panelslot.example.com"
ORG = Participant("recruiting@acme.example", "Acme Recruiting")
CANDIDATE = Participant("asha@mail.example", "Åsha Rão")
ALICE = Participant("alice@acme.example", "Alice Smith")
BOB = Participant("bob@acme.example", "Bob Jones")
KOLKATA = ZoneInfo("Asia/Kolkata")


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def plain_server() -> Iterator[SMTPTestServer]:
    with SMTPTestServer() as server:
        yield server


@pytest.fixture
def tls_server(cert: Certificate) -> Iterator[SMTPTestServer]:
    with SMTPTestServer(tls="starttls", cert=cert, users={"panelslot": PASSWORD}) as server:
        yield server


def plain_mailer(server: SMTPTestServer, **kwargs) -> SMTPMailer:
    return SMTPMailer(
        server.host,
        server.port,
        security="none",
        timeout=5,
        sender="Acme Recruiting <recruiting@acme.example>",
        **kwargs,
    )


def tls_mailer(server: SMTPTestServer, cert: Certificate, password: str = PASSWORD) -> SMTPMailer:
    return SMTPMailer(
        server.host,
        server.port,
        security="starttls",
        username="panelslot",
        password=password,
        timeout=5,
        sender="recruiting@acme.example",
        tls_context=cert.client_context(),
    )


def coding_session(start: datetime) -> SessionTime:
    return SessionTime(
        session_uid(42, 0, DOMAIN), "Coding", start, start + timedelta(minutes=45), (ALICE,)
    )


def invite_mail(
    ics: bytes, method: str = "REQUEST", to: tuple[str, ...] = ("Asha Rao <asha@mail.example>",)
):
    return OutgoingMail(
        to=to,
        subject="Interview with Acme — Coding",
        text="Your interview is booked.",
        html="<p>Your interview is <b>booked</b>.</p>",
        ics=ics,
        ics_method=method,
    )


def calendar_of(received: ReceivedMail) -> tuple[str, Calendar]:
    """The inline text/calendar part: (method parameter, parsed calendar)."""
    parts = [p for p in received.message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, "exactly one inline text/calendar part"
    part = parts[0]
    assert part.get_content_charset() == "utf-8"
    assert part.get_content_disposition() is None  # inline, where clients look for iMIP
    return part.get_param("method"), Calendar.from_ical(part.get_payload(decode=True))


def only_event(cal: Calendar):
    [event] = list(cal.walk("VEVENT"))
    return event


def attendee_params(event) -> dict[str, dict[str, str]]:
    raw = event.get("attendee")
    items = raw if isinstance(raw, list) else [raw]
    return {str(a).lower().removeprefix("mailto:"): dict(a.params) for a in items}


def test_plain_smtp_delivers_a_correct_imip_request(plain_server):
    start = datetime(2026, 12, 1, 9, 30, tzinfo=KOLKATA)  # 04:00 UTC
    ics = invite_request(
        [coding_session(start)],
        organizer=ORG,
        attendees=[CANDIDATE],
        sequence=0,
        now=NOW,
        summary="Interview with Acme",
        video_url="https://meet.example/abc",
    )
    mail = OutgoingMail(**{**invite_mail(ics).__dict__, "cc": ("alice@acme.example",)})
    plain_mailer(plain_server).send(mail)

    [received] = plain_server.messages
    assert received.mail_from == "recruiting@acme.example"
    assert set(received.rcpt_tos) == {"asha@mail.example", "alice@acme.example"}
    msg: EmailMessage = received.message
    assert msg["Subject"] == "Interview with Acme — Coding"
    assert msg.get_content_type() == "multipart/mixed"
    assert "booked" in msg.get_body(("plain",)).get_content()
    assert "<b>booked</b>" in msg.get_body(("html",)).get_content()
    attachments = [p for p in msg.iter_attachments()]
    assert [a.get_filename() for a in attachments] == ["invite.ics"]

    method, cal = calendar_of(received)
    assert method == "REQUEST" and cal["METHOD"] == "REQUEST"
    event = only_event(cal)
    assert str(event["UID"]) == session_uid(42, 0, DOMAIN)
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == start == datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 12, 1, 4, 45, tzinfo=UTC)
    assert str(event["ORGANIZER"]) == "mailto:recruiting@acme.example"
    people = attendee_params(event)
    assert set(people) == {"asha@mail.example", "alice@acme.example"}
    assert all(p["RSVP"] == "TRUE" and p["PARTSTAT"] == "NEEDS-ACTION" for p in people.values())
    assert people["asha@mail.example"]["CN"] == "Åsha Rão"
    assert str(event["LOCATION"]) == "https://meet.example/abc"
    assert Calendar.from_ical(attachments[0].get_payload(decode=True)) == cal


def test_book_reschedule_cancel_over_starttls_with_login(tls_server, cert):
    mailer = tls_mailer(tls_server, cert)
    first = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    moved = first + timedelta(days=2, hours=1)
    common = {
        "organizer": ORG,
        "attendees": [CANDIDATE],
        "now": NOW,
        "summary": "Interview with Acme",
    }

    mailer.send(invite_mail(invite_request([coding_session(first)], sequence=0, **common)))
    mailer.send(invite_mail(invite_request([coding_session(moved)], sequence=1, **common)))
    mailer.send(
        invite_mail(
            invite_cancel([coding_session(moved)], last_sequence=1, **common), method="CANCEL"
        )
    )

    assert len(tls_server.messages) == 3
    assert all(m.tls and m.login == "panelslot" for m in tls_server.messages)
    booked, rescheduled, cancelled = (calendar_of(m) for m in tls_server.messages)

    assert booked[0] == rescheduled[0] == "REQUEST"
    assert cancelled[0] == "CANCEL" and cancelled[1]["METHOD"] == "CANCEL"
    e0, e1, e2 = (only_event(c) for _, c in (booked, rescheduled, cancelled))
    assert str(e0["UID"]) == str(e1["UID"]) == str(e2["UID"]) == session_uid(42, 0, DOMAIN)
    assert [e0["SEQUENCE"], e1["SEQUENCE"], e2["SEQUENCE"]] == [0, 1, 2]
    assert e0.decoded("DTSTART") == first
    assert e1.decoded("DTSTART") == moved and e1.decoded("DTEND") == moved + timedelta(minutes=45)
    assert e2["STATUS"] == "CANCELLED"
    assert "asha@mail.example" in attendee_params(e2)


def test_per_session_invites_reach_exactly_their_people(plain_server):
    start = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    sessions = [
        coding_session(start),
        SessionTime(
            session_uid(42, 1, DOMAIN),
            "Design",
            start + timedelta(hours=1),
            start + timedelta(hours=2),
            (BOB,),
        ),
    ]
    invites = build_invites(
        sessions,
        grouping="session",
        organizer=ORG,
        attendees=[CANDIDATE],
        sequence=0,
        now=NOW,
        summary="Acme",
    )
    mailer = plain_mailer(plain_server)
    for invite in invites:
        for recipient in invite.recipients:  # one mail per person, as the outbox sends them
            mailer.send(invite_mail(invite.ics, to=(recipient,)))

    got: dict[str, set[str]] = {}
    for received in plain_server.messages:
        [rcpt] = received.rcpt_tos
        _, cal = calendar_of(received)
        got.setdefault(rcpt, set()).add(str(only_event(cal)["UID"]))
    assert got == {
        "asha@mail.example": {session_uid(42, 0, DOMAIN), session_uid(42, 1, DOMAIN)},
        "alice@acme.example": {session_uid(42, 0, DOMAIN)},
        "bob@acme.example": {session_uid(42, 1, DOMAIN)},
    }


def test_loop_invite_for_the_candidate_and_session_invites_for_interviewers(plain_server):
    start = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    sessions = [
        coding_session(start),
        SessionTime(
            session_uid(42, 1, DOMAIN),
            "Design",
            start + timedelta(hours=1),
            start + timedelta(hours=2),
            (BOB,),
        ),
    ]
    common = {"organizer": ORG, "sequence": 0, "now": NOW, "summary": "Acme"}
    loop = build_invites(
        sessions, grouping="loop", attendees=[CANDIDATE], loop_uid=loop_uid(42, DOMAIN), **common
    )
    per_session = build_invites(sessions, grouping="session", attendees=[], **common)
    mailer = plain_mailer(plain_server)
    for invite in [*loop, *per_session]:
        for recipient in invite.recipients:
            mailer.send(invite_mail(invite.ics, to=(recipient,)))

    seen = {}
    for received in plain_server.messages:
        event = only_event(calendar_of(received)[1])
        seen[received.rcpt_tos] = (
            str(event["UID"]),
            event.decoded("DTSTART"),
            event.decoded("DTEND"),
        )
    assert seen == {
        ("asha@mail.example",): (loop_uid(42, DOMAIN), start, start + timedelta(hours=2)),
        ("alice@acme.example",): (session_uid(42, 0, DOMAIN), start, start + timedelta(minutes=45)),
        ("bob@acme.example",): (
            session_uid(42, 1, DOMAIN),
            start + timedelta(hours=1),
            start + timedelta(hours=2),
        ),
    }


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_with_login(cert):
    with SMTPTestServer(tls="ssl", cert=cert, users={"panelslot": PASSWORD}) as server:
        mailer = SMTPMailer(
            server.host,
            server.port,
            security="ssl",
            username="panelslot",
            password=PASSWORD,
            timeout=5,
            sender="recruiting@acme.example",
            tls_context=cert.client_context(),
        )
        mailer.send(OutgoingMail(to=("asha@mail.example",), subject="Hi", text="Hello"))
        [received] = server.messages
        assert received.tls and received.login == "panelslot"


def assert_no_secret(error: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    for text in (str(error), repr(error), *map(str, error.args), caplog.text):
        assert PASSWORD not in text
        assert "Tr0ub4dor" not in text


def test_server_down_is_a_clear_temporary_error_without_the_password(caplog, refused_port):
    port = refused_port  # nothing listens there
    mailer = SMTPMailer(
        "127.0.0.1", port, security="starttls", username="panelslot", password=PASSWORD, timeout=5
    )
    with pytest.raises(MailError) as info:
        mailer.send(OutgoingMail(to=("a@b.example",), subject="s", text="t", sender="x@y.example"))
    error = info.value
    assert isinstance(error, MailDeliveryError) and not error.permanent
    assert str(error) == (
        f"smtp://127.0.0.1:{port}: connection refused: no SMTP server is listening there; "
        "check mail.smtp_host and mail.smtp_port"
    )
    assert error.__cause__ is None and error.__suppress_context__
    assert_no_secret(error, caplog)


def test_wrong_password_is_permanent_and_not_echoed(tls_server, cert, caplog):
    wrong = PASSWORD + "-typo"
    with pytest.raises(MailDeliveryError) as info:
        tls_mailer(tls_server, cert, password=wrong).send(
            OutgoingMail(to=("a@b.example",), subject="s", text="t")
        )
    assert info.value.permanent
    assert "refused the login" in str(info.value)
    assert "PANELSLOT_MAIL_SMTP_PASSWORD" in str(info.value)
    assert wrong not in str(info.value)
    assert_no_secret(info.value, caplog)
    assert set(tls_server.failed_logins) == {"panelslot"}  # smtplib tries PLAIN, then LOGIN
    assert tls_server.messages == []


def test_untrusted_certificate_is_refused(tls_server, caplog):
    mailer = SMTPMailer(
        tls_server.host,
        tls_server.port,
        username="panelslot",
        password=PASSWORD,
        timeout=5,
        sender="x@y.example",
    )  # system trust store: the self-signed certificate is not trusted
    with pytest.raises(MailDeliveryError) as info:
        mailer.send(OutgoingMail(to=("a@b.example",), subject="s", text="t"))
    assert info.value.permanent
    assert "certificate was not trusted" in str(info.value)
    assert_no_secret(info.value, caplog)
    assert tls_server.messages == []


def test_starttls_missing_on_the_server_does_not_fall_back_to_plain(plain_server, cert):
    mailer = SMTPMailer(
        plain_server.host,
        plain_server.port,
        security="starttls",
        username="panelslot",
        password=PASSWORD,
        timeout=5,
        sender="x@y.example",
        tls_context=cert.client_context(),
    )
    with pytest.raises(MailDeliveryError, match="does not offer STARTTLS") as info:
        mailer.send(OutgoingMail(to=("a@b.example",), subject="s", text="t"))
    assert info.value.permanent
    assert plain_server.messages == []


def test_refused_recipient_is_reported_and_the_others_still_get_it():
    with SMTPTestServer(refuse=("gone@acme.example",)) as server:
        mailer = plain_mailer(server)
        with pytest.raises(MailDeliveryError) as info:
            mailer.send(
                OutgoingMail(to=("asha@mail.example", "gone@acme.example"), subject="s", text="t")
            )
        assert info.value.permanent
        assert info.value.refused == ("gone@acme.example",)
        assert "gone@acme.example (550)" in str(info.value)
        [received] = server.messages
        assert received.rcpt_tos == ("asha@mail.example",)

        with pytest.raises(MailDeliveryError, match="every recipient was refused") as info:
            mailer.send(OutgoingMail(to=("gone@acme.example",), subject="s", text="t"))
        assert info.value.permanent


def test_silent_server_times_out_as_a_temporary_error():
    listener = listening_socket()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    try:
        port = port_of(listener)
        mailer = SMTPMailer("127.0.0.1", port, security="none", timeout=0.5, sender="x@y.example")
        with pytest.raises(MailDeliveryError, match=r"no answer within 0.5 s") as info:
            mailer.send(OutgoingMail(to=("a@b.example",), subject="s", text="t"))
        assert not info.value.permanent
    finally:
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        listener.close()


@pytest.mark.parametrize("code", [451, 554])
def test_server_reply_echoing_the_password_is_scrubbed(cert, caplog, code):
    echoed = base64.b64encode(f"\0panelslot\0{PASSWORD}".encode()).decode()
    reply = f"{code} 5.7.1 policy says no to {PASSWORD} / {echoed}"
    with (
        SMTPTestServer(
            tls="starttls", cert=cert, users={"panelslot": PASSWORD}, data_reply=reply
        ) as server,
        pytest.raises(MailDeliveryError) as info,
    ):
        tls_mailer(server, cert).send(OutgoingMail(to=("a@b.example",), subject="s", text="t"))
    error = info.value
    assert error.permanent is (code >= 500)
    assert f"the server answered {code}" in str(error) and "policy says no to ***" in str(error)
    assert echoed not in str(error)
    assert_no_secret(error, caplog)
