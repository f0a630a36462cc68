"""Bookings that heal themselves (issue 13): an interviewer who drops out of a booked
session (a calendar decline, a new conflict, "can't make it") is replaced from the pool
with the engine's rules, or the coordinator is told.

- :mod:`.model`: :class:`Dropout`, the loop's :class:`RepairPolicy`, :class:`RepairResult`
- :mod:`.staffing`: who may take a seat (the engine's checks)
- :mod:`.swap`: the swap itself: row, iTIP mails, reminders, calendar write-back, audit
- :mod:`.notify`: the coordinator's mail and the request page's notices
- :mod:`.handle`: :func:`handle_dropout`, the manual swap
- :mod:`.detect`: dropouts found in calendars' answers, iTIP REPLYs and fresh busy time
"""

from web.domain.repair.handle import SwapRefused, handle_dropout, manual_swap, swap_choices
from web.domain.repair.model import CAUSES, Dropout, DropoutError, RepairPolicy, RepairResult
from web.domain.repair.notify import (
    RepairNotice,
    dismiss_notice,
    find_new_times_path,
    open_notices,
    open_notices_for,
)
from web.domain.repair.staffing import replacements

__all__ = [
    "CAUSES",
    "Dropout",
    "DropoutError",
    "RepairNotice",
    "RepairPolicy",
    "RepairResult",
    "SwapRefused",
    "dismiss_notice",
    "find_new_times_path",
    "handle_dropout",
    "manual_swap",
    "open_notices",
    "open_notices_for",
    "replacements",
    "swap_choices",
]
