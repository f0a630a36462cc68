"""The web app's settings: one schema, loaded from TOML, overridden by PANELSLOT_* variables.

Every option has a default, a type and a help line. Values come, in rising
priority, from the default, the TOML file named by ``PANELSLOT_CONFIG`` (its
``[server]``, ``[database]``, ``[mail]`` and ``[security]`` tables), the
environment (``PANELSLOT_<SECTION>_<NAME>``) and explicit overrides. Secrets
are only read from the environment. Errors say where the bad value came from.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SECRET = "change-me"  # the placeholder in config.example.toml's comments
MODES = ("production", "demo", "testing")


class SettingsError(ValueError):
    """A setting is wrong: ``origin`` says where the value came from."""

    def __init__(self, origin: str, key: str, value: object, hint: str) -> None:
        self.origin = origin
        self.key = key
        self.value = value
        self.hint = hint
        shown = "<hidden>" if _is_secret(key) else repr(value)
        super().__init__(f"{origin}: {key} = {shown}: {hint}")


@dataclass(frozen=True)
class Opt:
    section: str
    name: str
    type: type
    default: Any
    help: str
    secret: bool = False
    choices: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def env(self) -> str:
        if self.section == "security" and self.name in ("secret_key", "token_key"):
            return f"PANELSLOT_{self.name.upper()}"
        return f"PANELSLOT_{self.section.upper()}_{self.name.upper()}"


SCHEMA: tuple[Opt, ...] = (
    Opt("server", "mode", str, "production", "production, demo or testing", choices=MODES),
    Opt("server", "host", str, "127.0.0.1", "address `panelslot serve` listens on"),
    Opt("server", "port", int, 8000, "port `panelslot serve` listens on"),
    Opt("server", "workers", int, 2, "gunicorn worker processes for `panelslot serve`"),
    Opt("server", "public_url", str, "", "base URL used in mailed links (empty: from request)"),
    Opt("server", "offer_count", int, 5, "options pre-selected to offer a candidate"),
    Opt("server", "worker_poll_seconds", float, 2.0, "how often the worker polls job rows"),
    Opt("server", "worker_stale_seconds", float, 120.0, "/healthz: heartbeat older = down"),
    Opt(
        "database", "url", str, "sqlite:///panelslot.sqlite3", "SQLAlchemy URL (sqlite/postgresql)"
    ),
    Opt("database", "echo", bool, False, "log every SQL statement"),
    Opt(
        "mail",
        "sender",
        str,
        "file",
        "smtp, file (outbox folder) or none",
        choices=("smtp", "file", "none"),
    ),
    Opt("mail", "from_address", str, "panelslot@localhost", "From: address of every mail"),
    Opt("mail", "outbox_dir", str, "outbox", "folder for the file sender"),
    Opt("mail", "smtp_host", str, "localhost", "SMTP server"),
    Opt("mail", "smtp_port", int, 587, "SMTP port"),
    Opt(
        "mail",
        "smtp_security",
        str,
        "starttls",
        "starttls, ssl or none",
        choices=("starttls", "ssl", "none"),
    ),
    Opt("mail", "smtp_username", str, "", "SMTP user (empty: no login)"),
    Opt("mail", "smtp_password", str, "", "SMTP password", secret=True),
    Opt("mail", "max_attempts", int, 8, "delivery attempts before a mail is marked failed"),
    Opt("security", "secret_key", str, "", "signs sessions and candidate links", secret=True),
    Opt(
        "security", "token_key", str, "", "Fernet key for stored calendar credentials", secret=True
    ),
    Opt("security", "link_max_age_days", int, 14, "candidate links expire after this many days"),
    Opt(
        "security",
        "interviewer_link_max_age_days",
        int,
        90,
        "interviewers' personal page links expire after this many days",
    ),
    Opt("security", "signin_max_failures", int, 5, "failed sign-ins allowed per window"),
    Opt("security", "signin_window_minutes", int, 15, "sign-in rate-limit window"),
    Opt(
        "security",
        "secure_cookies",
        bool,
        True,
        "session cookies over HTTPS only (false only when serving plain http on a trusted host)",
    ),
    Opt("booking", "holds", bool, True, "hold offered times away from other requests"),
    Opt(
        "booking",
        "candidate_invites",
        str,
        "session",
        "candidate invites: one per session or one for the loop",
        choices=("session", "loop"),
    ),
    Opt("booking", "change_cutoff_hours", float, 24.0, "no candidate changes this close to it"),
    Opt("booking", "reminders", str, "24h,1h", "reminders before the interview ('' = none)"),
    Opt("sync", "interval_minutes", float, 10.0, "the worker syncs every calendar this often"),
    Opt("sync", "stale_after_minutes", float, 60.0, "a calendar not synced for longer is stale"),
    Opt("sync", "days_ahead", int, 90, "busy time is read this many days ahead"),
    Opt("sync", "feed_max_mb", float, 10.0, "ICS feeds larger than this are refused"),
    Opt("sync", "timeout_seconds", float, 20.0, "network timeout when reading a calendar"),
    Opt("sync", "parallel", int, 4, "calendars read from their providers at once"),
    Opt("sync", "allow_private_feeds", bool, False, "let interviewers add loopback/LAN URLs"),
    Opt("google", "client_id", str, "", "OAuth client id (env PANELSLOT_GOOGLE_CLIENT_ID)"),
    Opt("google", "client_secret", str, "", "OAuth client secret", secret=True),
    Opt("google", "mode", str, "freebusy", "read busy time by", choices=("freebusy", "sync")),
    Opt("google", "auth_uri", str, "https://accounts.google.com/o/oauth2/auth", "OAuth URL"),
    Opt("google", "token_uri", str, "https://oauth2.googleapis.com/token", "token URL"),
    Opt("google", "api_endpoint", str, "", "Calendar API base (empty: Google's; tests)"),
    Opt("microsoft", "client_id", str, "", "Entra app (client) id for Microsoft 365 calendars"),
    Opt("microsoft", "client_secret", str, "", "Entra app client secret", secret=True),
    Opt(
        "microsoft",
        "authority",
        str,
        "https://login.microsoftonline.com/organizations",
        "sign-in authority: https://login.microsoftonline.com/<tenant id|organizations>",
    ),
    Opt("microsoft", "mode", str, "freebusy", "read busy time by", choices=("freebusy", "sync")),
    Opt("microsoft", "api_endpoint", str, "", "Graph base URL (empty: Graph v1.0; tests)"),
    Opt("microsoft", "write_back", bool, True, "ask for Calendars.ReadWrite and write interviews"),
    Opt("microsoft", "ca_bundle", str, "", "PEM file to trust for sign-in and Graph (tests)"),
    Opt(
        "microsoft",
        "instance_discovery",
        bool,
        True,
        "check the authority is a Microsoft host (false only for a test emulator)",
    ),
)

_BY_KEY = {o.key: o for o in SCHEMA}


def _is_secret(key: str) -> bool:
    opt = _BY_KEY.get(key)
    return bool(opt and opt.secret)


def _convert(opt: Opt, raw: object, origin: str) -> Any:
    value: Any
    if opt.type is bool:
        if isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str) and raw.strip().lower() in ("1", "true", "yes", "on"):
            value = True
        elif isinstance(raw, str) and raw.strip().lower() in ("0", "false", "no", "off", ""):
            value = False
        else:
            raise SettingsError(origin, opt.key, raw, "expected true or false")
    elif opt.type is int:
        if isinstance(raw, bool):
            raise SettingsError(origin, opt.key, raw, "expected a whole number")
        try:
            value = int(raw)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise SettingsError(origin, opt.key, raw, "expected a whole number") from None
        if value < 0:
            raise SettingsError(origin, opt.key, raw, "must not be negative")
    elif opt.type is float:
        try:
            value = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise SettingsError(origin, opt.key, raw, "expected a number") from None
    else:
        if not isinstance(raw, str):
            raise SettingsError(origin, opt.key, raw, "expected a string")
        value = raw
    if opt.choices and value not in opt.choices:
        raise SettingsError(origin, opt.key, raw, f"expected one of {', '.join(opt.choices)}")
    return value


@dataclass(frozen=True)
class AppSettings:
    """Resolved settings: ``values[key]`` and ``origins[key]`` for every schema key."""

    values: Mapping[str, Any]
    origins: Mapping[str, str] = field(default_factory=dict)
    config_path: str | None = None

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def mode(self) -> str:
        return str(self.values["server.mode"])

    @property
    def database_url(self) -> str:
        return normalize_db_url(str(self.values["database.url"]))

    def describe(self) -> list[tuple[str, str, str]]:
        """(key, shown value, origin) rows for `panelslot config`, secrets hidden."""
        rows = []
        for opt in SCHEMA:
            v = self.values[opt.key]
            shown = ("<set>" if v else "<unset>") if opt.secret else repr(v)
            rows.append((opt.key, shown, self.origins.get(opt.key, "default")))
        return rows


def normalize_db_url(url: str) -> str:
    """postgresql:// and postgres:// go through psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _flatten(overrides: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in overrides.items():
        if isinstance(v, Mapping):
            for k2, v2 in v.items():
                flat[f"{k}.{k2}"] = v2
        else:
            flat[k] = v
    return flat


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    config_path: str | None = None,
) -> AppSettings:
    """Resolve every option; raise SettingsError naming file/variable, key and value."""
    env = os.environ if environ is None else environ
    path = config_path or env.get("PANELSLOT_CONFIG") or None
    values: dict[str, Any] = {o.key: o.default for o in SCHEMA}
    origins: dict[str, str] = {o.key: "default" for o in SCHEMA}

    if path:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError("PANELSLOT_CONFIG", "file", path, "no such file") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(path, "file", path, f"not valid TOML ({exc})") from None
        for section in (
            "server",
            "database",
            "mail",
            "security",
            "booking",
            "sync",
            "google",
            "microsoft",
        ):
            table = data.get(section)
            if table is None:
                continue
            if not isinstance(table, dict):
                raise SettingsError(path, section, table, "expected a table")
            for name, raw in table.items():
                key = f"{section}.{name}"
                origin = f"{path} [{section}]"
                opt = _BY_KEY.get(key)
                if opt is None:
                    raise SettingsError(
                        origin, key, raw, "unknown setting (see config.example.toml)"
                    )
                if opt.secret:
                    raise SettingsError(
                        origin,
                        key,
                        raw,
                        f"secrets are read only from the environment: set {opt.env}",
                    )
                values[key] = _convert(opt, raw, origin)
                origins[key] = origin

    for opt in SCHEMA:
        if opt.env in env:
            origin = f"environment {opt.env}"
            values[opt.key] = _convert(opt, env[opt.env], origin)
            origins[opt.key] = origin

    for key, raw in _flatten(overrides or {}).items():
        opt = _BY_KEY.get(key)
        if opt is None:
            raise SettingsError("overrides", key, raw, "unknown setting")
        values[key] = _convert(opt, raw, "overrides")
        origins[key] = "overrides"

    return AppSettings(values=values, origins=origins, config_path=path)


def check_secret_key(settings: AppSettings) -> None:
    """Refuse to run in production without a real SECRET_KEY."""
    if settings.mode in ("demo", "testing"):
        return
    key = settings["security.secret_key"]
    if not key or key == DEFAULT_SECRET or len(key) < 16:
        raise SettingsError(
            settings.origins.get("security.secret_key", "default"),
            "security.secret_key",
            "",
            "set PANELSLOT_SECRET_KEY to a long random value "
            '(python -c "import secrets; print(secrets.token_urlsafe(32))"), '
            "or use server.mode = demo for a local trial",
        )
