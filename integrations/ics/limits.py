"""Bounded expansion: how much recurrence a calendar may ask the reader to expand.

Two limits, the same on every path (full, windowed, fast):

* ``MAX_INSTANCES`` (20,000): event instances of one calendar in the span
  being read (the CLI's dates, or the sync horizon). Every occurrence counts,
  busy or not (cancelled, transparent, declined), so this bounds the busy
  instances too. Before expansion, the instances of the rules in the span
  widened by ``PAD`` (two days each side, which expansion searches) count.
  A real calendar has at most a few thousand in a sync horizon; 20,000 is
  one every 7 minutes, day and night, for 100 days.
* ``MAX_RECURRENCE_STEPS`` (500,000): the repetitions the recurrence rules
  of one calendar would generate from their DTSTART up to the end of the span
  (the recurrence library walks every rule from its start). Counted as an
  upper bound, without generating anything: periods times the values of the
  BY parts that multiply a period.

Both are checked before anything is expanded, from the rules alone, so a
300-byte ``RRULE:FREQ=SECONDLY`` feed is refused in milliseconds without a
single instance being made; the instance count is checked again on what was
found. A refusal is an ``ExpansionRefused`` (a ``CalendarError`` and a
``ValueError``) carrying the numbers; callers that keep the last good copy of
a feed keep it, as for any other ``CalendarError``.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil.rrule import rrule, rrulestr

from integrations.errors import CalendarError
from scheduler.model import Interval

MAX_INSTANCES = 20_000
MAX_RECURRENCE_STEPS = 500_000

# A wall-clock time is within this of its UTC instant in every zone.
ZONE_MARGIN = timedelta(hours=14)
# Expansion searches this far beyond the span, so that floating and all-day
# events (placed in a zone only afterwards) are never missed; what it finds
# there is made (and then dropped), so the instance limit counts it too.
PAD = timedelta(days=2)
_SEARCH = PAD + ZONE_MARGIN + timedelta(days=1)
_UNIT_SECONDS = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600, "DAILY": 86400, "WEEKLY": 604800}
_TIME_EXPANDERS = {
    "SECONDLY": (),
    "MINUTELY": ("BYSECOND",),
    "HOURLY": ("BYMINUTE", "BYSECOND"),
}
_PLAIN_DAY = re.compile(r"^[A-Z]{2}$")
_UNTIL = re.compile(r";?UNTIL=[^;]*", re.IGNORECASE)


class ExpansionRefused(CalendarError, ValueError):
    """A calendar would need more expansion than the reader allows."""


class TooManyInstances(ExpansionRefused):
    """More than ``cap`` event instances in ``span`` (``at_least`` were counted)."""

    def __init__(self, source: str, *, cap: int, at_least: int, span: Interval) -> None:
        self.cap = cap
        self.at_least = at_least
        self.span = span
        super().__init__(
            source,
            f"more than {cap:,} event instances between {span.start:%Y-%m-%d %H:%M} and "
            f"{span.end:%Y-%m-%d %H:%M} UTC (the limit per calendar); not read",
        )


class RecurrenceTooLarge(ExpansionRefused):
    """The calendar's rules would repeat more than ``budget`` times (``steps``, an upper
    bound) between their starts and ``until``; ``uid`` has the rule repeating most."""

    def __init__(
        self, source: str, *, uid: str, freq: str, steps: int, budget: int, until: datetime
    ) -> None:
        self.uid = uid
        self.freq = freq
        self.steps = steps
        self.budget = budget
        self.until = until
        super().__init__(
            source,
            f"the repeating event {uid[:60]!r} (FREQ={freq}) would make the calendar's "
            f"rules repeat more than {budget:,} times from their starts to "
            f"{until:%Y-%m-%d}; not read",
        )


@dataclass(frozen=True)
class RuleShape:
    """What the limits need of one RRULE."""

    freq: str
    interval: int
    count: int | None
    until: datetime | None  # naive (a UTC UNTIL loses its zone: the margins cover it)
    sizes: Mapping[str, int]  # BY part -> number of values
    plain_days: int  # BYDAY values without an ordinal ("MO", not "-1MO")
    text: str  # the rule for dateutil


@dataclass(frozen=True)
class Recurring:
    """A recurring VEVENT (master) as the limits see it."""

    uid: str
    start: datetime  # DTSTART as a naive wall-clock time (a date: its midnight)
    rules: tuple[RuleShape, ...]
    removed: int  # EXDATE values plus overrides of this UID: instances that may go


def naive(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.combine(value, time())


def rule_shape(parts: Mapping[str, Sequence[object]], text: str) -> RuleShape:
    """A shape from RRULE parts (upper-case names; values as icalendar gives them)."""

    def first(name: str) -> object | None:
        values = parts.get(name)
        return values[0] if values else None

    interval = first("INTERVAL")
    count = first("COUNT")
    until = first("UNTIL")
    return RuleShape(
        freq=str(first("FREQ") or "").upper(),
        interval=max(1, int(str(interval))) if interval is not None else 1,
        count=max(0, int(str(count))) if count is not None else None,
        until=naive(until) if isinstance(until, date) else None,
        sizes={k: len(v) for k, v in parts.items() if k.startswith("BY")},
        plain_days=sum(1 for v in parts.get("BYDAY", ()) if _PLAIN_DAY.match(str(v).upper())),
        text=text,
    )


def _days_per_period(shape: RuleShape) -> int:
    """An upper bound on the days one MONTHLY or YEARLY period makes (1 without day parts)."""
    sizes = shape.sizes
    months = sizes.get("BYMONTH", 0) or (12 if shape.freq == "YEARLY" else 1)
    weeks_per = 53 if shape.freq == "YEARLY" and not sizes.get("BYMONTH") else 5 * months
    bounds = [31 * months if shape.freq == "MONTHLY" else 366]
    if sizes.get("BYMONTHDAY"):
        bounds.append(sizes["BYMONTHDAY"] * months)
    if sizes.get("BYDAY"):
        ordinal = sizes["BYDAY"] - shape.plain_days
        bounds.append(shape.plain_days * weeks_per + ordinal * months)
    if sizes.get("BYYEARDAY"):
        bounds.append(sizes["BYYEARDAY"])
    if sizes.get("BYWEEKNO"):
        bounds.append(sizes["BYWEEKNO"] * 7)
    if len(bounds) == 1:  # no day parts: the day of DTSTART, in each month asked for
        return months if shape.freq == "YEARLY" else 1
    return min(bounds)


def _days_per_week(shape: RuleShape) -> int:
    """Days one WEEKLY period makes: its BYDAYs; without them, DTSTART's weekday, unless a
    day part (BYMONTHDAY, BYYEARDAY, BYWEEKNO) stands in for it and any day may match."""
    sizes = shape.sizes
    if sizes.get("BYDAY"):
        return min(7, sizes["BYDAY"])
    if any(sizes.get(part) for part in ("BYMONTHDAY", "BYYEARDAY", "BYWEEKNO")):
        return 7
    return 1


def _per_period(shape: RuleShape) -> int:
    """An upper bound on the instances one period of the rule makes."""
    expanders = _TIME_EXPANDERS.get(shape.freq, ("BYHOUR", "BYMINUTE", "BYSECOND"))
    n = math.prod(shape.sizes.get(part, 1) or 1 for part in expanders)
    if shape.freq == "WEEKLY":
        n *= _days_per_week(shape)
    elif shape.freq in ("MONTHLY", "YEARLY"):
        n *= _days_per_period(shape)
    return n


def _months(a: datetime, b: datetime) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def _periods(shape: RuleShape, start: datetime, lo: datetime, hi: datetime) -> int:
    """Periods of the rule (from ``start``) that can make an instance in ``[lo, hi]``."""
    if shape.until is not None:
        hi = min(hi, shape.until + timedelta(days=1))
    if hi < start or hi < lo:
        return 0
    unit = _UNIT_SECONDS.get(shape.freq)
    if unit is not None:
        step = unit * shape.interval
        first = max(0, math.ceil(((lo - start).total_seconds() - step) / step))
        last = math.floor((hi - start).total_seconds() / step)
    else:
        scale = 12 if shape.freq == "YEARLY" else 1
        step = scale * shape.interval
        first = max(0, _months(start, lo) // step - 1)
        last = _months(start, hi) // step
    return max(0, last - first + 1)


def _bounded(shape: RuleShape, n: int) -> int:
    return n if shape.count is None else min(n, shape.count)


def steps_until(shape: RuleShape, start: datetime, hi: datetime) -> int:
    """An upper bound on the repetitions from ``start`` up to ``hi``."""
    return _bounded(shape, _periods(shape, start, start, hi) * _per_period(shape))


def instances_between(shape: RuleShape, start: datetime, lo: datetime, hi: datetime) -> int:
    """An upper bound on the instances with a wall-clock start in ``[lo, hi]``."""
    return _bounded(shape, _periods(shape, start, lo, hi) * _per_period(shape))


def count_between(
    shape: RuleShape, start: datetime, lo: datetime, hi: datetime, enough: int
) -> int:
    """A lower bound on the instances starting in ``[lo, hi]`` (wall clock), stopped
    past ``enough``: exact for rules without BY parts, else counted with dateutil
    (0 if dateutil cannot read the rule)."""
    until = shape.until - timedelta(days=1) if shape.until is not None else None
    unit = _UNIT_SECONDS.get(shape.freq)
    if unit is not None and not shape.sizes:
        step = unit * shape.interval
        first = max(0, math.ceil((lo - start).total_seconds() / step))
        end = hi if until is None else min(hi, until)
        last = math.floor((end - start).total_seconds() / step)
        if shape.count is not None:
            last = min(last, shape.count - 1)
        return max(0, last - first + 1)
    end = hi if until is None else min(hi, until)
    try:
        with warnings.catch_warnings():  # COUNT with UNTIL: dateutil warns, and stops at both
            warnings.simplefilter("ignore")
            parsed = rrulestr(_UNTIL.sub("", shape.text).strip(";"), dtstart=start)
            if not isinstance(parsed, rrule):  # one rule never reads as a set
                return 0
            rule = parsed.replace(until=end)  # never walk past hi, even if nothing matches
    except (ValueError, TypeError, KeyError, IndexError):
        return 0
    found = 0
    for when in rule.xafter(lo, inc=True):
        if when > hi or found > enough:
            break
        found += 1
    return found


@dataclass(frozen=True)
class Load:
    """What rules weigh against the limits over one span: repetitions from their starts
    (``MAX_RECURRENCE_STEPS``) and an upper bound on their instances near the span."""

    steps: int = 0
    instances: int = 0

    def __add__(self, other: Load) -> Load:
        return Load(self.steps + other.steps, self.instances + other.instances)


def _bounds(span: Interval) -> tuple[datetime, datetime]:
    return naive(span.start) - _SEARCH, naive(span.end) + _SEARCH


def rule_load(recurring: Iterable[Recurring], span: Interval) -> Load:
    """The load of ``recurring`` over ``span`` (what ``check_rules`` adds up)."""
    lo, hi = _bounds(span)
    rules = [(event, shape) for event in recurring for shape in event.rules]
    return Load(
        sum(steps_until(shape, event.start, hi) for event, shape in rules),
        sum(instances_between(shape, event.start, lo, hi) for event, shape in rules),
    )


class Undecided(CalendarError):
    """Part of a calendar cannot tell whether the whole would be refused (read it whole)."""


def check_rules(
    recurring: Iterable[Recurring],
    span: Interval,
    source: str,
    *,
    cap: int = MAX_INSTANCES,
    carried: Load | None = None,
) -> None:
    """Refuse, before expanding anything, a calendar whose rules go past a limit.

    The outcome does not depend on the order of ``recurring`` (the fast and the
    full path list the rules in different orders). ``carried`` is the load of
    rules of the same calendar that are not in ``recurring`` (an incremental
    re-read); when the instance bound with it needs an exact count, ``Undecided``.
    """
    lo, hi = _bounds(span)
    extra = carried or Load()
    rules = [(event, shape) for event in recurring for shape in event.rules]
    steps = [steps_until(shape, event.start, hi) for event, shape in rules]
    if sum(steps) + extra.steps > MAX_RECURRENCE_STEPS:
        if not rules:
            raise Undecided(source, "the rules not read again exceed the limit")
        _, (event, shape) = max(
            zip(steps, rules, strict=True), key=lambda x: (x[0], x[1][0].uid, x[1][1].freq)
        )
        raise RecurrenceTooLarge(
            source,
            uid=event.uid,
            freq=shape.freq,
            steps=sum(steps) + extra.steps,
            budget=MAX_RECURRENCE_STEPS,
            until=span.end,
        )
    wide = sum(instances_between(shape, event.start, lo, hi) for event, shape in rules)
    if wide + extra.instances > cap:
        if extra.instances:
            raise Undecided(source, "an exact count needs every rule of the calendar")
        _check_count(rules, span, source, cap)


def _check_count(
    wide: list[tuple[Recurring, RuleShape]], span: Interval, source: str, cap: int
) -> None:
    """Count the instances the expansion would certainly make (those starting inside
    ``span`` widened by ``PAD``, in any zone); refuse past ``cap``."""
    searched = Interval(span.start - PAD, span.end + PAD)
    lo, hi = naive(searched.start) + ZONE_MARGIN, naive(searched.end) - ZONE_MARGIN
    found = 0
    for event, shape in wide:
        counted = count_between(shape, event.start, lo, hi, cap - found + event.removed)
        found += max(0, counted - event.removed)
        if found > cap:
            raise TooManyInstances(source, cap=cap, at_least=found, span=searched)


def check_found(found: int, span: Interval, source: str, *, cap: int = MAX_INSTANCES) -> None:
    """Refuse a calendar whose expansion found more than ``cap`` instances."""
    if found > cap:
        raise TooManyInstances(source, cap=cap, at_least=found, span=span)
