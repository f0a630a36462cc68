"""Hostile values in a configuration file: one clear ConfigError each, never a crash later."""

from __future__ import annotations

import pytest

from scheduler.errors import ConfigError
from scheduler.localtime import MAX_ZONE_NAME, find_zone
from tests.engine.test_config import BASE, error


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e9"])
def test_min_notice_must_be_a_finite_number_in_range(value: str) -> None:
    found = error(
        BASE.replace(
            '[[loops]]\nid = "onsite"', f'[[loops]]\nid = "onsite"\nmin_notice_hours = {value}'
        )
    )
    assert found.field == "loops[0].min_notice_hours"
    assert "finite" in found.hint or "between" in found.hint


@pytest.mark.parametrize("zone", ["Europe", "America", "Etc", "a" * 300, "../../etc/passwd"])
def test_a_folder_or_junk_zone_is_an_unknown_zone(zone: str) -> None:
    found = error(BASE.replace('"Africa/Lagos"', f'"{zone}"'))
    assert isinstance(found, ConfigError) and found.field == "interviewers[0].timezone"
    assert "unknown time zone" in found.hint


def test_a_weekly_cap_beyond_reason_is_refused() -> None:
    text = BASE.replace(
        'email = "alice@example.com"',
        'email = "alice@example.com"\nmax_interviews_per_week = 100000',
    )
    assert error(text).field == "interviewers[0].max_interviews_per_week"


@pytest.mark.parametrize(
    "name",
    [
        "Europe",
        "",
        " UTC",
        "UTC ",
        "Europe/Lon\x00don",
        "x" * (MAX_ZONE_NAME + 1),
        7,
        None,
        "zone1970.tab",
    ],
)
def test_find_zone_says_none_for_anything_that_is_not_a_zone(name: object) -> None:
    assert find_zone(name) is None


@pytest.mark.parametrize("name", ["UTC", "Asia/Kolkata", "America/Argentina/Buenos_Aires"])
def test_find_zone_finds_real_zones(name: str) -> None:
    found = find_zone(name)
    assert found is not None and found.key == name
