"""``panelslot slots`` and ``panelslot busy``: the engine from the command line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

from integrations.budget import ReadBudget, Reader
from integrations.configfile import LoadedConfig, load_config, read_all_busy, read_calendar
from scheduler.errors import ConfigError
from scheduler.explain import LATER_DAYS, Explanation, Search, Suggestion, explain
from scheduler.intervals import clip
from scheduler.localtime import local_instant, parse_range
from scheduler.model import Interval, Interviewer, Loop, Option, WorkingHours
from scheduler.optionjson import slots_json
from web.cli.common import (
    emit_json,
    fail,
    friendly_errors,
    iso_z,
    parse_date,
    parse_now,
    parse_zone,
)
from web.domain.zones import utc_offset_label


def date_window(first: date, last: date, tz: str) -> Interval:
    """Local dates ``first``..``last`` inclusive, as a UTC window."""
    zone = ZoneInfo(tz)
    return Interval(local_instant(first, 0, zone), local_instant(last + timedelta(days=1), 0, zone))


def _local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


def _span(start: datetime, end: datetime, tz: str) -> str:
    lo, hi = _local(start, tz), _local(end, tz)
    days = (hi.date() - lo.date()).days
    suffix = f" (+{days}d)" if days > 0 else ""
    return f"{lo:%H:%M}-{hi:%H:%M}{suffix} {lo.tzname()}"


def option_lines(rank: int, option: Option, tz: str, people: dict[str, Interviewer]) -> list[str]:
    first = _local(option.start, tz)
    lines = [f"#{rank:<3} score {option.score:.3f}   {first:%a %d %b %Y} (candidate)"]
    shown = first.date()
    for slot in option.sessions:
        here = _local(slot.start, tz)
        if here.date() != shown:  # the next block of a multi-day loop
            shown = here.date()
            lines.append(f"     then {here:%a %d %b %Y} (candidate)")
        who = ", ".join(
            f"{p} {_span(slot.start, slot.end, people[p].timezone)}" for p in slot.interviewers
        )
        lines.append(f"     {_span(slot.start, slot.end, tz):<24} {slot.name:<20} {who}")
    return lines


def print_table(loop: Loop, options: list[Option], tz: str, people: dict[str, Interviewer]) -> None:
    sample = datetime.now(UTC).astimezone(ZoneInfo(tz))
    click.echo(f'Loop "{loop.id}" ({loop.name}): {len(options)} option(s)')
    click.echo(
        f"Candidate times in {tz} ({utc_offset_label(sample)} today); interviewers in theirs."
    )
    for rank, option in enumerate(options, start=1):
        click.echo("")
        click.echo("\n".join(option_lines(rank, option, tz, people)))
    if not options:
        click.echo("No option fits: widen the dates or the candidate's hours, or add interviewers.")


def pick_loop(loaded: LoadedConfig, loop_id: str) -> Loop:
    loop = loaded.config.loop(loop_id)
    if loop is None:
        known = ", ".join(lp.id for lp in loaded.config.loops) or "none"
        raise ConfigError(
            loaded.config.source, "loops", loop_id, f"no loop has this id (known: {known})"
        )
    return loop


def parse_hours_option(text: str) -> tuple[int, int]:
    try:
        return parse_range(text)
    except ValueError as exc:
        fail(f"--candidate-hours {text!r}: {exc}")


F = TypeVar("F", bound=Callable[..., Any])


def read_budget_options(fn: F) -> F:
    """--read-seconds and --read-memory-mb: the budget of each calendar read."""
    fn = click.option(
        "--read-memory-mb",
        default=ReadBudget.memory_mb,
        show_default=True,
        type=click.IntRange(min=64),
        help="Memory one calendar read may use; a read that needs more is refused.",
    )(fn)
    return click.option(
        "--read-seconds",
        default=ReadBudget.seconds,
        show_default=True,
        type=click.FloatRange(min=0.1),
        help="Time one calendar read may take; a longer one is stopped.",
    )(fn)


def budget_reader(seconds: float, memory_mb: int) -> Reader:
    return Reader(ReadBudget(seconds=seconds, memory_mb=memory_mb))


@click.command("slots")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--loop", "loop_id", required=True, help="Id of the loop to plan.")
@click.option(
    "--from", "date_from", required=True, help="First date (candidate's zone), YYYY-MM-DD."
)
@click.option("--to", "date_to", required=True, help="Last date (candidate's zone), inclusive.")
@click.option("--candidate-tz", required=True, help="Candidate's IANA time zone.")
@click.option(
    "--candidate-hours", default="08:00-20:00", show_default=True, help="Candidate's hours."
)
@click.option("--now", "now_text", default=None, help="Pretend it is this instant (ISO 8601).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=0), help="0 = all.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--explain",
    "with_reasons",
    is_flag=True,
    help="With too few options: why, per session, and which one change would give more.",
)
@read_budget_options
@friendly_errors
def slots_command(
    config: str,
    loop_id: str,
    date_from: str,
    date_to: str,
    candidate_tz: str,
    candidate_hours: str,
    now_text: str | None,
    limit: int,
    as_json: bool,
    with_reasons: bool,
    read_seconds: float,
    read_memory_mb: int,
) -> None:
    """Find the ranked options of a loop from CONFIG (a panelslot TOML file)."""
    first, last = parse_date("--from", date_from), parse_date("--to", date_to)
    tz = parse_zone("--candidate-tz", candidate_tz)
    hours = parse_hours_option(candidate_hours)
    if last < first:
        fail(f"--to {date_to}: before --from {date_from}")
    now = parse_now(now_text)
    loaded = load_config(config)
    loop = pick_loop(loaded, loop_id)
    reach = LATER_DAYS if with_reasons else 0  # a later --to is looked for that far
    window = date_window(first - timedelta(days=1), last + timedelta(days=1 + reach), tz)
    busy = read_all_busy(loaded, window, budget_reader(read_seconds, read_memory_mb))
    people = loaded.config.interviewer_map()
    search = Search(loop, people, busy, tz, first, last, now, hours)
    options = search.options(limit)
    reasons = None
    if with_reasons:
        reasons = explain(search, limit, len(options) if limit == 0 else None)
    if as_json:
        emit_json(slots_json(options, reasons))
    else:
        print_table(loop, options, tz, people)
        if reasons is not None:
            print_explanation(reasons)


def suggestion_line(item: Suggestion) -> str:
    where = {
        "to": f"--to {item.value}",
        "candidate_hours": f"--candidate-hours {item.value}",
        "max_gap_minutes": f"max_gap_minutes = {item.value} in the loop",
        "required": f'required = {item.value} in session "{item.session}"',
        "order": f'order = "{item.value}" in the loop',
    }[item.parameter]
    return f"  {where}: {item.options} option(s)"


def print_explanation(reasons: Explanation) -> None:
    if not reasons.why and not reasons.suggestions:
        return
    click.echo("")
    click.echo(f"Why only {reasons.found} option(s):")
    for reason in reasons.why:
        click.echo(f"  {reason.session}: {reason.constraint}: {reason.detail}")
    if not reasons.why:
        click.echo("  every session has start times; they do not combine into a whole loop")
    click.echo("What would work (one change each; counts as with --limit 0):")
    for item in reasons.suggestions:
        click.echo(suggestion_line(item))
    if not reasons.suggestions:
        click.echo("  no single change within reach gives more options")


@click.command("busy")
@click.argument("calendar")
@click.option("--timezone", "tz_name", required=True, help="Owner's IANA zone (all-day, floating).")
@click.option("--email", default=None, help="Owner's address: events they declined are free.")
@click.option("--from", "date_from", required=True, help="First date in --timezone.")
@click.option("--to", "date_to", required=True, help="Last date in --timezone, inclusive.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@read_budget_options
@friendly_errors
def busy_command(
    calendar: str,
    tz_name: str,
    email: str | None,
    date_from: str,
    date_to: str,
    as_json: bool,
    read_seconds: float,
    read_memory_mb: int,
) -> None:
    """Show the merged busy intervals of one CALENDAR (ICS file or URL)."""
    first, last = parse_date("--from", date_from), parse_date("--to", date_to)
    tz = parse_zone("--timezone", tz_name)
    if last < first:
        fail(f"--to {date_to}: before --from {date_from}")
    window = date_window(first, last, tz)
    owner = Interviewer("owner", "owner", email or "", tz, WorkingHours({}))
    reader = budget_reader(read_seconds, read_memory_mb)
    busy = clip(read_calendar(calendar, owner, window, reader), window)
    if as_json:
        emit_json({"busy": [{"start": iso_z(b.start), "end": iso_z(b.end)} for b in busy]})
        return
    click.echo(f"{len(busy)} busy interval(s) in {calendar}, shown in {tz}:")
    for item in busy:
        lo, hi = _local(item.start, tz), _local(item.end, tz)
        click.echo(f"  {lo:%a %Y-%m-%d %H:%M} - {hi:%a %Y-%m-%d %H:%M} {lo.tzname()}")


def register(group: click.Group) -> None:
    group.add_command(slots_command)
    group.add_command(busy_command)
