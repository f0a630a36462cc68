"""iMIP REPLY mails shaped like the ones calendar clients send (RFC 5546 section 3.2.3,
RFC 6047): ``multipart/alternative`` with a text part and a ``text/calendar;
method=REPLY`` part whose VEVENT has UID, SEQUENCE, DTSTAMP, ORGANIZER and exactly one
ATTENDEE (the one answering) with its PARTSTAT."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import icalendar

ORGANISER = "recruiting@acme.example"


def reply_ics(
    uid: str,
    attendee: str,
    partstat: str,
    *,
    sequence: int | None = 0,
    dtstamp: datetime = datetime(2027, 2, 20, 9, 30, tzinfo=UTC),
    method: str = "REPLY",
    extra_attendees: tuple[str, ...] = (),
    recurrence_id: str | None = None,
) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Example Client//Calendar 1.0//EN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{dtstamp.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        "DTSTART:20270301T150000Z",
        "DTEND:20270301T160000Z",
        "SUMMARY:Interview: Asha Rao (Systems design)",
        f"ORGANIZER;CN=Acme Recruiting:mailto:{ORGANISER}",
        f"ATTENDEE;PARTSTAT={partstat};CN=Interviewer:mailto:{attendee}",
    ]
    lines += [f"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:{other}" for other in extra_attendees]
    if sequence is not None:
        lines.append(f"SEQUENCE:{sequence}")
    if recurrence_id is not None:
        lines.append(f"RECURRENCE-ID:{recurrence_id}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(lines) + "\r\n"


def reply_mail(
    ics: str,
    *,
    sender: str,
    subject: str = "Declined: Interview",
    cte: str = "7bit",
    as_attachment: bool = False,
) -> bytes:
    """A whole message; ``cte`` is the calendar part's transfer encoding."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ORGANISER
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2027, 2, 20, 9, 31, tzinfo=UTC))
    message["Message-ID"] = f"<{abs(hash((ics, sender)))}@client.example>"
    message.set_content(f"{sender} has answered the invitation.")
    method = "REPLY"
    for line in ics.splitlines():
        if line.startswith("METHOD:"):
            method = line.split(":", 1)[1]
    if as_attachment:
        message.add_attachment(
            ics.encode("utf-8"), maintype="application", subtype="ics", filename="invite.ics"
        )
    else:
        message.add_alternative(ics, subtype="calendar", cte=cte)
        message.get_payload()[-1].set_param("method", method)
    return message.as_bytes()


def plain_mail(sender: str, text: str = "Can we talk about the schedule?") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ORGANISER
    message["Subject"] = "A question"
    message.set_content(text)
    return message.as_bytes()


def reply_to_request(request: bytes, attendee: str, partstat: str, *, now: datetime) -> str:
    """The REPLY a client makes from a REQUEST it received: same UID, SEQUENCE, times and
    ORGANIZER; only the answering ATTENDEE, with its PARTSTAT; a fresh DTSTAMP."""
    received = icalendar.Calendar.from_ical(request)
    (event,) = received.walk("VEVENT")
    answer = icalendar.Calendar()
    answer.add("prodid", "-//Example Client//Calendar 1.0//EN")
    answer.add("version", "2.0")
    answer.add("method", "REPLY")
    vevent = icalendar.Event()
    for name in ("UID", "SEQUENCE", "DTSTART", "DTEND", "SUMMARY", "ORGANIZER"):
        if name in event:
            vevent.add(name, event[name], encode=False)
    vevent.add("dtstamp", now)
    (own,) = [a for a in event.get("ATTENDEE", []) if str(a).lower() == f"mailto:{attendee}"]
    line = icalendar.vCalAddress(str(own))
    line.params["PARTSTAT"] = partstat
    vevent.add("attendee", line, encode=False)
    answer.add_component(vevent)
    return answer.to_ical().decode("utf-8")
