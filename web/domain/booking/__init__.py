"""The booking service: book, reschedule and cancel a candidate's interview.

The package is split by concern; this module re-exports the names other code uses
(``from web.domain import booking``; ``booking.book(...)``):

- :mod:`.policy`: the [booking] settings, the change cut-off
- :mod:`.errors`: why an operation was refused, and its outcome
- :mod:`.picture`: the loop picture (:mod:`web.domain.engine_values`) cached briefly for pages
- :mod:`.checks`: valid options, busy time, the re-check and the live calendar check
- :mod:`.transactions`: serialised write transactions, locks, idempotency, booking rows
- :mod:`.service`: book / reschedule / cancel, each one transaction
- :mod:`.invites`, :mod:`.outbox`, :mod:`.reminders`: invites and mails through the outbox
- :mod:`.live`: live options in the candidate's zone and hours, and their cache
- :mod:`.refresh`: fresh options for stale requests, holds, "none of these work"
- :mod:`.calendar_events`: interview events in interviewers' calendars (creating the Meet)
- :mod:`.video`: the video link (URL template, Google Meet or Teams) and whose calendar makes it
"""

from web.domain.booking.calendar_events import (
    WriterFactory,
    Writers,
    calendar_writers,
    job_writeback,
    utc,
    writeback,
)
from web.domain.booking.checks import live_busy, recheck, valid_options
from web.domain.booking.errors import (
    BookingClosed,
    BookingError,
    OptionTaken,
    OptionUnknown,
    Outcome,
)
from web.domain.booking.invites import (
    SessionGroup,
    candidate_zone,
    download_ics,
    google_links,
    session_groups,
    when_text,
)
from web.domain.booking.live import LiveCache, ZoneCheck, adopt_live, live_options, zone_check
from web.domain.booking.outbox import none_work
from web.domain.booking.picture import (
    PICTURE_TTL,
    LoopPicture,
    PictureCache,
    loop_picture,
    stored_option,
)
from web.domain.booking.policy import (
    BOOKED,
    OPEN,
    BookingPolicy,
    can_change,
    cutoff_message,
    first_start,
    parse_reminders,
)
from web.domain.booking.refresh import (
    REFRESH_EVERY,
    apply_hold_policy,
    job_refresh_options,
    refresh_pending,
    request_fresh_options,
    top_up_in,
)
from web.domain.booking.service import book, cancel, cancel_in_session, reschedule
from web.domain.booking.transactions import write_transaction
from web.domain.booking.video import (
    GOOGLE_MEET,
    TEAMS,
    TEMPLATE,
    VIDEO_CHOICES,
    meet_organiser,
    meet_pending,
    pending_name,
    template_url,
    video_note,
    video_url,
)
from web.store.models import Booking, BookingSession, OfferedOption, SchedulingRequest

__all__ = [
    "BOOKED",
    "GOOGLE_MEET",
    "OPEN",
    "PICTURE_TTL",
    "REFRESH_EVERY",
    "TEAMS",
    "TEMPLATE",
    "VIDEO_CHOICES",
    "Writers",
    "Booking",
    "BookingClosed",
    "BookingError",
    "BookingPolicy",
    "BookingSession",
    "LiveCache",
    "LoopPicture",
    "ZoneCheck",
    "adopt_live",
    "live_options",
    "zone_check",
    "OfferedOption",
    "OptionTaken",
    "OptionUnknown",
    "Outcome",
    "SchedulingRequest",
    "SessionGroup",
    "WriterFactory",
    "apply_hold_policy",
    "book",
    "PictureCache",
    "can_change",
    "calendar_writers",
    "cancel",
    "cancel_in_session",
    "candidate_zone",
    "cutoff_message",
    "download_ics",
    "first_start",
    "google_links",
    "job_refresh_options",
    "job_writeback",
    "live_busy",
    "loop_picture",
    "meet_organiser",
    "meet_pending",
    "none_work",
    "pending_name",
    "parse_reminders",
    "recheck",
    "refresh_pending",
    "request_fresh_options",
    "reschedule",
    "session_groups",
    "stored_option",
    "template_url",
    "top_up_in",
    "utc",
    "valid_options",
    "video_note",
    "video_url",
    "when_text",
    "write_transaction",
    "writeback",
]
