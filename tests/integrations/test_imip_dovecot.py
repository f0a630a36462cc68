"""read_replies against a real Dovecot on loopback: REPLY mails put in with IMAP APPEND.

Each test uses its own folder of one mailbox user, so one Dovecot serves the module.
"""

from __future__ import annotations

import itertools
import os
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from integrations.imip import ImapError, ImapSettings, MailboxRead, read_replies
from integrations.invites import Participant, SessionTime, invite_request, session_uid
from tests.integrations.dovecot_server import (
    DovecotServer,
    dovecot_binary,
    start_dovecot,
)
from tests.integrations.imip_mail import plain_mail, reply_ics, reply_mail, reply_to_request

IN_CI = os.environ.get("CI", "").lower() == "true"
USER, PASSWORD = "organiser", "Pa55-not-for-logs"
UID = "session-17-2@panelslot.example.com"
OTHER_UID = "session-18-1@panelslot.example.com"
ALICE, BOB = "alice@acme.example", "bob@acme.example"
_folders = itertools.count(1)


def _need_dovecot() -> None:
    if dovecot_binary() is None:
        if IN_CI:
            pytest.fail("CI=true but dovecot is not installed (apt-get install -y dovecot-imapd)")
        pytest.skip("dovecot not installed: apt-get install -y dovecot-imapd")


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    _need_dovecot()
    server = start_dovecot({USER: PASSWORD})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dovecot_without_move() -> Iterator[DovecotServer]:
    """Announces no MOVE after login (older servers): moving is COPY, \\Deleted, UID EXPUNGE."""
    _need_dovecot()
    server = start_dovecot({USER: PASSWORD}, capability="IMAP4rev1 LITERAL+ UIDPLUS")
    yield server
    server.stop()


@pytest.fixture
def folder() -> str:
    return f"Test{next(_folders)}"


def settings(server: DovecotServer, folder: str, **kw: object) -> ImapSettings:
    options: dict[str, object] = {"port": server.port, "security": "none", "mailbox": folder}
    options.update(kw)
    return ImapSettings(host="127.0.0.1", username=USER, password=PASSWORD, **options)  # type: ignore[arg-type]


def decline(uid: str = UID, who: str = ALICE, sequence: int = 2, **kw: object) -> bytes:
    partstat = str(kw.pop("partstat", "DECLINED"))
    return reply_mail(reply_ics(uid, who, partstat, sequence=sequence, **kw), sender=who)  # type: ignore[arg-type]


def flags_and_count(server: DovecotServer, folder: str) -> list[bytes]:
    conn = server.client(USER)
    try:
        typ, data = conn.select(f'"{folder}"', readonly=True)
        assert typ == "OK", data
        if int(data[0] or 0) == 0:
            return []
        typ, found = conn.fetch("1:*", "(FLAGS)")
        return [item for item in found if isinstance(item, bytes)]
    finally:
        conn.logout()


def test_a_decline_is_read_once(dovecot: DovecotServer, folder: str) -> None:
    dovecot.deliver(USER, decline(), mailbox=folder)
    first = read_replies(settings(dovecot, folder), {UID: 2})
    assert [(a.uid, a.sequence, a.attendee, a.partstat) for a in first.answers] == [
        (UID, 2, ALICE, "DECLINED")
    ]
    assert first.answers[0].dtstamp == datetime(2027, 2, 20, 9, 30, tzinfo=UTC)
    assert (first.stale, first.skipped, first.left) == ((), (), 0)
    assert all(b"\\Seen" in line for line in flags_and_count(dovecot, folder))
    again = read_replies(settings(dovecot, folder), {UID: 2})
    assert again.answers == () and again.skipped == ()


def test_stale_unknown_and_bad_messages_never_stop_the_read(
    dovecot: DovecotServer, folder: str
) -> None:
    mails = [
        decline(sequence=1, partstat="ACCEPTED"),  # answered the invite before the reschedule
        decline(uid="not-ours@elsewhere.example"),
        plain_mail(BOB),
        reply_mail("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nbroken", sender=BOB),
        decline(who=BOB, sequence=0, uid=OTHER_UID),
        decline(),
    ]
    for mail in mails:
        dovecot.deliver(USER, mail, mailbox=folder)
    got = read_replies(settings(dovecot, folder), {UID: 2, OTHER_UID: 0})
    assert sorted((a.uid, a.attendee, a.partstat) for a in got.answers) == [
        (UID, ALICE, "DECLINED"),
        (OTHER_UID, BOB, "DECLINED"),
    ]
    assert [(a.sequence, a.partstat) for a in got.stale] == [(1, "ACCEPTED")]
    reasons = sorted(s.reason for s in got.skipped)
    assert len(reasons) == 3
    assert any("no interview sent" in r for r in reasons)
    assert any("no text/calendar part" in r for r in reasons)
    assert any("cannot be read" in r for r in reasons)
    assert len(flags_and_count(dovecot, folder)) == 6  # nothing moved without a folder for it
    assert read_replies(settings(dovecot, folder), {UID: 2}).skipped == ()  # each read once


def test_the_latest_answer_of_an_attendee_wins(dovecot: DovecotServer, folder: str) -> None:
    dovecot.deliver(
        USER, decline(partstat="ACCEPTED", dtstamp=datetime(2027, 2, 1, tzinfo=UTC)), folder
    )
    dovecot.deliver(USER, decline(dtstamp=datetime(2027, 2, 3, tzinfo=UTC)), folder)
    dovecot.deliver(
        USER, decline(partstat="TENTATIVE", dtstamp=datetime(2027, 2, 2, tzinfo=UTC)), folder
    )
    got = read_replies(settings(dovecot, folder), {UID: 2})
    assert [a.partstat for a in got.answers] == ["DECLINED"]


def test_processed_replies_are_moved_and_other_mail_stays(
    dovecot: DovecotServer, folder: str
) -> None:
    dovecot.deliver(USER, plain_mail(BOB), mailbox=folder)
    dovecot.deliver(USER, decline(), mailbox=folder)
    dovecot.deliver(USER, decline(sequence=1), mailbox=folder)
    done = f"{folder}-done"
    got = read_replies(settings(dovecot, folder, processed_mailbox=done), {UID: 2})
    assert len(got.answers) == 1 and len(got.stale) == 1
    assert len(flags_and_count(dovecot, folder)) == 1  # the human's mail, now seen
    assert len(flags_and_count(dovecot, done)) == 2


def test_moving_without_the_move_extension(
    dovecot_without_move: DovecotServer, folder: str
) -> None:
    server = dovecot_without_move
    server.deliver(USER, decline(), mailbox=folder)
    server.deliver(USER, plain_mail(BOB), mailbox=folder)
    done = f"{folder}-done"
    got = read_replies(settings(server, folder, processed_mailbox=done), {UID: 2})
    assert len(got.answers) == 1
    assert len(flags_and_count(server, folder)) == 1
    assert len(flags_and_count(server, done)) == 1


def test_a_full_mailbox_is_read_in_batches(dovecot: DovecotServer, folder: str) -> None:
    uids = [f"session-{n}@panelslot.example.com" for n in range(5)]
    for uid in uids:
        dovecot.deliver(USER, decline(uid=uid, sequence=0), mailbox=folder)
    expected = dict.fromkeys(uids, 0)
    first = read_replies(settings(dovecot, folder, max_messages=3), expected)
    second = read_replies(settings(dovecot, folder, max_messages=3), expected)
    assert (len(first.answers), first.left, len(second.answers), second.left) == (3, 2, 2, 0)
    assert {a.uid for a in first.answers + second.answers} == set(uids)


def test_an_oversized_message_is_skipped_unread(dovecot: DovecotServer, folder: str) -> None:
    dovecot.deliver(USER, decline(), mailbox=folder)
    got = read_replies(settings(dovecot, folder, max_bytes=200), {UID: 2})
    assert got.answers == ()
    assert "over the 200 limit" in got.skipped[0].reason


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_the_servers_certificate(
    dovecot: DovecotServer, folder: str, security: str
) -> None:
    dovecot.deliver(USER, decline(), mailbox=folder)
    port = dovecot.tls_port if security == "ssl" else dovecot.port
    options = {"security": security, "port": port, "tls_context": dovecot.cert.client_context()}
    got = read_replies(settings(dovecot, folder, **options), {UID: 2})
    assert [a.partstat for a in got.answers] == ["DECLINED"]


def test_an_untrusted_certificate_is_refused(dovecot: DovecotServer, folder: str) -> None:
    untrusted = ssl.create_default_context()  # the system's CAs do not know the test cert
    options = {"security": "ssl", "port": dovecot.tls_port, "tls_context": untrusted}
    with pytest.raises(ImapError) as caught:
        read_replies(settings(dovecot, folder, **options), {UID: 2})
    assert not caught.value.permanent
    assert "SSLCertVerificationError" in caught.value.message


def test_a_wrong_password_is_a_permanent_error(dovecot: DovecotServer, folder: str) -> None:
    bad = ImapSettings(
        host="127.0.0.1", port=dovecot.port, security="none", username=USER, password="wrong-pw"
    )
    with pytest.raises(ImapError) as caught:
        read_replies(bad, {UID: 2})
    assert caught.value.permanent
    assert "wrong-pw" not in str(caught.value)


def test_a_missing_folder_and_a_closed_port_are_errors(
    dovecot: DovecotServer, folder: str, refused_port: int
) -> None:
    with pytest.raises(ImapError, match="open the folder"):
        read_replies(settings(dovecot, "NoSuchFolder"), {UID: 2})
    with pytest.raises(ImapError, match="could not talk"):
        read_replies(settings(dovecot, folder, port=refused_port), {UID: 2})


def test_a_reply_to_panelslots_own_invite_round_trips(dovecot: DovecotServer, folder: str) -> None:
    organizer = Participant("recruiting@acme.example", "Acme Recruiting")
    uid = session_uid(17, 0, "panelslot.example.com")
    start = datetime(2027, 3, 1, 15, tzinfo=UTC)

    def request(sequence: int, hour: int) -> bytes:
        moved = start.replace(hour=hour)
        session = SessionTime(
            uid,
            "Systems design",
            moved,
            moved + timedelta(hours=1),
            attendees=(Participant(ALICE, "Alice"),),
        )
        return invite_request(
            [session],
            organizer=organizer,
            attendees=[Participant("asha@mail.example", "Asha")],
            sequence=sequence,
            now=start - timedelta(days=9),
            summary="Interview",
        )

    first, moved = request(0, 15), request(1, 16)  # then rescheduled: SEQUENCE 1
    answered = start - timedelta(days=8)
    for sent, partstat in ((first, "ACCEPTED"), (moved, "DECLINED")):
        ics = reply_to_request(sent, ALICE, partstat, now=answered)
        dovecot.deliver(USER, reply_mail(ics, sender=ALICE), mailbox=folder)
    got = read_replies(settings(dovecot, folder), {uid: 1})
    assert [(a.uid, a.sequence, a.attendee, a.partstat) for a in got.answers] == [
        (uid, 1, ALICE, "DECLINED")
    ]
    assert [(a.sequence, a.partstat) for a in got.stale] == [(0, "ACCEPTED")]


def test_answers_that_could_not_be_stored_come_back(dovecot: DovecotServer, folder: str) -> None:
    dovecot.deliver(USER, decline(), mailbox=folder)

    def store_fails(read: MailboxRead) -> None:
        assert len(read.answers) == 1
        raise RuntimeError("the database is down")

    with pytest.raises(RuntimeError):
        read_replies(settings(dovecot, folder), {UID: 2}, on_read=store_fails)
    stored: list[MailboxRead] = []
    again = read_replies(settings(dovecot, folder), {UID: 2}, on_read=stored.append)
    assert [a.partstat for a in again.answers] == ["DECLINED"] and stored == [again]
    assert read_replies(settings(dovecot, folder), {UID: 2}).answers == ()
