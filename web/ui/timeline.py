"""Server-rendered SVG timeline of one option: a row per person, in their local hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from scheduler.localtime import local_instant, working_instants
from scheduler.model import Option, WorkingHours

Spans = list[tuple[datetime, datetime]] | tuple[tuple[datetime, datetime], ...]

LABEL_W = 210
CHART_W = 660
ROW_H = 36
TOP = 22
PALETTE = ("#2f6fdf", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490")


@dataclass(frozen=True)
class Row:
    name: str
    timezone: str
    shaded: list[tuple[datetime, datetime]]  # working (or comfortable) hours as UTC pairs
    blocks: list[tuple[datetime, datetime, str, int]]  # start, end, session name, session index
    is_candidate: bool = False
    busy: tuple[tuple[datetime, datetime], ...] = ()  # calendar busy time, bookings
    holds: tuple[tuple[datetime, datetime], ...] = ()  # other requests' holds


def candidate_row(name: str, tz: str, hours: tuple[int, int], option: Option) -> Row:
    z = ZoneInfo(tz)
    shaded = []
    d0 = option.start.astimezone(z).date() - timedelta(days=1)
    for n in range(3):
        d = d0 + timedelta(days=n)
        shaded.append((local_instant(d, hours[0], z), local_instant(d, hours[1], z)))
    blocks = [(s.start, s.end, s.name, i) for i, s in enumerate(option.sessions)]
    return Row(name, tz, shaded, blocks, is_candidate=True)


def interviewer_row(
    name: str,
    tz: str,
    hours: WorkingHours,
    key: str,
    option: Option,
    span: tuple[datetime, datetime],
    *,
    busy: Spans = (),
    holds: Spans = (),
) -> Row:
    shaded = working_instants(hours, ZoneInfo(tz), span[0], span[1])
    blocks = [
        (s.start, s.end, s.name, i) for i, s in enumerate(option.sessions) if key in s.interviewers
    ]
    return Row(name, tz, shaded, blocks, busy=_inside(busy, span), holds=_inside(holds, span))


def _inside(spans: Spans, span: tuple[datetime, datetime]) -> tuple[tuple[datetime, datetime], ...]:
    return tuple((a, b) for a, b in spans if b > span[0] and a < span[1])


def _midnight(dt: datetime, tz: str) -> datetime:
    z = ZoneInfo(tz)
    return datetime.combine(dt.astimezone(z).date(), datetime.min.time(), z).astimezone(UTC)


def shared_hours(options: list[Option], tz: str) -> tuple[int, int]:
    """One hour range (hours after local midnight in ``tz``, the end may pass 24) that
    covers every option with 2 h of context, at least 12 h: every card shows the same."""
    lows, highs = [], []
    for o in options:
        base = _midnight(o.start, tz)
        lows.append(int((o.start - base).total_seconds() // 3600))
        highs.append(-int(-(o.end - base).total_seconds() // 3600))
    low, high = (min(lows) - 2, max(highs) + 2) if options else (6, 20)
    while high - low < 12:
        low, high = low - 1, high + 1
    return low, high


def span_on(option: Option, tz: str, hours: tuple[int, int]) -> tuple[datetime, datetime]:
    """The hour range ``hours`` of :func:`shared_hours` on the option's local day in ``tz``."""
    base = _midnight(option.start, tz)
    return base + timedelta(hours=hours[0]), base + timedelta(hours=hours[1])


def span_for(option: Option) -> tuple[datetime, datetime]:
    """At least 12 whole hours around the option, with 3 h of context each side."""
    start = option.start.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=3
    )
    end = option.end.astimezone(UTC)
    end = end.replace(minute=0, second=0, microsecond=0) + timedelta(hours=4 if end.minute else 3)
    while end - start < timedelta(hours=12):
        start -= timedelta(hours=1)
        end += timedelta(hours=1)
    return start, end


def _hhmm(dt: datetime, tz: str) -> str:
    loc = dt.astimezone(ZoneInfo(tz))
    return f"{loc.hour:02d}" if loc.minute == 0 else f"{loc.hour:02d}:{loc.minute:02d}"


@dataclass(frozen=True)
class _Scale:
    """The chart's time axis: ``start`` .. ``end`` across ``CHART_W`` pixels."""

    start: datetime
    end: datetime

    @property
    def hours(self) -> int:
        return int((self.end - self.start).total_seconds() // 3600)

    def x(self, dt: datetime) -> float:
        total = (self.end - self.start).total_seconds()
        secs = (min(max(dt, self.start), self.end) - self.start).total_seconds()
        return LABEL_W + CHART_W * secs / total


def _header(scale: _Scale, height: int, axis_tz: str) -> list[str]:
    """The hour grid, labelled every other hour in ``axis_tz`` (the coordinator's zone)."""
    out = [
        f'<text x="4" y="12" class="tl-axis-zone"><title>Axis: {escape(axis_tz)}</title>'
        f"{escape(fit(axis_tz, NAME_CHARS)[0])}</text>"
    ]
    for h in range(scale.hours + 1):
        t = scale.start + timedelta(hours=h)
        xx = scale.x(t)
        out.append(
            f'<line x1="{xx:.1f}" y1="{TOP - 4}" x2="{xx:.1f}" y2="{height - 4}" class="tl-grid"/>'
        )
        if h % 2 == 0 and h < scale.hours:
            out.append(f'<text x="{xx + 2:.1f}" y="12" class="tl-axis">{_hhmm(t, axis_tz)}</text>')
    return out


NAME_CHARS = 30  # what fits in LABEL_W at the label's font size


def fit(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters with an ellipsis; whether it was cut."""
    return (text, False) if len(text) <= limit else (text[: limit - 1] + "…", True)


def _label(text: str, y: int, cls: str) -> str:
    shown, cut = fit(text, NAME_CHARS)
    title = f"<title>{escape(text)}</title>" if cut else ""
    return f'<text x="4" y="{y}" class="{cls}">{title}{escape(shown)}</text>'


def _spans(row: Row, y: int, scale: _Scale) -> list[str]:
    """A row's working hours, busy time and the option's sessions."""
    x = scale.x
    out = []
    for a, b in row.shaded:
        if b <= scale.start or a >= scale.end:
            continue
        out.append(
            f'<rect x="{x(a):.1f}" y="{y}" width="{x(b) - x(a):.1f}" height="{ROW_H - 4}" '
            f'class="tl-work"><title>{escape(row.name)}: '
            f"{'comfortable' if row.is_candidate else 'working'} hours "
            f"{_hhmm(a, row.timezone)}-{_hhmm(b, row.timezone)}</title></rect>"
        )
    for spans, cls, what in ((row.busy, "tl-busy", "busy"), (row.holds, "tl-hold", "held")):
        for a, b in spans:
            out.append(
                f'<rect x="{x(a):.1f}" y="{y}" width="{max(x(b) - x(a), 1):.1f}" '
                f'height="5" class="{cls}"><title>{escape(row.name)} {what} '
                f"{_hhmm(a, row.timezone)}-{_hhmm(b, row.timezone)}</title></rect>"
            )
    for a, b, name, idx in row.blocks:
        color = PALETTE[idx % len(PALETTE)]
        out.append(
            f'<rect x="{x(a):.1f}" y="{y + 4}" width="{max(x(b) - x(a), 2):.1f}" '
            f'height="{ROW_H - 12}" rx="3" fill="{color}" class="tl-block">'
            f"<title>{escape(name)}: {_hhmm(a, row.timezone)}-{_hhmm(b, row.timezone)} "
            f"{escape(row.timezone)}</title></rect>"
        )
    return out


def _row(row: Row, n: int, scale: _Scale) -> list[str]:
    y = TOP + n * ROW_H
    cls = "tl-row tl-cand" if row.is_candidate else "tl-row"
    out = [
        f'<g class="{cls}">',
        f'<rect x="{LABEL_W}" y="{y}" width="{CHART_W}" height="{ROW_H - 4}" class="tl-off"/>',
    ]
    out += _spans(row, y, scale)
    # local hour labels under every other grid line
    for h in range(0, scale.hours, 2):
        t = scale.start + timedelta(hours=h)
        out.append(
            f'<text x="{scale.x(t) + 2:.1f}" y="{y + ROW_H - 7}" class="tl-local">'
            f"{_hhmm(t, row.timezone)}</text>"
        )
    first = row.blocks[0][0] if row.blocks else None
    local_start = f" · {_hhmm(first, row.timezone)}" if first else ""
    out.append(_label(f"{row.name}{local_start}", y + 13, "tl-name"))
    out.append(_label(row.timezone, y + 27, "tl-zone"))
    out.append("</g>")
    return out


LEGEND = (
    ("tl-block", "sessions"),
    ("tl-busy", "busy"),
    ("tl-hold", "held for other requests"),
    ("tl-work tl-cand-hours", "candidate's hours"),
    ("tl-work", "working hours"),
)


def _legend(y: int) -> list[str]:
    out = [f'<g class="tl-legend" transform="translate({LABEL_W},{y})">']
    x = 0
    for cls, text in LEGEND:
        out.append(
            f'<rect x="{x}" y="0" width="12" height="10" class="{cls}"/>'
            f'<text x="{x + 16}" y="9" class="tl-legend-text">{escape(text)}</text>'
        )
        x += 24 + 6 * len(text)
    out.append("</g>")
    return out


def render(
    rows: list[Row],
    span: tuple[datetime, datetime],
    title: str,
    *,
    axis_tz: str = "UTC",
    hours: tuple[int, int] | None = None,
) -> Markup:
    """The SVG of ``rows`` over ``span``; the axis in ``axis_tz``; ``hours`` (a shared hour
    range) is written to ``data-hours`` so every card can be seen to show the same."""
    scale = _Scale(*span)
    height = TOP + ROW_H * len(rows) + 6
    width = LABEL_W + CHART_W + 10
    shown = hours or (
        int((span[0] - _midnight(span[0], axis_tz)).total_seconds() // 3600),
        int((span[1] - _midnight(span[0], axis_tz)).total_seconds() // 3600),
    )
    out: list[str] = [
        f'<svg class="timeline" viewBox="0 0 {width} {height + 20}" width="100%" '
        f'data-hours="{shown[0]}-{shown[1]}" data-axis-zone="{escape(axis_tz)}" '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    out += _header(scale, height, axis_tz)
    for n, row in enumerate(rows):
        out += _row(row, n, scale)
    out += _legend(height + 4)
    out.append("</svg>")
    return Markup("".join(out))


def local_date(dt: datetime, tz: str) -> date:
    return dt.astimezone(ZoneInfo(tz)).date()
