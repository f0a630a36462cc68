"""The loop picture cached briefly for pages (the picture: :mod:`web.domain.engine_values`)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from web.domain.engine_values import LoopPicture, loop_picture, stored_option
from web.store.models import Loop

__all__ = ["PICTURE_TTL", "LoopPicture", "PictureCache", "loop_picture", "stored_option"]

PICTURE_TTL = 10.0  # seconds


@dataclass
class PictureCache:
    """Loop pictures kept for a few seconds, for showing pages only; owned by the app.

    The key includes the loop row's timestamps, so an edited loop is read again at once;
    pool or interviewer edits show within ``ttl``. Booking always reads afresh. At most
    ``max_size`` pictures are kept: the oldest goes first.
    """

    ttl: float = PICTURE_TTL
    max_size: int = 512
    clock: Callable[[], float] = time.monotonic
    _kept: OrderedDict[tuple[int, datetime, datetime], tuple[float, LoopPicture]] = field(
        default_factory=OrderedDict, repr=False
    )

    def get(self, s: Session, loop_id: int) -> LoopPicture:
        lp = s.get(Loop, loop_id)
        if lp is None:
            return loop_picture(s, loop_id)
        key = (loop_id, lp.created_at, lp.updated_at)
        hit = self._kept.get(key)
        now = self.clock()
        if hit is not None and hit[0] > now:
            return hit[1]
        pic = loop_picture(s, loop_id)
        self._kept[key] = (now + self.ttl, pic)
        self._kept.move_to_end(key)
        while len(self._kept) > self.max_size:
            self._kept.popitem(last=False)
        return pic
