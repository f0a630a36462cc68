"""Message building, the memory and directory mailers, settings checks and the retry schedule."""

from __future__ import annotations

import email.policy
from datetime import UTC, datetime, timedelta
from email import message_from_bytes

import pytest
from icalendar import Calendar

from integrations.errors import MailError
from integrations.invites import Participant, SessionTime, invite_request
from integrations.mail import (
    DirectoryMailer,
    MailConfigError,
    MailContentError,
    MailDeliveryError,
    MemoryMailer,
    NullMailer,
    OutgoingMail,
    RetryPolicy,
    SMTPMailer,
    build_message,
    is_permanent,
    make_mailer,
    next_attempt,
    read_outbox,
    retry_at,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def ics(method: str = "REQUEST") -> bytes:
    s = SessionTime("s0@panelslot.example", "Coding", START, START + timedelta(hours=1))
    return invite_request(
        [s],
        organizer=Participant("org@acme.example"),
        attendees=[Participant("cand@mail.example", "Cand Idate")],
        sequence=0,
        now=NOW,
        summary="Interview",
        method=method,  # type: ignore[arg-type]
    )


def mail(**changes) -> OutgoingMail:
    fields = {
        "to": ["Cand Idate <cand@mail.example>"],
        "subject": "Your interview — Tuesday",
        "text": "Hello Cand,\nsee you on Tuesday.",
        "html": "<p>Hello Cand, see you on <b>Tuesday</b>.</p>",
        "sender": "Acme Recruiting <recruiting@acme.example>",
    }
    fields.update(changes)
    return OutgoingMail(**fields)


def test_invite_mail_layout_is_mixed_with_alternative_and_calendar_parts():
    data = ics()
    msg = build_message(
        mail(ics=data, cc=["hr@acme.example"], reply_to="coord@acme.example"), date=NOW
    )
    raw = msg.as_bytes(policy=email.policy.SMTP)
    parsed = message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    alternative, attachment = parsed.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    calendar = alternative.get_payload()[2]
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content_charset() == "utf-8"
    assert calendar.get_payload(decode=True) == data
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_payload(decode=True) == data
    assert Calendar.from_ical(calendar.get_payload(decode=True))["METHOD"] == "REQUEST"
    assert parsed["Subject"] == "Your interview — Tuesday"
    assert parsed["Cc"] == "hr@acme.example"
    assert parsed["Reply-To"] == "coord@acme.example"
    assert parsed["Date"] == "Sat, 28 Nov 2026 12:00:00 +0000"
    assert parsed["Message-ID"].endswith("@panelslot.local>")
    plain = parsed.get_body(("plain",)).get_content()
    assert plain.splitlines() == ["Hello Cand,", "see you on Tuesday."]


def test_cancel_mail_says_method_cancel_in_the_content_type():
    msg = build_message(mail(ics=ics("CANCEL"), html=None), date=NOW)  # method read from the file
    [calendar] = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert calendar.get_param("method") == "CANCEL"
    assert (
        msg.get_body(("html",)) is None or msg.get_body(("html",)).get_content_type() != "text/html"
    )


def test_plain_and_alternative_mails_without_invite():
    assert build_message(mail(html=None), date=NOW).get_content_type() == "text/plain"
    assert build_message(mail(), date=NOW).get_content_type() == "multipart/alternative"


def test_extra_headers_and_stable_message_id():
    msg = build_message(
        mail(headers={"X-Panelslot-Booking": "42"}, message_id="<outbox-9@panelslot.example>"),
        date=NOW,
    )
    assert msg["X-Panelslot-Booking"] == "42"
    assert msg["Message-ID"] == "<outbox-9@panelslot.example>"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"to": []}, "to"),
        ({"to": ["no-at-sign"]}, "to"),
        ({"to": ["a@b.example\r\nBcc: victim@x.example"]}, "to"),
        ({"cc": ["bad address@x"]}, "cc"),
        ({"sender": ""}, "sender"),
        ({"subject": "Hi\r\nBcc: victim@x.example"}, "subject"),
        ({"headers": {"Bcc": "victim@x.example"}}, "headers"),
        ({"headers": {"X-Note": "a\nBcc: victim@x.example"}}, "headers[X-Note]"),
        ({"headers": {"X Bad": "1"}}, "headers"),
        ({"ics": b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "ics_method": "REPLY"}, "ics_method"),
        ({"ics": b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}, "ics_method"),
        ({"ics": ics("CANCEL"), "ics_method": "REQUEST"}, "ics_method"),
    ],
)
def test_bad_mails_are_refused_with_the_field_named(changes, field):
    with pytest.raises(MailContentError) as info:
        build_message(mail(**changes), date=NOW)
    assert info.value.field == field
    assert is_permanent(info.value)


def test_sender_falls_back_to_the_mailer_default():
    msg = build_message(mail(sender=""), date=NOW, sender="noreply@acme.example")
    assert msg["From"] == "noreply@acme.example"


def test_memory_mailer_keeps_mails_and_can_fail_on_purpose():
    mailer = MemoryMailer(clock=lambda: NOW, fail_next=1)
    with pytest.raises(MailDeliveryError) as info:
        mailer.send(mail())
    assert not info.value.permanent
    assert mailer.sent == []
    mailer.send(mail(ics=ics()))
    assert len(mailer.sent) == 1 and mailer.sent[0].subject == "Your interview — Tuesday"
    assert mailer.messages[0].get_content_type() == "multipart/mixed"


def test_directory_mailer_writes_eml_files_the_outbox_reads_back(tmp_path):
    times = iter([NOW, NOW + timedelta(seconds=1)])
    mailer = DirectoryMailer(tmp_path / "outbox", clock=lambda: next(times))
    mailer.send(mail(subject="first"))
    mailer.send(mail(subject="second", ics=ics()))
    files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert len(files) == 2 and all(f.endswith(".eml") for f in files)
    assert files[0].startswith("20261128T120000000000Z-")
    stored = read_outbox(tmp_path / "outbox")
    assert [s.subject for s in stored] == ["second", "first"]  # newest first
    assert stored[0].to == ("cand@mail.example",)
    assert stored[0].calendar_method == "REQUEST"
    assert stored[0].ics == ics()
    assert stored[0].date == NOW + timedelta(seconds=1)
    assert stored[1].calendar_method is None and "see you on Tuesday" in stored[1].text
    assert stored[1].html is not None and "<b>Tuesday</b>" in stored[1].html
    assert read_outbox(tmp_path / "outbox", limit=1)[0].subject == "second"
    assert read_outbox(tmp_path / "missing") == []


def test_directory_mailer_path_that_is_a_file_is_a_mail_error(tmp_path):
    blocker = tmp_path / "outbox"
    blocker.write_text("not a folder")
    with pytest.raises(MailError, match="cannot write the outbox file") as info:
        DirectoryMailer(blocker).send(mail())
    assert str(blocker) in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"host": ""}, "mail.smtp_host"),
        ({"host": "mail.example", "port": 0}, "mail.smtp_port"),
        ({"host": "mail.example", "security": "tls"}, "mail.smtp_security"),
        ({"host": "mail.example", "timeout": 0}, "mail.smtp_timeout"),
        (
            {"host": "mail.example", "security": "none", "username": "u", "password": "hunter2"},
            "mail.smtp_security",
        ),
        ({"host": "mail.example", "username": "u"}, "mail.smtp_username"),
    ],
)
def test_smtp_settings_are_checked_up_front(kwargs, field):
    with pytest.raises(MailConfigError) as info:
        SMTPMailer(**kwargs)
    assert info.value.field == field
    assert "hunter2" not in str(info.value)


def test_password_comes_from_the_environment_and_never_shows():
    env = {"PANELSLOT_MAIL_SMTP_USERNAME": "bot", "PANELSLOT_MAIL_SMTP_PASSWORD": "hunter2-secret"}
    mailer = SMTPMailer.from_environ(env, host="mail.example", port=465, security="ssl")
    assert mailer.username == "bot" and mailer.password == "hunter2-secret"
    assert "hunter2" not in repr(mailer)
    assert mailer.target == "smtps://mail.example:465"
    assert SMTPMailer.from_environ({}, host="relay.local", security="none").password is None


def test_backoff_grows_then_caps_and_gives_up():
    policy = RetryPolicy(
        base=timedelta(seconds=30), factor=2, max_delay=timedelta(minutes=10), max_attempts=8
    )
    middle = [next_attempt(n, NOW, policy=policy, rand=lambda: 0.5) for n in range(1, 8)]
    delays = [(t - NOW).total_seconds() for t in middle if t is not None]
    assert delays == [30, 60, 120, 240, 480, 600, 600]
    assert next_attempt(8, NOW, policy=policy) is None
    with pytest.raises(ValueError):
        next_attempt(0, NOW)


def test_jitter_spreads_delays_within_bounds():
    policy = RetryPolicy(base=timedelta(seconds=100), jitter=0.2, max_delay=timedelta(hours=1))
    low = next_attempt(1, NOW, policy=policy, rand=lambda: 0.0)
    high = next_attempt(1, NOW, policy=policy, rand=lambda: 0.999999)
    assert low == NOW + timedelta(seconds=80)
    assert high is not None and NOW + timedelta(seconds=119) < high <= NOW + timedelta(seconds=120)
    capped = next_attempt(7, NOW, policy=policy, rand=lambda: 0.999999)
    assert capped is not None and capped - NOW <= policy.max_delay


def test_permanent_errors_are_not_retried():
    temporary = MailDeliveryError("smtp://h:25", "connection refused", permanent=False)
    permanent = MailDeliveryError("smtp://h:25", "login refused", permanent=True)
    assert retry_at(temporary, 1, NOW, rand=lambda: 0.5) == NOW + timedelta(seconds=30)
    assert retry_at(permanent, 1, NOW) is None
    assert retry_at(MailConfigError("mail.smtp_host", "", "x"), 1, NOW) is None


def test_make_mailer_follows_the_mail_settings(tmp_path):
    smtp = make_mailer(
        "smtp",
        from_address="hr@acme.example",
        smtp_host="mail.acme.example",
        smtp_port=465,
        smtp_security="ssl",
        smtp_username="bot",
        smtp_password="hunter2-secret",
    )
    assert isinstance(smtp, SMTPMailer) and smtp.target == "smtps://mail.acme.example:465"
    assert smtp.sender == "hr@acme.example" and "hunter2" not in repr(smtp)
    folder = make_mailer("file", from_address="hr@acme.example", outbox_dir=tmp_path / "out")
    assert isinstance(folder, DirectoryMailer)
    folder.send(mail(sender=""))
    assert read_outbox(tmp_path / "out")[0].sender == "hr@acme.example"
    null = make_mailer("none", from_address="hr@acme.example")
    assert isinstance(null, NullMailer)
    null.send(mail())
    assert null.dropped == 1
    with pytest.raises(MailConfigError) as info:
        make_mailer("carrier-pigeon", from_address="hr@acme.example")
    assert info.value.field == "mail.sender"
    with pytest.raises(MailConfigError) as info:
        make_mailer("smtp", from_address="hr@acme.example", smtp_security="tls")
    assert info.value.field == "mail.smtp_security"
