"""Server-rendered SVG timeline of one option: a row per person, in their local hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from scheduler.localtime import local_instant, working_instants
from scheduler.model import Option, WorkingHours

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
    busy: tuple[tuple[datetime, datetime], ...] = ()  # calendar busy time, bookings, holds


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
    busy: list[tuple[datetime, datetime]] | tuple[tuple[datetime, datetime], ...] = (),
) -> Row:
    shaded = working_instants(hours, ZoneInfo(tz), span[0], span[1])
    blocks = [
        (s.start, s.end, s.name, i) for i, s in enumerate(option.sessions) if key in s.interviewers
    ]
    inside = tuple((a, b) for a, b in busy if b > span[0] and a < span[1])
    return Row(name, tz, shaded, blocks, busy=inside)


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


def _header(scale: _Scale, height: int) -> list[str]:
    """The UTC hour grid, labelled every other hour."""
    out = []
    for h in range(scale.hours + 1):
        t = scale.start + timedelta(hours=h)
        xx = scale.x(t)
        out.append(
            f'<line x1="{xx:.1f}" y1="{TOP - 4}" x2="{xx:.1f}" y2="{height - 4}" class="tl-grid"/>'
        )
        if h % 2 == 0:
            out.append(f'<text x="{xx:.1f}" y="12" class="tl-utc">{t:%H} UTC</text>')
    return out


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
    for a, b in row.busy:
        out.append(
            f'<rect x="{x(a):.1f}" y="{y}" width="{max(x(b) - x(a), 1):.1f}" '
            f'height="5" class="tl-busy"><title>{escape(row.name)} busy '
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
    for h in range(0, scale.hours + 1, 2):
        t = scale.start + timedelta(hours=h)
        out.append(
            f'<text x="{scale.x(t) + 2:.1f}" y="{y + ROW_H - 7}" class="tl-local">'
            f"{_hhmm(t, row.timezone)}</text>"
        )
    first = row.blocks[0][0] if row.blocks else None
    local_start = f" · {_hhmm(first, row.timezone)}" if first else ""
    out.append(
        f'<text x="4" y="{y + 13}" class="tl-name">'
        f"{escape(row.name)}{escape(local_start)}</text>"
        f'<text x="4" y="{y + 27}" class="tl-zone">{escape(row.timezone)}</text>'
    )
    out.append("</g>")
    return out


def render(rows: list[Row], span: tuple[datetime, datetime], title: str) -> Markup:
    scale = _Scale(*span)
    height = TOP + ROW_H * len(rows) + 6
    width = LABEL_W + CHART_W + 10
    out: list[str] = [
        f'<svg class="timeline" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    out += _header(scale, height)
    for n, row in enumerate(rows):
        out += _row(row, n, scale)
    out.append("</svg>")
    return Markup("".join(out))


def local_date(dt: datetime, tz: str) -> date:
    return dt.astimezone(ZoneInfo(tz)).date()
