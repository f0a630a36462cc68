"""Booking policy (the [booking] settings) and the change cut-off."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from web.domain.personal_links import PersonalLinks
from web.domain.sync.config import SyncConfig
from web.store.models import (
    Booking,
)
from web.store.settings import AppSettings
from web.store.statuses import AWAITING_CANDIDATE
from web.store.statuses import BOOKED as BOOKED

log = logging.getLogger(__name__)


OPEN = AWAITING_CANDIDATE
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")


@dataclass(frozen=True)
class BookingPolicy:
    """The [booking] settings the service needs, plus where links and UIDs point."""

    candidate_invites: str = "itinerary"  # itinerary | session | loop
    reminders: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=1))
    change_cutoff: timedelta = timedelta(hours=24)
    holds: bool = True
    live_check: bool = True  # read booked interviewers' calendars before booking
    domain: str = "panelslot.local"
    sync: SyncConfig | None = None  # how the live check reads calendars (None: defaults)
    # interviewers' personal page links in their invites (None: no public URL to point at)
    personal_links: PersonalLinks | None = None
    public_url: str = ""  # the app's base URL for links in mails to coordinators ("" : paths)

    @classmethod
    def from_settings(
        cls, settings: AppSettings, *, sync: SyncConfig | None = None
    ) -> BookingPolicy:
        """The policy of the settings; ``sync`` is the caller's calendar config (None:
        built from the settings)."""
        public = str(settings.server.public_url or "")
        host = re.sub(r"^[a-z]+://", "", public).split("/")[0].split(":")[0]
        return cls(
            candidate_invites=str(settings.booking.candidate_invites),
            reminders=parse_reminders(str(settings.booking.reminders)),
            change_cutoff=timedelta(hours=float(settings.booking.change_cutoff_hours)),
            holds=bool(settings.booking.holds),
            domain=host or "panelslot.local",
            sync=sync or SyncConfig.from_settings(settings),
            personal_links=_personal_links(settings, public),
            public_url=public.rstrip("/"),
        )


def _personal_links(settings: AppSettings, public: str) -> PersonalLinks | None:
    secret = str(settings.security.secret_key or "")
    return PersonalLinks(public, secret) if public and secret else None


def parse_reminders(textval: str) -> tuple[timedelta, ...]:
    """'24h,1h' -> (24 h, 1 h); '' -> (); units m, h, d."""
    out = []
    for part in textval.split(","):
        if not part.strip():
            continue
        m = _DURATION.match(part)
        if not m:
            raise ValueError(
                f"booking.reminders = {textval!r}: write durations like '24h,1h' or '30m'"
            )
        n = float(m.group(1))
        unit = {"m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
        out.append(timedelta(**{unit: n}))
    return tuple(sorted(set(out), reverse=True))


def first_start(b: Booking) -> datetime:
    return min(bs.start for bs in b.sessions)


def can_change(b: Booking, now: datetime, policy: BookingPolicy) -> bool:
    return now < first_start(b) - policy.change_cutoff


def cutoff_message(policy: BookingPolicy) -> str:
    hours = policy.change_cutoff.total_seconds() / 3600
    shown = f"{hours:g} hour{'s' if hours != 1 else ''}"
    return (
        f"Changes online close {shown} before the interview; "
        "please contact your recruiter to change it now."
    )
