"""Times and zones as people read them: Babel zone names, per-day offsets, "+1 day".

"Pacific Time (Los Angeles)", "India Standard Time (Kolkata)": a zone that changes its
clocks is named generically, one that never does by its standard name. Pure: every
instant is a parameter.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from web.domain.zones import canonical_zone, get_zone, offset_label

DEFAULT_LOCALE = "en_US"


def _babel_locale(locale: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(locale.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        return DEFAULT_LOCALE


def _changes_clocks(zone: str, year: int) -> bool:
    tz = get_zone(zone)
    offsets = {
        datetime(year, month, 15, 12, tzinfo=UTC).astimezone(tz).utcoffset()
        for month in range(1, 13)
    }
    return len(offsets) > 1


@lru_cache(maxsize=2048)
def _display(zone: str, year: int, locale: str) -> str:
    from babel.dates import get_timezone_location, get_timezone_name

    tz = get_zone(zone)
    if zone == "UTC":
        return get_timezone_name(datetime(year, 1, 1, tzinfo=tz), "long", locale=locale)
    if _changes_clocks(zone, year):
        name = get_timezone_name(tz, "long", zone_variant="generic", locale=locale)
    else:
        name = get_timezone_name(datetime(year, 1, 15, tzinfo=tz), "long", locale=locale)
    city = get_timezone_location(tz, locale=locale, return_city=True)
    return f"{name} ({city})" if city and city not in name else name


def zone_display(zone: str, at: datetime, locale: str = DEFAULT_LOCALE) -> str:
    """'Pacific Time (Los Angeles)' for America/Los_Angeles (aliases read as their zone)."""
    return _display(canonical_zone(zone), at.year, _babel_locale(locale))


def day_offsets(instants: list[datetime], zone: str) -> dict[date, list[str]]:
    """Local day -> the UTC offsets ('UTC-08:00') its instants have, in order of time."""
    tz = get_zone(zone)
    out: dict[date, list[str]] = {}
    for at in sorted(instants):
        label = offset_label(zone, at)
        labels = out.setdefault(at.astimezone(tz).date(), [])
        if label not in labels:
            labels.append(label)
    return out


def spans_offsets(instants: list[datetime], zone: str) -> bool:
    """Whether the instants do not all share one UTC offset in ``zone`` (a DST change)."""
    return len({offset_label(zone, at) for at in instants}) > 1


def days_later(start: datetime, end: datetime, zone: str) -> int:
    """How many local days after the start's day the end falls (0: the same day).
    An end at exactly midnight belongs to the day before."""
    if end <= start:
        return 0
    tz = get_zone(zone)
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    return (last - start.astimezone(tz).date()).days


def utc_stamp(at: datetime) -> str:
    """'2027-03-03T09:30:00Z': the machine-readable form of an instant."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hour_cycle(locale: str) -> int:
    """12 or 24: the clock ``locale`` (a BCP 47 tag such as 'en-US') reads by default."""
    from babel.dates import get_time_format

    pattern = get_time_format("short", locale=_babel_locale(locale)).pattern
    return 12 if "h" in pattern or "K" in pattern else 24


def month_first(locale: str) -> bool:
    """Whether ``locale`` writes the month before the day ('March 3, 2027' in en-US)."""
    from babel.dates import get_date_format

    pattern = get_date_format("long", locale=_babel_locale(locale)).pattern
    m, d = pattern.find("M"), pattern.find("d")
    return 0 <= m < d


DAY_FIRST = "%A %d %B %Y"
MONTH_FIRST = "%A, %B %-d, %Y"
CLOCK_24 = "%H:%M"
CLOCK_12 = "%-I:%M %p"


def negotiated_locale(languages: list[str]) -> str | None:
    """The first of ``languages`` (Accept-Language order) Babel knows, as 'en_US';
    None when there is none (the default formats apply)."""
    from babel import Locale, UnknownLocaleError

    for tag in languages:
        if not tag or tag == "*":
            continue
        try:
            return str(Locale.parse(tag.replace("-", "_")))
        except (UnknownLocaleError, ValueError):
            continue
    return None


def date_pattern(locale: str | None) -> str:
    """The long date in ``locale``'s order: 'Wednesday, March 3, 2027' (en-US), else
    'Wednesday 03 March 2027' (also without a locale)."""
    return MONTH_FIRST if locale and month_first(locale) else DAY_FIRST


def clock_pattern(locale: str | None) -> str:
    """'2:30 PM' where ``locale`` reads a 12-hour clock (en-US), else '14:30'."""
    return CLOCK_12 if locale and hour_cycle(locale) == 12 else CLOCK_24
