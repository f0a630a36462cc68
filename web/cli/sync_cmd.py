"""`panelslot sync`: read interviewers' calendars into the database now.

    panelslot db upgrade
    panelslot import config.example.toml
    panelslot sync                     # every active interviewer
    panelslot sync --interviewer alice --json

Prints, per calendar, the events read, busy intervals stored, time taken and
any error; a failing calendar keeps its last good busy time. Exit status 0
when every calendar was read, 1 when some failed, 2 on a usage error.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from web.cli.common import emit_json, iso_z, parse_now
from web.cli.web_cmds import CONFIG_OPTION, _check_schema, _database, _fail, _settings


def _resolve(s: Any, who: str) -> int:
    from sqlalchemy import select

    from web.store.models import Interviewer

    row = s.scalar(select(Interviewer).where(Interviewer.key == who))
    if row is None and who.isdigit():
        row = s.get(Interviewer, int(who))
    if row is None:
        _fail(f"--interviewer {who!r}: no such interviewer; use the id from the config file")
    return int(row.id)


def _table(results: list[Any]) -> list[str]:
    head = ("interviewer", "calendar", "kind", "events", "busy", "time", "result")
    rows = [
        (
            r.interviewer_key,
            r.label,
            r.kind,
            str(r.events_read) if r.ok else "-",
            str(r.busy) if r.ok else "-",
            f"{r.seconds:.2f}s",
            (
                ("ok (unchanged)" if r.unchanged else "ok")
                + (f"; {len(r.warnings)} warning(s): {r.warnings[0]}" if r.warnings else "")
            )
            if r.ok
            else f"{'RECONNECT' if r.reconnect else 'ERROR'}: {r.error} "
            f"(kept {r.kept_blocks} last good blocks)",
        )
        for r in results
    ]
    widths = [max(len(x[i]) for x in [head, *rows]) for i in range(len(head) - 1)]

    def line(cells: tuple[str, ...]) -> str:
        first = "  ".join(c.ljust(w) for c, w in zip(cells[:-1], widths, strict=True))
        return f"{first}  {cells[-1]}"

    return [line(head), *(line(r) for r in rows)]


@click.command("sync")
@click.option("--interviewer", "who", default=None, help="Only this interviewer (config id).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--now", "now_text", default=None, help="Pretend it is this UTC time (tests).")
@CONFIG_OPTION
def sync_command(
    who: str | None, as_json: bool, now_text: str | None, config_path: str | None
) -> None:
    """Read interviewers' calendars (ICS, CalDAV, Google) into the database now."""
    from web.domain.sync.config import SyncConfig
    from web.domain.sync.sync import SourceResult, plan, sync_interviewer

    settings = _settings(config_path)
    db = _database(settings)
    _check_schema(db)
    cfg = SyncConfig.from_settings(settings)
    now = parse_now(now_text)
    started = time.perf_counter()
    with db.session() as s:
        ids = [_resolve(s, who)] if who else None
        people = plan(s, ids)
        total = sum(len(p.calendars) for p in people)
        results: list[SourceResult] = []
        show_bar = not as_json and sys.stdout.isatty() and total > 0
        if show_bar:
            bar: Any
            with click.progressbar(
                length=total,
                label="Syncing calendars",
                item_show_func=lambda r: f"{r.interviewer_key}/{r.label}" if r else "",
            ) as bar:

                def step(r: SourceResult) -> None:
                    results.append(r)
                    bar.update(1, r)

                for p in people:
                    sync_interviewer(s, p, now, cfg, commit=True, progress=step)
        else:
            for p in people:
                results.extend(sync_interviewer(s, p, now, cfg, commit=True))
    elapsed = time.perf_counter() - started
    failed = sum(not r.ok for r in results)
    if as_json:
        emit_json(
            {
                "synced_at": iso_z(now),
                "seconds": round(elapsed, 3),
                "calendars": [r.as_json() for r in results],
                "ok": len(results) - failed,
                "failed": failed,
            }
        )
    elif not results:
        click.echo("No calendars to sync (add some with `panelslot import` or the web app).")
    else:
        for text in _table(results):
            click.echo(text)
        click.echo(
            f"{len(results) - failed} of {len(results)} calendars synced in {elapsed:.2f}s"
            + (f"; {failed} failed (their last good busy time is kept)" if failed else "")
        )
    db.dispose()
    if failed:
        sys.exit(1)


def register(group: click.Group) -> None:
    group.add_command(sync_command)
