"""Property: for random candidate zones, every time a candidate page shows (read from its
<time> elements) lies inside the candidate's hours in the zone the page names, unless the
page says in its notice that the planned times miss those hours."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.live import LIVE_RE, html_of, make_live, page_zone, planned, stamps
from web.domain.booking.live import inside
from web.domain.zones import all_zones
from web.store.db import Database

HOURS = (8 * 60, 20 * 60)
NOTICE = 'id="zone-notice"'


def test_every_time_shown_is_in_the_candidates_hours_or_the_page_says_so(
    client: Any, db: Database, company: Any
) -> None:
    kolkata = planned(db, "Asia/Kolkata", fit=True)
    live = planned(db)
    make_live(db, live)
    zones = sorted(all_zones())

    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.sampled_from(zones) | st.sampled_from(["Asia/Kolkata", "Asia/Calcutta"]))
    def check(zone: str) -> None:
        for sent in (kolkata, live):
            html = html_of(client.get(sent.url, query_string={"tz": zone}))
            named = page_zone(html)
            outside = [(a, b) for a, b in stamps(html) if not inside(a, b, named, HOURS)]
            if LIVE_RE.search(html) or sent is live:
                assert not outside, (zone, outside[:2])
            else:
                assert not outside or NOTICE in html, (zone, outside[:2])

    check()
