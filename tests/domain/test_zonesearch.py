"""Zone search by what people type: cities, countries, IANA names, abbreviations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.fixtures.zones import CITIES as TYPED
from web.domain.zones import canonical_zone
from web.domain.zonesearch import fold, resolve_zone, search_zones
from web.domain.zonetext import day_offsets, days_later, spans_offsets, utc_stamp, zone_display

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)

CITIES = [
    *TYPED,
    ("Bangalore", "Asia/Kolkata"),
    ("Zürich", "Europe/Zurich"),
    ("  mumbai ", "Asia/Kolkata"),
]


@pytest.mark.parametrize(("typed", "zone"), CITIES)
def test_each_city_finds_its_zone(typed: str, zone: str) -> None:
    found = search_zones(typed, NOW)
    assert found.exact is not None and found.exact.zone == zone
    assert not found.ambiguous
    assert resolve_zone(typed, NOW) == zone


@pytest.mark.parametrize(
    ("typed", "zone"),
    [("Nigeria", "Africa/Lagos"), ("india", "Asia/Kolkata"), ("Japan", "Asia/Tokyo")],
)
def test_a_country_with_one_zone_is_that_zone(typed: str, zone: str) -> None:
    found = search_zones(typed, NOW)
    assert found.kind == "country" and found.exact is not None and found.exact.zone == zone


def test_a_country_with_many_zones_offers_them() -> None:
    found = search_zones("United States", NOW)
    assert found.exact is None and found.ambiguous
    zones = [m.zone for m in found.matches]
    assert {"America/New_York", "America/Los_Angeles", "America/Chicago"} <= set(zones)
    assert zones[0] == "America/New_York"  # the largest city first


@pytest.mark.parametrize(
    "typed",
    [
        "America/Los_Angeles",
        "america/los_angeles",
        "AMERICA/LOS ANGELES",
        "Los_Angeles",
        "US/Pacific",
    ],
)
def test_iana_names_with_or_without_underscores_or_case(typed: str) -> None:
    found = search_zones(typed, NOW)
    assert found.kind == "zone" and found.exact is not None
    assert found.exact.zone == "America/Los_Angeles"


@pytest.mark.parametrize(
    ("abbr", "expected"),
    [
        ("IST", {"Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"}),
        ("CST", {"America/Chicago", "Asia/Shanghai", "America/Havana", "America/Mexico_City"}),
        ("cst", {"America/Chicago", "Asia/Shanghai"}),
    ],
)
def test_ambiguous_abbreviations_offer_candidates_never_a_guess(
    abbr: str, expected: set[str]
) -> None:
    found = search_zones(abbr, NOW)
    assert found.kind == "abbreviation"
    assert found.exact is None and found.ambiguous
    assert expected <= {m.zone for m in found.matches}
    assert resolve_zone(abbr, NOW) is None


def test_a_name_shared_by_cities_of_similar_size_is_not_guessed() -> None:
    found = search_zones("Birmingham", NOW)
    assert found.exact is None and found.ambiguous
    assert {"Europe/London", "America/Chicago"} <= {m.zone for m in found.matches}


def test_each_suggestion_carries_the_local_time_there_now() -> None:
    found = search_zones("IST", NOW)
    kolkata = next(m for m in found.matches if m.zone == "Asia/Kolkata")
    assert kolkata.local_now == NOW and kolkata.local_now.strftime("%H:%M") == "14:30"
    dublin = next(m for m in found.matches if m.zone == "Europe/Dublin")
    assert dublin.local_now.strftime("%H:%M") == "09:00"


def test_prefixes_suggest_and_nonsense_finds_nothing() -> None:
    found = search_zones("Kolk", NOW)
    assert found.exact is None and found.matches[0].zone == "Asia/Kolkata"
    assert found.matches[0].place == "Kolkata, India"
    assert search_zones("Qqqxz", NOW).matches == ()
    assert search_zones("   ", NOW).kind == "none"


@pytest.mark.parametrize(
    ("alias", "zone"),
    [
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("Asia/Saigon", "Asia/Ho_Chi_Minh"),
        ("US/Pacific", "America/Los_Angeles"),
        ("Etc/UTC", "UTC"),
        ("UTC", "UTC"),
        ("Asia/Kolkata", "Asia/Kolkata"),
        ("Europe/Amsterdam", "Europe/Amsterdam"),  # a live zone, not a deprecated name
    ],
)
def test_deprecated_aliases_are_made_canonical(alias: str, zone: str) -> None:
    assert canonical_zone(alias) == zone
    if "/" in alias and alias != "Etc/UTC":
        assert search_zones(alias, NOW).exact.zone == zone  # type: ignore[union-attr]


def test_fold_ignores_case_accents_and_underscores() -> None:
    assert fold("  São_Paulo ") == "sao paulo" == fold("SAO PAULO")


@pytest.mark.parametrize(
    ("zone", "name"),
    [
        ("America/Los_Angeles", "Pacific Time (Los Angeles)"),
        ("Asia/Kolkata", "India Standard Time (Kolkata)"),
        ("Asia/Calcutta", "India Standard Time (Kolkata)"),
        ("Pacific/Auckland", "New Zealand Time (Auckland)"),
        ("UTC", "Coordinated Universal Time"),
    ],
)
def test_zone_names_read_as_people_say_them(zone: str, name: str) -> None:
    assert zone_display(zone, NOW) == name


def test_offsets_per_day_across_the_us_clock_change() -> None:
    la = "America/Los_Angeles"
    before = datetime(2027, 3, 13, 17, 0, tzinfo=UTC)  # Sat 09:00 PST
    after = datetime(2027, 3, 15, 16, 0, tzinfo=UTC)  # Mon 09:00 PDT
    assert spans_offsets([before, after], la) and not spans_offsets([before], la)
    offsets = day_offsets([after, before], la)
    assert [(d.isoformat(), o) for d, o in offsets.items()] == [
        ("2027-03-13", ["UTC-08:00"]),
        ("2027-03-15", ["UTC-07:00"]),
    ]


def test_days_later_and_utc_stamps() -> None:
    start = datetime(2027, 3, 3, 18, 15, tzinfo=UTC)  # 23:45 in Kolkata
    assert days_later(start, datetime(2027, 3, 3, 20, 30, tzinfo=UTC), "Asia/Kolkata") == 1
    assert days_later(start, datetime(2027, 3, 3, 18, 45, tzinfo=UTC), "Asia/Kolkata") == 1
    assert days_later(start, datetime(2027, 3, 3, 18, 30, tzinfo=UTC), "Asia/Kolkata") == 0  # 24:00
    assert days_later(start, datetime(2027, 3, 3, 20, 30, tzinfo=UTC), "UTC") == 0
    assert utc_stamp(start) == "2027-03-03T18:15:00Z"
