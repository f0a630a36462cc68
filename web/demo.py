"""The demo company: six interviewers in six zones, calendars made relative to today, two loops."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from scheduler.engine import pick_diverse
from web.domain import services
from web.domain.sync.sync import sync_interviewer
from web.store.models import (
    CalendarSource,
    Coordinator,
    Interviewer,
    Loop,
    LoopSession,
    OfferedOption,
    OutboxMail,
    SchedulingRequest,
)
from web.ui.auth import hash_password

WEEKDAYS_9_17 = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}

PEOPLE = (
    (
        "amara",
        "Amara Okafor",
        "Africa/Lagos",
        {d: ["08:30-12:30", "13:30-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        3,
    ),
    ("ben", "Ben Lindqvist", "Europe/London", WEEKDAYS_9_17, None),
    (
        "chiara",
        "Chiara Rossi",
        "Europe/Rome",
        {d: ["08:00-16:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        4,
    ),
    (
        "devi",
        "Devi Raman",
        "Asia/Kolkata",
        {d: ["10:00-19:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        None,
    ),
    ("eli", "Eli Goldberg", "America/New_York", {**WEEKDAYS_9_17, "fri": ["09:00-13:00"]}, None),
    (
        "flor",
        "Florencia Díaz",
        "America/Sao_Paulo",
        {d: ["08:00-15:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        3,
    ),
)


@dataclass(frozen=True)
class DemoSeed:
    coordinator_email: str
    coordinator_password: str
    request_id: int


def _ics_events(key: str, tz: str, today: date, days: int = 45) -> str:
    """A calendar with a recurring stand-up and seeded meetings in the interviewer's zone."""
    rnd = random.Random(f"panelslot-demo-{key}")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//panelslot//demo//EN",
        f"X-WR-CALNAME:{key} (demo)",
    ]
    start = today - timedelta(days=3)
    stamp = "20250101T000000Z"
    lines += [
        "BEGIN:VEVENT",
        f"UID:standup-{key}@demo.panelslot",
        f"DTSTAMP:{stamp}",
        f"DTSTART;TZID={tz}:{start:%Y%m%d}T093000",
        f"DTEND;TZID={tz}:{start:%Y%m%d}T094500",
        "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        "SUMMARY:Team stand-up",
        "END:VEVENT",
    ]
    n = 0
    for offset in range(-3, days):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for _ in range(rnd.randint(1, 3)):
            hour = rnd.choice((10, 11, 13, 14, 15, 16))
            minute = rnd.choice((0, 30))
            length = rnd.choice((30, 60, 90))
            t0 = datetime.combine(day, time(hour, minute))  # wall time; written with TZID
            t1 = t0 + timedelta(minutes=length)
            n += 1
            lines += [
                "BEGIN:VEVENT",
                f"UID:meeting-{key}-{n}@demo.panelslot",
                f"DTSTAMP:{stamp}",
                f"DTSTART;TZID={tz}:{t0:%Y%m%dT%H%M%S}",
                f"DTEND;TZID={tz}:{t1:%Y%m%dT%H%M%S}",
                f"SUMMARY:{rnd.choice(('1:1', 'Planning', 'Design review', 'Customer call'))}",
                "END:VEVENT",
            ]
        if rnd.random() < 0.08:
            lines += [
                "BEGIN:VEVENT",
                f"UID:ooo-{key}-{offset}@demo.panelslot",
                f"DTSTAMP:{stamp}",
                f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
                "SUMMARY:Out of office",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def seed(
    s: Session,
    folder: Path,
    now: datetime,
    *,
    secret_key: str,
    public_url: str,
    password: str | None = None,
) -> DemoSeed:
    """Fill an empty database with the demo company and one sent request."""
    people = _seed_people(s, folder / "calendars", now)
    onsite, screen = _onsite_loop(people), _screen_loop(people)
    s.add_all([onsite, screen])
    pw = password or secrets.token_urlsafe(9)
    coord = Coordinator(
        email="demo@panelslot.example",
        name="Dana (demo coordinator)",
        password_hash=hash_password(pw),
        timezone="Europe/London",
    )
    s.add(coord)
    s.flush()
    req = _sent_request(s, coord, onsite, now)
    link = public_url.rstrip("/") + "/c/" + services.candidate_token(secret_key, req, now=now)
    mail: OutboxMail = services.candidate_mail(req, link, coord.name)
    mail.next_attempt_at = now
    s.add(mail)
    s.flush()
    assert all(isinstance(o, OfferedOption) for o in req.options)
    return DemoSeed(coord.email, pw, req.id)


def _seed_people(s: Session, cal_dir: Path, now: datetime) -> dict[str, Interviewer]:
    """The demo interviewers, each with an ICS file of their own week, synced."""
    cal_dir.mkdir(parents=True, exist_ok=True)
    people: dict[str, Interviewer] = {}
    for key, name, tz, hours, cap in PEOPLE:
        path = cal_dir / f"{key}.ics"
        path.write_text(_ics_events(key, tz, now.astimezone(ZoneInfo(tz)).date()), encoding="utf-8")
        row = Interviewer(
            key=key,
            name=name,
            email=f"{key}@demo.panelslot.example",
            timezone=tz,
            working_hours=hours,
            max_interviews_per_day=cap,
            link_nonce=services.new_nonce(),
        )
        row.calendars.append(
            CalendarSource(kind="ics", label=f"{key}.ics", url=str(path.resolve()))
        )
        s.add(row)
        people[key] = row
    s.flush()
    for row in people.values():
        sync_interviewer(s, row, now)
    return people


ONSITE_SESSIONS = (
    ("System design", 60, ("amara", "ben", "chiara"), 1),
    ("Coding", 45, ("ben", "devi", "eli", "amara"), 1),
    ("Values", 30, ("chiara", "flor", "eli"), 1),
)


def _onsite_loop(people: dict[str, Interviewer]) -> Loop:
    onsite = Loop(
        key="onsite",
        name="Backend onsite",
        order="fixed",
        min_gap_minutes=0,
        max_gap_minutes=15,
        min_notice_hours=24,
        buffer_after_minutes=10,
        video_url_template="https://meet.example.com/panelslot-{request}",
    )
    for pos, (sname, minutes, pool, required) in enumerate(ONSITE_SESSIONS):
        onsite.sessions.append(
            LoopSession(
                position=pos,
                name=sname,
                duration_minutes=minutes,
                required=required,
                pool=[people[k] for k in pool],
            )
        )
    return onsite


def _screen_loop(people: dict[str, Interviewer]) -> Loop:
    screen = Loop(
        key="screen",
        name="Phone screen with two",
        order="any",
        max_gap_minutes=30,
        min_notice_hours=12,
    )
    screen.sessions.append(
        LoopSession(
            position=0,
            name="Pair interview",
            duration_minutes=45,
            required=2,
            pool=[people[k] for k in ("devi", "flor", "eli")],
        )
    )
    return screen


def _sent_request(s: Session, coord: Coordinator, onsite: Loop, now: datetime) -> SchedulingRequest:
    """Priya's request for the onsite, searched, with five options offered and held."""
    today = now.astimezone(UTC).date()
    date_from, date_to = today + timedelta(days=2), today + timedelta(days=12)
    hours = (9 * 60, 21 * 60)
    result = services.search(
        s,
        onsite,
        candidate_tz="Asia/Kolkata",
        date_from=date_from,
        date_to=date_to,
        hours=hours,
        now=now,
        limit=20,
    )
    req = SchedulingRequest(
        coordinator_id=coord.id,
        loop=onsite,
        candidate_name="Priya Sharma",
        candidate_email="priya.sharma@candidate.example",
        candidate_tz="Asia/Kolkata",
        date_from=date_from,
        date_to=date_to,
        candidate_hours_start=hours[0],
        candidate_hours_end=hours[1],
        note="Looking forward to meeting you!",
        status="sent",
        token_nonce=services.new_nonce(),
        created_at=now,
        sent_at=now,
        expires_at=now + timedelta(days=14),
    )
    s.add(req)
    s.flush()
    offered = pick_diverse(result.options, 5, req.candidate_tz or "UTC")
    services.offer(s, req, offered, hold_until=req.expires_at)
    s.flush()
    s.refresh(req, ["options"])
    return req
