"""The database schema (SQLAlchemy 2). Every datetime column is aware UTC (UTCDateTime).

Changes go through a new Alembic revision in web/store/migrations/versions.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.store.api_models import ApiIdempotency, ApiToken
from web.store.db import Base, UTCDateTime, utcnow
from web.store.statuses import BookingStatus, JobStatus, MailStatus, RequestStatus, check_sql

__all__ = ["ApiIdempotency", "ApiToken"]  # the API's tables, in the one metadata

REQUEST_STATUSES = tuple(RequestStatus)
CALENDAR_KINDS = ("ics", "caldav", "google", "msgraph")


class Coordinator(Base):
    __tablename__ = "coordinators"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(400))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # every session cookie carries it; logout and a new password bump it, ending them all
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Interviewer(Base):
    __tablename__ = "interviewers"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)  # the config file's id
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    timezone: Mapped[str] = mapped_column(String(64))
    # {"mon": ["09:00-12:00", "13:00-17:00"], ...} as in the config format
    working_hours: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    max_interviews_per_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # per local ISO week (Monday 00:00 in their zone); null = no cap (migration people13)
    max_interviews_per_week: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Nonce inside the interviewer's personal signed link; changing it revokes links.
    link_nonce: Mapped[str] = mapped_column(String(64), default="")
    # Private, revocable ICS feed of the interviewer's interviews (issue 3).
    feed_token: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    calendars: Mapped[list[CalendarSource]] = relationship(
        back_populates="interviewer", cascade="all, delete-orphan", order_by="CalendarSource.id"
    )


class CalendarSource(Base):
    """One calendar account or feed of an interviewer (ICS URL/file, CalDAV, Google)."""

    __tablename__ = "calendar_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    interviewer_id: Mapped[int] = mapped_column(ForeignKey("interviewers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # ics | caldav | google
    label: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(Text, default="")  # never with credentials in it
    # Fernet ciphertext (integrations.crypto, key PANELSLOT_TOKEN_KEY); never shown.
    credentials: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Which calendars count: null = the primary/only one; else a list of calendar ids/URLs.
    selected_calendars: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    etag: Mapped[str | None] = mapped_column(String(400), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(100), nullable=True)
    sync_token: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_good_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    events_read: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Calendar sync (issue 3, migration 0003): gzip of the last good ICS copy; sync state
    # (Google "sync" mode: encrypted tokens+events; ICS: the span the stored blocks cover);
    # Google read mode; the provider revoked access; last run's figures.
    snapshot: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    sync_state: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)
    mode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    needs_reconnect: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    busy_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)

    interviewer: Mapped[Interviewer] = relationship(back_populates="calendars")


class BusyBlock(Base):
    """A busy interval read from one calendar source (replaced wholesale per sync window)."""

    __tablename__ = "busy_blocks"
    __table_args__ = (
        Index("ix_busy_blocks_interviewer_start_end", "interviewer_id", "start", "end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    interviewer_id: Mapped[int] = mapped_column(ForeignKey("interviewers.id", ondelete="CASCADE"))
    source_id: Mapped[int] = mapped_column(
        ForeignKey("calendar_sources.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)


class Loop(Base):
    __tablename__ = "loops"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    order: Mapped[str] = mapped_column(String(8), default="fixed")  # fixed | any
    min_gap_minutes: Mapped[int] = mapped_column(Integer, default=0)
    max_gap_minutes: Mapped[int] = mapped_column(Integer, default=15)
    granularity_minutes: Mapped[int] = mapped_column(Integer, default=15)
    min_notice_hours: Mapped[float] = mapped_column(Float, default=24)
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=10)
    video_url_template: Mapped[str] = mapped_column(Text, default="")
    # Issue 5: "template" (video_url_template) | "google_meet" (organiser's Google Calendar)
    # | "teams" (organiser's Microsoft 365 calendar)
    video: Mapped[str] = mapped_column(String(16), default="template", server_default="template")
    show_interviewer_names: Mapped[bool] = mapped_column(Boolean, default=True)
    # offer live options in the candidate's own zone and hours when the planned ones miss them
    live_fallback: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # interviewers' own pages show "name hidden" instead of the candidate (migration people13)
    hide_candidate_names: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # offer the times found inside a candidate's own ranges at once (else the coordinator sends)
    offer_from_ranges: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Issue 13: an interviewer who drops out of a booked session is replaced from the pool
    # when the session is more than repair_min_hours_before away and the booking has been
    # auto-repaired fewer than max_auto_repairs times; otherwise the coordinator is told.
    auto_repair: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    repair_min_hours_before: Mapped[float] = mapped_column(Float, default=48, server_default="48")
    max_auto_repairs: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    sessions: Mapped[list[LoopSession]] = relationship(
        back_populates="loop", cascade="all, delete-orphan", order_by="LoopSession.position"
    )


class LoopSession(Base):
    __tablename__ = "loop_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    loop_id: Mapped[int] = mapped_column(ForeignKey("loops.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    required: Mapped[int] = mapped_column(Integer, default=1)

    loop: Mapped[Loop] = relationship(back_populates="sessions")
    pool: Mapped[list[Interviewer]] = relationship(
        secondary="session_pool", order_by="Interviewer.key"
    )


class SessionPool(Base):
    """Which interviewers may sit in a loop session."""

    __tablename__ = "session_pool"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("loop_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    interviewer_id: Mapped[int] = mapped_column(
        ForeignKey("interviewers.id", ondelete="CASCADE"), primary_key=True
    )


class SchedulingRequest(Base):
    __tablename__ = "scheduling_requests"
    __table_args__ = (
        Index("ix_requests_coordinator_created", "coordinator_id", "created_at"),
        CheckConstraint(check_sql("status", RequestStatus), name="status_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coordinator_id: Mapped[int] = mapped_column(ForeignKey("coordinators.id"))
    loop_id: Mapped[int] = mapped_column(ForeignKey("loops.id"))
    candidate_name: Mapped[str] = mapped_column(String(200))
    candidate_email: Mapped[str] = mapped_column(String(254))
    candidate_tz: Mapped[str | None] = mapped_column(String(64), nullable=True)
    search_tz: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the zone searched
    # the candidate's zone as their browser reported it or they chose it
    candidate_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # sent without options: the candidate chooses from live availability in their zone
    live: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # the candidate's language as their browser negotiated it (Accept-Language), for mail
    candidate_locale: Mapped[str | None] = mapped_column(String(35), nullable=True)
    date_from: Mapped[date] = mapped_column(Date)
    date_to: Mapped[date] = mapped_column(Date)
    candidate_hours_start: Mapped[int] = mapped_column(Integer, default=8 * 60)
    candidate_hours_end: Mapped[int] = mapped_column(Integer, default=20 * 60)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    token_nonce: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Candidate's "none of these work" answer (issue 5).
    candidate_reply: Mapped[str] = mapped_column(Text, default="")

    coordinator: Mapped[Coordinator] = relationship()
    loop: Mapped[Loop] = relationship()
    options: Mapped[list[OfferedOption]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="OfferedOption.rank"
    )
    bookings: Mapped[list[Booking]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="Booking.id"
    )


class OfferedOption(Base):
    __tablename__ = "offered_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("scheduling_requests.id", ondelete="CASCADE"), index=True
    )
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    # [{"name": ..., "start": "...Z", "end": "...Z", "interviewers": ["alice"]}]
    sessions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)

    request: Mapped[SchedulingRequest] = relationship(back_populates="options")


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (CheckConstraint(check_sql("status", BookingStatus), name="status_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("scheduling_requests.id", ondelete="CASCADE"), index=True
    )
    option_id: Mapped[int | None] = mapped_column(
        ForeignKey("offered_options.id", ondelete="SET NULL"), nullable=True
    )
    status: Mapped[str] = mapped_column(
        String(16), default="confirmed"
    )  # confirmed|cancelled|replaced
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Issue 5: the zone the candidate booked in; the UID stem kept across reschedules.
    candidate_tz: Mapped[str | None] = mapped_column(String(64), nullable=True)
    uid_base: Mapped[str] = mapped_column(String(100), default="")
    # the video link decided for this booking (a Google Meet URL, or the template's URL when
    # Meet could not be had); None: not decided yet (the template applies, or Meet is pending)
    video_link: Mapped[str | None] = mapped_column(Text, nullable=True)
    # how many times an interviewer of this booking was replaced automatically (issue 13)
    auto_repairs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    request: Mapped[SchedulingRequest] = relationship(back_populates="bookings")
    sessions: Mapped[list[BookingSession]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="BookingSession.start"
    )


class BookingSession(Base):
    """One interviewer in one booked session. ``active`` rows must never overlap per interviewer."""

    __tablename__ = "booking_sessions"
    __table_args__ = (Index("ix_booking_sessions_interviewer_start", "interviewer_id", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    interviewer_id: Mapped[int] = mapped_column(ForeignKey("interviewers.id"))
    session_name: Mapped[str] = mapped_column(String(200))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    uid: Mapped[str] = mapped_column(String(200), default="")  # iCalendar UID, stable per session
    calendar_event_id: Mapped[str | None] = mapped_column(Text, nullable=True)

    booking: Mapped[Booking] = relationship(back_populates="sessions")
    interviewer: Mapped[Interviewer] = relationship()


class Hold(Base):
    """An offered interviewer-time kept away from other requests while this one is open."""

    __tablename__ = "holds"
    __table_args__ = (Index("ix_holds_interviewer_start", "interviewer_id", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("scheduling_requests.id", ondelete="CASCADE"), index=True
    )
    option_id: Mapped[int | None] = mapped_column(
        ForeignKey("offered_options.id", ondelete="CASCADE"), nullable=True
    )
    interviewer_id: Mapped[int] = mapped_column(ForeignKey("interviewers.id", ondelete="CASCADE"))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OutboxMail(Base):
    """A mail to deliver; written in the same transaction as what caused it."""

    __tablename__ = "outbox_mails"
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        CheckConstraint(check_sql("status", MailStatus), name="status_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), default="")  # candidate_link, invite, ...
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("scheduling_requests.id", ondelete="SET NULL"), nullable=True, index=True
    )
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(400))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    ics: Mapped[str | None] = mapped_column(Text, nullable=True)
    ics_method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # the From display name (the address stays the configured sender) and the Reply-To
    from_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reply_to: Mapped[str | None] = mapped_column(String(254), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # a claim: the worker that sends it, until when (renewed while it sends)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    locked_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class JobRequest(Base):
    """Work handed from web processes to the workers, which poll this table.

    A worker's claim is a lease (``locked_until``, renewed while the job runs); a job whose
    lease ran out goes back to the queue with its attempt counted."""

    __tablename__ = "job_requests"
    __table_args__ = (
        Index("ix_job_requests_status_created", "status", "created_at"),
        CheckConstraint(check_sql("status", JobStatus), name="status_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # sync_interviewer | sync_all | deliver_mail ...
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(
        String(16), default="pending"
    )  # pending|running|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    requested_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    locked_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # the request a job concerns (calendar write-back, fresh options): a job failed for good
    # is shown on that request's page with a Retry button
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("scheduling_requests.id", ondelete="SET NULL"), nullable=True, index=True
    )


class WorkerHeartbeat(Base):
    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    host: Mapped[str] = mapped_column(String(200), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(
        String(200)
    )  # "coordinator:ann@x.com", "candidate", "system"
    coordinator_id: Mapped[int | None] = mapped_column(
        ForeignKey("coordinators.id", ondelete="SET NULL"), nullable=True
    )
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(100), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SigninAttempt(Base):
    """Attempts at a limited action (sign-in, password check, ...), for rate limiting
    across processes: ``email`` holds the bucket (the account's address for sign-in)."""

    __tablename__ = "signin_attempts"
    __table_args__ = (
        Index("ix_signin_attempts_email_at", "email", "at"),
        Index("ix_signin_attempts_addr_at", "remote_addr", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CandidateReply(Base):
    """A candidate's "none of these work" with their own ranges, and what the engine found
    inside them; replaced when they send ranges again."""

    __tablename__ = "candidate_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("scheduling_requests.id", ondelete="CASCADE"), unique=True
    )
    zone: Mapped[str] = mapped_column(String(64))  # the candidate's zone the ranges were in
    text: Mapped[str] = mapped_column(Text, default="")  # what they typed, as typed
    # offered (at once) | found (the coordinator sends) | nothing | sent | dismissed
    state: Mapped[str] = mapped_column(String(16))
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # as offered ones
    why: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # scheduler.explain
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    ranges: Mapped[list[CandidateRange]] = relationship(
        cascade="all, delete-orphan", order_by="CandidateRange.start"
    )


class CandidateRange(Base):
    """One range of a candidate's own availability, in UTC."""

    __tablename__ = "candidate_ranges"

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(
        ForeignKey("candidate_replies.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
