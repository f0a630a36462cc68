"""Reading the configuration file and the interviewers' calendars it names."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

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
    source = str(path)
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(source, "(file)", source, "no such file") from None
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


def read_calendar(location: str, person: Interviewer, window: Interval) -> list[Interval]:
    """Busy intervals of one calendar (file or URL) of ``person`` in ``window``."""
    if is_url(location):
        from integrations.calendars.feed import ICSFeedBackend

        backend = ICSFeedBackend(location, timezone=person.timezone, email=person.email)
        return list(backend.read_busy(window).busy)
    from integrations.ics import read_ics_file

    return list(
        read_ics_file(location, timezone=person.timezone, window=window, email=person.email).busy
    )


def read_all_busy(loaded: LoadedConfig, window: Interval) -> dict[str, list[Interval]]:
    """Merged busy intervals per interviewer; a CalendarError names the calendar."""
    busy: dict[str, list[Interval]] = {}
    for person in loaded.config.interviewers:
        found: list[Interval] = []
        for entry in person.calendars:
            found.extend(read_calendar(loaded.calendar_location(entry), person, window))
        busy[person.id] = merge(found)
    return busy


__all__ = ["CalendarError", "LoadedConfig", "load_config", "read_all_busy", "read_calendar"]
