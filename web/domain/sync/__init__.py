"""Calendar sync: readers per provider, the sync into ``BusyBlock`` rows, health, live check."""

from web.domain.sync.config import SyncConfig
from web.domain.sync.health import (
    CalendarHealth,
    ago,
    calendar_health,
    option_staleness,
    stale_by_key,
    stale_calendars,
    status_text,
)
from web.domain.sync.livecheck import LiveCheck, live_busy, live_check
from web.domain.sync.readers import encrypt_json
from web.domain.sync.sync import (
    SourceResult,
    busy_summary,
    clear_source,
    plan,
    sync_all,
    sync_interviewer,
    sync_source,
    sync_sources,
)

__all__ = [
    "CalendarHealth",
    "LiveCheck",
    "SourceResult",
    "SyncConfig",
    "ago",
    "busy_summary",
    "calendar_health",
    "clear_source",
    "encrypt_json",
    "live_busy",
    "live_check",
    "option_staleness",
    "plan",
    "stale_by_key",
    "stale_calendars",
    "status_text",
    "sync_all",
    "sync_interviewer",
    "sync_source",
    "sync_sources",
]
