"""The pure slot engine: no I/O, no clock, no web.

Instants are aware UTC datetimes; wall-clock rules (working hours, candidate
hours) become instants per local date through :mod:`zoneinfo`.
"""

from scheduler.busy import BusyIndex, prepare_busy
from scheduler.engine import check_option, find_options, pick_diverse
from scheduler.errors import ConfigError, SchedulerError
from scheduler.model import (
    Config,
    Interval,
    Interviewer,
    Loop,
    Option,
    SessionSlot,
    SessionSpec,
    Settings,
    WorkingHours,
)

__all__ = [
    "BusyIndex",
    "Config",
    "ConfigError",
    "Interval",
    "Interviewer",
    "Loop",
    "Option",
    "SchedulerError",
    "SessionSlot",
    "SessionSpec",
    "Settings",
    "WorkingHours",
    "check_option",
    "find_options",
    "pick_diverse",
    "prepare_busy",
]
