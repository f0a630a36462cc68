"""iMIP REPLY parsing and matching (no server): :func:`parse_reply`, :func:`match_replies`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.calendars.base import AttendeeResponse, latest_responses
from integrations.imip import (
    ImapConfigError,
    ImapSettings,
    ReplyRejected,
    match_replies,
    parse_reply,
)
from tests.integrations.imip_mail import plain_mail, reply_ics, reply_mail

UID = "session-17-2@panelslot.example.com"
ALICE = "alice@acme.example"


def answer(uid: str = UID, sequence: int = 0, who: str = ALICE, **kw: object) -> AttendeeResponse:
    return AttendeeResponse(uid, sequence, who, str(kw.get("partstat", "DECLINED")))


@pytest.mark.parametrize("cte", ["7bit", "base64", "quoted-printable"])
def test_a_decline_is_read_whatever_the_transfer_encoding(cte: str) -> None:
    ics = reply_ics(UID, "Alice@Acme.Example", "DECLINED", sequence=2)
    got = parse_reply(reply_mail(ics, sender=f"Alice <{ALICE}>", cte=cte))
    assert got == AttendeeResponse(
        UID, 2, ALICE, "DECLINED", datetime(2027, 2, 20, 9, 30, tzinfo=UTC), "imip"
    )
    assert got.declined


def test_an_ics_attachment_counts_too() -> None:
    ics = reply_ics(UID, ALICE, "ACCEPTED")
    got = parse_reply(reply_mail(ics, sender=ALICE, as_attachment=True))
    assert (got.partstat, got.sequence) == ("ACCEPTED", 0)


def test_a_missing_sequence_is_zero() -> None:
    got = parse_reply(reply_mail(reply_ics(UID, ALICE, "TENTATIVE", sequence=None), sender=ALICE))
    assert (got.sequence, got.partstat) == (0, "TENTATIVE")


def test_several_attendees_the_senders_line_is_the_answer() -> None:
    ics = reply_ics(UID, ALICE, "DECLINED", extra_attendees=("bob@acme.example",))
    assert parse_reply(reply_mail(ics, sender=ALICE)).attendee == ALICE
    with pytest.raises(ReplyRejected, match="none is the sender"):
        parse_reply(reply_mail(ics, sender="mallory@evil.example"))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (plain_mail(ALICE), "no text/calendar part"),
        (reply_mail(reply_ics(UID, ALICE, "DECLINED", method="REQUEST"), sender=ALICE), "REQUEST"),
        (
            reply_mail(
                reply_ics(UID, ALICE, "DECLINED").replace("SEQUENCE:0", "SEQUENCE:x"), sender=ALICE
            ),
            "not a number",
        ),
        (
            reply_mail(
                reply_ics(UID, ALICE, "DECLINED", recurrence_id="20270301T150000Z"), sender=ALICE
            ),
            "RECURRENCE-ID",
        ),
        (
            reply_mail(
                reply_ics(UID, ALICE, "DECLINED").replace(f"UID:{UID}\r\n", ""), sender=ALICE
            ),
            "UID",
        ),
        (reply_mail("BEGIN:VCALENDAR\r\nthis is not iCalendar", sender=ALICE), "cannot be read"),
        (b"\xff\xfe\x00garbage without headers", "no text/calendar part"),
    ],
    ids=["plain", "request", "bad-sequence", "instance-only", "no-uid", "garbage", "binary"],
)
def test_what_is_not_a_usable_reply_is_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ReplyRejected, match=reason):
        parse_reply(data)


def test_matching_by_uid_and_sequence() -> None:
    replies = [
        (1, answer(sequence=2)),
        (2, answer(sequence=1, partstat="ACCEPTED")),  # to the invite before the reschedule
        (3, answer(uid="someone-else@example.org")),
        (4, answer(sequence=3)),  # a SEQUENCE never sent
    ]
    current, stale, skipped = match_replies(replies, {UID: 2})
    assert current == [replies[0][1]]
    assert stale == [replies[1][1]]
    assert [(s.message_uid, "no interview" in s.reason) for s in skipped] == [(3, True), (4, False)]
    assert "never sent" in skipped[1].reason


def test_latest_answer_per_attendee_wins() -> None:
    early = AttendeeResponse(UID, 1, ALICE, "ACCEPTED", datetime(2027, 2, 1, tzinfo=UTC))
    late = AttendeeResponse(UID, 1, ALICE, "DECLINED", datetime(2027, 2, 2, tzinfo=UTC))
    bob = AttendeeResponse(UID, 1, "bob@acme.example", "ACCEPTED")
    assert latest_responses([late, bob, early]) == [late, bob]
    newer_sequence = AttendeeResponse(UID, 2, ALICE, "NEEDS-ACTION")
    assert latest_responses([late, newer_sequence]) == [newer_sequence]


def test_settings_keep_the_password_out_and_refuse_plain_text_to_other_hosts() -> None:
    settings = ImapSettings(host="127.0.0.1", username="org", password="hunter2", security="none")
    assert "hunter2" not in repr(settings)
    assert settings.target == "imap://127.0.0.1:993/INBOX"
    with pytest.raises(ImapConfigError) as caught:
        ImapSettings(host="mail.example.com", username="org", password="pw", security="none")
    assert caught.value.setting == "mail.imap_security"
    with pytest.raises(ImapConfigError):
        ImapSettings(host="mail.example.com", username="org", password="")
    with pytest.raises(ImapConfigError):
        ImapSettings(host="h", username="u", password="p", processed_mailbox="Réponses")


def test_settings_from_environ_read_the_password_there() -> None:
    env = {"PANELSLOT_MAIL_IMAP_PASSWORD": "s3cret"}
    settings = ImapSettings.from_environ(env, host="imap.example.com", username="org", port=993)
    assert settings.password == "s3cret"
    assert settings.security == "ssl"
