"""The loop-picture cache lives on the app, with a bound on its size and a time to live."""

from __future__ import annotations

from sqlalchemy import select

from web.domain.booking import PictureCache
from web.store.db import Database
from web.store.models import Loop


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_pictures_are_reused_within_the_ttl_then_read_again(db: Database, company):
    clock = _Clock()
    cache = PictureCache(ttl=10.0, clock=clock)
    with db.session() as s:
        loop_id = s.scalars(select(Loop.id)).first()
        first = cache.get(s, loop_id)
        assert cache.get(s, loop_id) is first
        clock.t = 11.0
        assert cache.get(s, loop_id) is not first


def test_the_cache_keeps_at_most_max_size_pictures(db: Database, company):
    cache = PictureCache(max_size=1, clock=_Clock())
    with db.session() as s:
        a, b = s.scalars(select(Loop.id).limit(2)).all()
        first = cache.get(s, a)
        cache.get(s, b)
        assert cache.get(s, a) is not first  # evicted by b


def test_each_app_owns_its_cache(app):
    other = type(app)(app.import_name)
    assert isinstance(app.extensions["panelslot.pictures"], PictureCache)
    assert "panelslot.pictures" not in other.extensions
