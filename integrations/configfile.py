"""Reading the configuration file and the interviewers' calendars it names."""

from __future__ import annotations

import os
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from integrations.budget import Reader
from integrations.errors import CalendarError
from scheduler.config import parse_config
from scheduler.errors import ConfigError
from scheduler.intervals import merge
from scheduler.model import Config, Interval, Interviewer


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


@dataclass(frozen=True)
class LoadedConfig:
    config: Config
    path: Path

    def calendar_location(self, entry: str) -> str:
        """A calendar entry as a URL or an absolute path (relative to the file)."""
        if is_url(entry):
            return entry
        return str((self.path.parent / Path(entry).expanduser()).resolve())


def read_toml(path: Path) -> dict[str, object]:
    """A TOML file's tables (the one reader of the company config file, for the engine CLI
    and the web importer); ConfigError names the file and what is wrong with it."""
    source = str(path)
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            source, "(file)", source, "file not found (no such file or directory)"
        ) from None
    except IsADirectoryError:
        hint = "is a directory, expected a TOML file"
        raise ConfigError(source, "(file)", source, hint) from None
    except tomllib.TOMLDecodeError as exc:
        hint = f"not valid TOML ({exc}); fix the syntax"
        raise ConfigError(source, "(syntax)", str(exc), hint) from None
    except UnicodeDecodeError:
        raise ConfigError(source, "(file)", source, "not UTF-8 text") from None


def load_config(path: str | Path, check_files: bool = True) -> LoadedConfig:
    """Read and validate a configuration file; optionally check calendar files exist."""
    file = Path(path)
    loaded = LoadedConfig(parse_config(read_toml(file), str(file)), file)
    if check_files:
        check_calendar_files(loaded)
    return loaded


def check_calendar_files(loaded: LoadedConfig) -> None:
    for index, person in enumerate(loaded.config.interviewers):
        for number, entry in enumerate(person.calendars):
            location = loaded.calendar_location(entry)
            if not is_url(location) and not Path(location).is_file():
                raise ConfigError(
                    loaded.config.source,
                    f"interviewers[{index}].calendars[{number}]",
                    entry,
                    f"calendar file not found (looked for {location})",
                )


def read_calendar(
    location: str, person: Interviewer, window: Interval, budget: Reader | None = None
) -> list[Interval]:
    """Busy intervals of one calendar (file or URL) of ``person`` in ``window``."""
    if is_url(location):
        from integrations.calendars.feed import ICSFeedBackend

        backend = ICSFeedBackend(location, timezone=person.timezone, email=person.email)
        return list(backend.read_busy(window).busy)
    from integrations.ics import read_ics_file

    found = read_ics_file(
        location, timezone=person.timezone, window=window, email=person.email, budget=budget
    )
    return list(found.busy)


def read_all_busy(
    loaded: LoadedConfig, window: Interval, budget: Reader | None = None
) -> dict[str, list[Interval]]:
    """Merged busy intervals per interviewer; a CalendarError names the calendar.

    With ``budget``, files are read in its child processes, several at once
    (one per core), each under the budget's limits.
    """
    jobs = [
        (person, loaded.calendar_location(entry))
        for person in loaded.config.interviewers
        for entry in person.calendars
    ]
    width = min(len(jobs), os.cpu_count() or 1) if budget is not None else 1
    with ThreadPoolExecutor(max_workers=max(1, width)) as pool:
        reads = list(pool.map(lambda job: read_calendar(job[1], job[0], window, budget), jobs))
    busy: dict[str, list[Interval]] = {p.id: [] for p in loaded.config.interviewers}
    for (person, _), found in zip(jobs, reads, strict=True):
        busy[person.id].extend(found)
    return {key: merge(found) for key, found in busy.items()}


__all__ = ["CalendarError", "LoadedConfig", "load_config", "read_all_busy", "read_calendar"]
