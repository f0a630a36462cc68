"""Interviewers: list with zone, local time and sync state; add, edit, deactivate, calendars."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tests.fixtures.webapp import get_csrf
from tests.integrations.feed_server import Static
from web.store.db import Database
from web.store.models import BusyBlock, CalendarSource, Interviewer, JobRequest

FORM = {
    "key": "farah",
    "name": "Farah Haddad",
    "email": "farah@example.com",
    "timezone": "Asia/Kathmandu",
    "working_hours": "mon-thu 09:00-17:00; fri 09:00-12:00",
    "max_interviews_per_day": "2",
}


def _id(db: Database, key: str) -> int:
    with db.session() as s:
        return s.scalar(select(Interviewer.id).where(Interviewer.key == key))  # type: ignore[return-value]


def test_list_shows_zone_local_time_and_hours(signed_in: Any) -> None:
    page = signed_in.get("/interviewers").get_data(as_text=True)
    # NOW is Monday 2027-03-01 09:00 UTC
    assert "Asia/Kolkata" in page and "Mon 14:30" in page and "UTC+05:30" in page
    assert "America/New_York" in page and "Mon 04:00" in page
    assert "mon-fri 10:00-19:00" in page
    assert "none" in page  # no calendars yet


def test_add_interviewer(signed_in: Any, db: Database) -> None:
    token = get_csrf(signed_in, "/interviewers/new")
    resp = signed_in.post("/interviewers/new", data={**FORM, "csrf_token": token})
    assert resp.status_code == 302
    with db.session() as s:
        row = s.scalar(select(Interviewer).where(Interviewer.key == "farah"))
        assert row is not None
        assert row.working_hours == {
            "mon": ["09:00-17:00"],
            "tue": ["09:00-17:00"],
            "wed": ["09:00-17:00"],
            "thu": ["09:00-17:00"],
            "fri": ["09:00-12:00"],
        }
        assert row.max_interviews_per_day == 2
    page = signed_in.get(resp.headers["Location"]).get_data(as_text=True)
    assert "UTC+05:45" in page and "Mon 01 Mar 14:45" in page


def test_invalid_zone_is_refused(signed_in: Any, db: Database) -> None:
    token = get_csrf(signed_in, "/interviewers/new")
    resp = signed_in.post(
        "/interviewers/new", data={**FORM, "timezone": "Mars/Olympus", "csrf_token": token}
    )
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "&#39;Mars/Olympus&#39; is not a known time zone" in body
    with db.session() as s:
        assert (
            s.scalar(
                select(func.count()).select_from(Interviewer).where(Interviewer.key == "farah")
            )
            == 0
        )


def test_bad_working_hours_are_refused(signed_in: Any) -> None:
    token = get_csrf(signed_in, "/interviewers/new")
    for bad, msg in (
        ("mon 17:00-09:00", "the end must be after the start"),
        ("mon 09:00-12:00, 11:00-13:00", "ranges overlap"),
        ("someday 09:00-17:00", "write days like mon-fri"),
        ("mon 9-5", "write a range like"),
    ):
        resp = signed_in.post(
            "/interviewers/new", data={**FORM, "working_hours": bad, "csrf_token": token}
        )
        assert resp.status_code == 400 and msg in resp.get_data(as_text=True), bad


def test_duplicate_id_is_refused(signed_in: Any) -> None:
    token = get_csrf(signed_in, "/interviewers/new")
    resp = signed_in.post("/interviewers/new", data={**FORM, "key": "alice", "csrf_token": token})
    assert resp.status_code == 400 and "an interviewer with id" in resp.get_data(as_text=True)


def test_edit_interviewer(signed_in: Any, db: Database) -> None:
    iid = _id(db, "bob")
    page = signed_in.get(f"/interviewers/{iid}/edit").get_data(as_text=True)
    assert "mon-fri 08:30-17:30" in page
    token = get_csrf(signed_in, f"/interviewers/{iid}/edit")
    data = {
        **FORM,
        "key": "bob",
        "name": "Bob L.",
        "timezone": "Europe/Dublin",
        "working_hours": "mon-fri 07:00-15:00",
        "max_interviews_per_day": "",
        "csrf_token": token,
    }
    assert signed_in.post(f"/interviewers/{iid}/edit", data=data).status_code == 302
    with db.session() as s:
        row = s.get(Interviewer, iid)
        assert row is not None and row.timezone == "Europe/Dublin" and row.name == "Bob L."
        assert row.working_hours["fri"] == ["07:00-15:00"] and row.max_interviews_per_day is None


def test_edit_unknown_interviewer_404(signed_in: Any) -> None:
    assert signed_in.get("/interviewers/999999/edit").status_code == 404


def test_deactivate_and_reactivate(signed_in: Any, db: Database) -> None:
    iid = _id(db, "eli")
    token = get_csrf(signed_in, f"/interviewers/{iid}")
    assert (
        signed_in.post(f"/interviewers/{iid}/active", data={"csrf_token": token}).status_code == 302
    )
    with db.session() as s:
        assert s.get(Interviewer, iid).active is False  # type: ignore[union-attr]
    assert ">Eli Goldberg</a>" not in signed_in.get("/interviewers").get_data(as_text=True)
    assert ">Eli Goldberg</a> (inactive)" in signed_in.get("/interviewers?show=all").get_data(
        as_text=True
    )
    signed_in.post(f"/interviewers/{iid}/active", data={"csrf_token": token})
    with db.session() as s:
        assert s.get(Interviewer, iid).active is True  # type: ignore[union-attr]


def _ics(path: Path) -> Path:
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
        "BEGIN:VEVENT\r\nUID:a@t\r\nDTSTAMP:20270101T000000Z\r\n"
        "DTSTART:20270302T100000Z\r\nDTEND:20270302T110000Z\r\nSUMMARY:busy\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    return path


def test_add_calendar_queues_sync_and_worker_stores_busy(
    signed_in: Any, db: Database, app: Any, tmp_path: Path, feeds: Any
) -> None:
    from integrations.mail import MemoryMailer
    from web.domain.worker import Worker
    from web.store.settings import load_settings

    settings = app.extensions["panelslot.settings"].updated({"sync.allow_private_feeds": True})
    app.extensions["panelslot.settings"] = settings
    iid = _id(db, "alice")
    token = get_csrf(signed_in, f"/interviewers/{iid}")
    feeds.routes["/alice.ics"] = Static(_ics(tmp_path / "alice.ics").read_bytes())
    resp = signed_in.post(
        f"/interviewers/{iid}/calendars",
        data={"kind": "ics", "url": feeds.url("/alice.ics"), "csrf_token": token},
    )
    assert resp.status_code == 302
    with db.session() as s:
        assert (
            s.scalar(select(JobRequest.kind).where(JobRequest.status == "pending"))
            == "sync_interviewer"
        )
    page = signed_in.get(f"/interviewers/{iid}").get_data(as_text=True)
    assert "never synced" in page

    worker = Worker(
        settings,
        db,
        MemoryMailer(),
        clock=lambda: datetime(2027, 3, 1, 9, 0, tzinfo=UTC),
    )
    assert worker.run_jobs() == 1
    with db.session() as s:
        blocks = s.scalars(select(BusyBlock)).all()
        assert [(b.start, b.end) for b in blocks] == [
            (datetime(2027, 3, 2, 10, tzinfo=UTC), datetime(2027, 3, 2, 11, tzinfo=UTC))
        ]
        assert s.scalar(select(JobRequest.status)) == "done"
    page = signed_in.get(f"/interviewers/{iid}").get_data(as_text=True)
    assert "synced just now" in page
    assert load_settings is not None


def test_broken_calendar_shows_error_and_keeps_last_good(
    signed_in: Any, db: Database, app: Any, tmp_path: Path
) -> None:
    from integrations.mail import MemoryMailer
    from web.domain.worker import Worker

    iid = _id(db, "alice")
    path = _ics(tmp_path / "alice.ics")
    with db.session() as s:
        s.add(CalendarSource(interviewer_id=iid, kind="ics", label="alice.ics", url=str(path)))
    worker = Worker(
        app.extensions["panelslot.settings"],
        db,
        MemoryMailer(),
        clock=lambda: datetime(2027, 3, 1, 9, 0, tzinfo=UTC),
    )
    worker.sync()
    path.write_text("this is not a calendar")
    worker.sync()
    with db.session() as s:
        src = s.scalar(select(CalendarSource))
        assert src is not None and src.last_error and "alice.ics" in src.last_error
        assert s.scalar(select(func.count()).select_from(BusyBlock)) == 1
    page = signed_in.get("/interviewers").get_data(as_text=True)
    assert "error:" in page


def test_calendar_url_with_credentials_refused(signed_in: Any, db: Database) -> None:
    iid = _id(db, "alice")
    token = get_csrf(signed_in, f"/interviewers/{iid}")
    resp = signed_in.post(
        f"/interviewers/{iid}/calendars",
        data={"kind": "ics", "url": "https://user:pw@cal.example/x.ics", "csrf_token": token},
    )
    assert resp.status_code == 400 and "put no credentials in the URL" in resp.get_data(
        as_text=True
    )
    assert "user:pw" not in resp.get_data(as_text=True)


def test_sync_button_queues_a_job(signed_in: Any, db: Database) -> None:
    iid = _id(db, "alice")
    token = get_csrf(signed_in, f"/interviewers/{iid}")
    assert (
        signed_in.post(f"/interviewers/{iid}/sync", data={"csrf_token": token}).status_code == 302
    )
    with db.session() as s:
        job = s.scalar(select(JobRequest))
        assert job is not None and job.payload == {"interviewer_id": iid}


def test_personal_link_opens_interviewer_page(signed_in: Any, db: Database) -> None:
    import re

    iid = _id(db, "devi")
    page = signed_in.get(f"/interviewers/{iid}").get_data(as_text=True)
    link = re.search(r'value="http://panelslot.test(/i/[^"]+)"', page)
    assert link
    other = signed_in.application.test_client()
    got = other.get(link.group(1))
    assert got.status_code == 200 and "Devi Raman" in got.get_data(as_text=True)
    assert other.get(link.group(1) + "x").status_code == 404
