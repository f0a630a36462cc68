"""The feed-copy cache is an object its owner passes in, bounded by bytes (LRU)."""

from __future__ import annotations

from integrations.calendars.feed import FeedSnapshot, FeedSnapshots


def test_the_least_recently_used_copies_go_first_past_the_bound() -> None:
    cache = FeedSnapshots(max_bytes=10)
    a, b, c = FeedSnapshot(b"aaaa"), FeedSnapshot(b"bbbb"), FeedSnapshot(b"cccc")
    cache.put("a", a)
    cache.put("b", b)
    assert cache.get("a") is a  # a is now the most recently used
    cache.put("c", c)  # 12 bytes > 10: b goes
    assert cache.get("b") is None and cache.get("a") is a and cache.get("c") is c
    assert len(cache) == 2


def test_one_copy_larger_than_the_bound_is_still_kept() -> None:
    cache = FeedSnapshots(max_bytes=2)
    big = FeedSnapshot(b"far too big")
    cache.put("x", big)
    assert cache.get("x") is big
