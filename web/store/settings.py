"""The web app's settings: one schema, loaded from TOML, overridden by PANELSLOT_* variables.

Every option has a default, a type and a help line. Values come, in rising
priority, from the default, the TOML file named by ``PANELSLOT_CONFIG`` (its
``[server]``, ``[database]``, ``[mail]`` and ``[security]`` tables), the
environment (``PANELSLOT_<SECTION>_<NAME>``) and explicit overrides. Secrets
are only read from the environment. Errors say where the bad value came from.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar, get_type_hints
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from integrations.configfile import read_toml
from integrations.urlguard import allowed_hosts_problem
from scheduler.errors import ConfigError

DEFAULT_SECRET = "change-me"  # the placeholder in config.example.toml's comments
MODES = ("production", "demo", "testing")
T = TypeVar("T")


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
    """One option of the schema, derived from a field of a section class below."""

    section: str
    name: str
    type: type
    default: Any
    help: str
    secret: bool = False
    choices: tuple[str, ...] = ()
    check: Callable[[Any], str | None] | None = None  # why a value is refused, or None

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def env(self) -> str:
        if self.section == "security" and self.name in ("secret_key", "token_key"):
            return f"PANELSLOT_{self.name.upper()}"
        return f"PANELSLOT_{self.section.upper()}_{self.name.upper()}"


def opt(
    default: T,
    help: str,
    *,
    secret: bool = False,
    choices: tuple[str, ...] = (),
    check: Callable[[Any], str | None] | None = None,
) -> T:
    """A schema field: its default, help line, whether it is a secret or a choice, and
    ``check`` (why a value is refused, or None)."""
    meta = {"help": help, "secret": secret, "choices": choices, "check": check}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ServerSettings:
    mode: str = opt("production", "production, demo or testing", choices=MODES)
    host: str = opt("127.0.0.1", "address `panelslot serve` listens on")
    port: int = opt(8000, "port `panelslot serve` listens on")
    workers: int = opt(2, "gunicorn worker processes for `panelslot serve`")
    public_url: str = opt("", "base URL used in mailed links (empty: from request)")
    offer_count: int = opt(5, "options pre-selected to offer a candidate")
    draft_expiry_days: int = opt(14, "drafts never sent are deleted after this many days (0 never)")
    worker_poll_seconds: float = opt(2.0, "how often the worker polls job rows")
    worker_stale_seconds: float = opt(120.0, "/healthz: heartbeat older = down")
    worker_lease_seconds: float = opt(60.0, "a claimed job or mail returns to the queue after")
    job_max_attempts: int = opt(5, "attempts before a job is marked failed")


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = opt("sqlite:///panelslot.sqlite3", "SQLAlchemy URL (sqlite/postgresql)")
    echo: bool = opt(False, "log every SQL statement")


@dataclass(frozen=True)
class MailSettings:
    sender: str = opt(
        "file", "smtp, file (outbox folder) or none", choices=("smtp", "file", "none")
    )
    from_address: str = opt("panelslot@localhost", "From: address of every mail")
    outbox_dir: str = opt("outbox", "folder for the file sender")
    smtp_host: str = opt("localhost", "SMTP server")
    smtp_port: int = opt(587, "SMTP port")
    smtp_security: str = opt(
        "starttls", "starttls, ssl or none", choices=("starttls", "ssl", "none")
    )
    smtp_username: str = opt("", "SMTP user (empty: no login)")
    smtp_password: str = opt("", "SMTP password", secret=True)
    max_attempts: int = opt(8, "delivery attempts before a mail is marked failed")
    # interviewers' iTIP REPLYs (issue 13); the password only from PANELSLOT_MAIL_IMAP_PASSWORD
    imap_host: str = opt("", "IMAP server of the organiser's mailbox for REPLYs (empty: off)")
    imap_port: int = opt(993, "IMAP port")
    imap_security: str = opt("ssl", "ssl, starttls or none", choices=("ssl", "starttls", "none"))
    imap_username: str = opt("", "IMAP user (password: PANELSLOT_MAIL_IMAP_PASSWORD)")
    imap_mailbox: str = opt("INBOX", "folder the REPLYs arrive in")
    imap_processed_mailbox: str = opt("", "folder understood REPLYs are moved to (empty: stay)")


@dataclass(frozen=True)
class SecuritySettings:
    secret_key: str = opt("", "signs sessions and candidate links", secret=True)
    token_key: str = opt("", "Fernet key for stored calendar credentials", secret=True)
    link_max_age_days: int = opt(14, "candidate links expire after this many days")
    interviewer_link_max_age_days: int = opt(
        90, "interviewers' personal page links expire after this many days"
    )
    signin_max_failures: int = opt(5, "failed sign-ins allowed per window")
    signin_window_minutes: int = opt(15, "sign-in rate-limit window")
    secure_cookies: bool = opt(
        True,
        "session cookies over HTTPS only (false only when serving plain http on a trusted host)",
    )


@dataclass(frozen=True)
class BookingSettings:
    holds: bool = opt(True, "hold offered times away from other requests")
    candidate_invites: str = opt(
        "itinerary",
        "candidate invites: one itinerary mail (a .ics with every session), one per "
        "session or one event for the loop",
        choices=("itinerary", "session", "loop"),
    )
    change_cutoff_hours: float = opt(24.0, "no candidate changes this close to it")
    reminders: str = opt("24h,1h", "reminders before the interview ('' = none)")


@dataclass(frozen=True)
class SyncSettings:
    interval_minutes: float = opt(10.0, "the worker syncs every calendar this often")
    stale_after_minutes: float = opt(60.0, "a calendar not synced for longer is stale")
    days_ahead: int = opt(90, "busy time is read this many days ahead")
    feed_max_mb: float = opt(10.0, "ICS feeds larger than this are refused")
    timeout_seconds: float = opt(20.0, "network timeout when reading a calendar")
    parallel: int = opt(4, "calendars read from their providers at once")
    allow_private_feeds: bool = opt(False, "let interviewers add loopback/LAN URLs")
    allowed_feed_hosts: str = opt(
        "",
        "host:port servers fetched although their address is private (an intranet "
        "calendar server), comma-separated; redirects elsewhere are still checked",
        check=allowed_hosts_problem,
    )
    read_seconds: float = opt(
        60.0, "one calendar read (fetch and parse) that takes longer is stopped"
    )
    read_memory_mb: int = opt(1024, "memory one calendar parse may use; more is refused")
    web_read_seconds: float = opt(
        5.0, "pages that read a calendar (Test, booking re-check) wait at most this long"
    )


@dataclass(frozen=True)
class GoogleSettings:
    client_id: str = opt("", "OAuth client id (env PANELSLOT_GOOGLE_CLIENT_ID)")
    client_secret: str = opt("", "OAuth client secret", secret=True)
    mode: str = opt("freebusy", "read busy time by", choices=("freebusy", "sync"))
    auth_uri: str = opt("https://accounts.google.com/o/oauth2/auth", "OAuth URL")
    token_uri: str = opt("https://oauth2.googleapis.com/token", "token URL")
    api_endpoint: str = opt("", "Calendar API base (empty: Google's; tests)")


@dataclass(frozen=True)
class MicrosoftSettings:
    client_id: str = opt("", "Entra app (client) id for Microsoft 365 calendars")
    client_secret: str = opt("", "Entra app client secret", secret=True)
    authority: str = opt(
        "https://login.microsoftonline.com/organizations",
        "sign-in authority: https://login.microsoftonline.com/<tenant id|organizations>",
    )
    mode: str = opt("freebusy", "read busy time by", choices=("freebusy", "sync"))
    api_endpoint: str = opt("", "Graph base URL (empty: Graph v1.0; tests)")
    write_back: bool = opt(True, "ask for Calendars.ReadWrite and write interviews")
    ca_bundle: str = opt("", "PEM file to trust for sign-in and Graph (tests)")
    instance_discovery: bool = opt(
        True, "check the authority is a Microsoft host (false only for a test emulator)"
    )


SECTIONS: dict[str, type] = {
    "server": ServerSettings,
    "database": DatabaseSettings,
    "mail": MailSettings,
    "security": SecuritySettings,
    "booking": BookingSettings,
    "sync": SyncSettings,
    "google": GoogleSettings,
    "microsoft": MicrosoftSettings,
}


def _section_opts(section: str, cls: type) -> list[Opt]:
    hints = get_type_hints(cls)
    return [
        Opt(
            section,
            f.name,
            hints[f.name],
            f.default,
            f.metadata["help"],
            f.metadata["secret"],
            f.metadata["choices"],
            f.metadata["check"],
        )
        for f in fields(cls)
    ]


SCHEMA: tuple[Opt, ...] = tuple(o for sec, cls in SECTIONS.items() for o in _section_opts(sec, cls))

_BY_KEY = {o.key: o for o in SCHEMA}


def _is_secret(key: str) -> bool:
    opt = _BY_KEY.get(key)
    return bool(opt and opt.secret)


def _convert_bool(opt: Opt, raw: object, origin: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(raw, str) and raw.strip().lower() in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(origin, opt.key, raw, "expected true or false")


def _convert_int(opt: Opt, raw: object, origin: str) -> int:
    if isinstance(raw, bool):
        raise SettingsError(origin, opt.key, raw, "expected a whole number")
    try:
        value: int = int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise SettingsError(origin, opt.key, raw, "expected a whole number") from None
    if value < 0:
        raise SettingsError(origin, opt.key, raw, "must not be negative")
    return value


def _convert_float(opt: Opt, raw: object, origin: str) -> float:
    try:
        return float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SettingsError(origin, opt.key, raw, "expected a number") from None


def _convert_str(opt: Opt, raw: object, origin: str) -> str:
    if not isinstance(raw, str):
        raise SettingsError(origin, opt.key, raw, "expected a string")
    return raw


_CONVERTERS: Mapping[type, Callable[[Opt, object, str], Any]] = MappingProxyType(
    {bool: _convert_bool, int: _convert_int, float: _convert_float, str: _convert_str}
)


def _convert(opt: Opt, raw: object, origin: str) -> Any:
    value = _CONVERTERS[opt.type](opt, raw, origin)
    if opt.choices and value not in opt.choices:
        raise SettingsError(origin, opt.key, raw, f"expected one of {', '.join(opt.choices)}")
    problem = opt.check(value) if opt.check else None
    if problem is not None:
        raise SettingsError(origin, opt.key, raw, problem)
    return value


@dataclass(frozen=True)
class AppSettings:
    """Resolved settings, one typed object per section (``settings.mail.sender``).

    ``origins[key]`` says where each value came from ("default", a file, a variable).
    """

    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    booking: BookingSettings = field(default_factory=BookingSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    google: GoogleSettings = field(default_factory=GoogleSettings)
    microsoft: MicrosoftSettings = field(default_factory=MicrosoftSettings)
    origins: Mapping[str, str] = field(default_factory=dict)
    config_path: str | None = None

    @property
    def mode(self) -> str:
        return self.server.mode

    @property
    def database_url(self) -> str:
        return normalize_db_url(self.database.url)

    def value(self, key: str) -> Any:
        """The value of a dotted schema key, for listings such as `panelslot config`."""
        section, name = key.split(".", 1)
        return getattr(getattr(self, section), name)

    def updated(self, overrides: Mapping[str, Any]) -> AppSettings:
        """A copy with some values replaced (converted and checked like any other)."""
        values = {o.key: self.value(o.key) for o in SCHEMA}
        origins = dict(self.origins)
        _apply(values, origins, _flatten(overrides), "overrides")
        return _build(values, origins, self.config_path)

    def describe(self) -> list[tuple[str, str, str]]:
        """(key, shown value, origin) rows for `panelslot config`, secrets hidden."""
        rows = []
        for o in SCHEMA:
            v = self.value(o.key)
            shown = ("<set>" if v else "<unset>") if o.secret else repr(v)
            if o.key == "database.url":
                shown = repr(hide_db_password(v))
            rows.append((o.key, shown, self.origins.get(o.key, "default")))
        return rows


def _build(values: Mapping[str, Any], origins: Mapping[str, str], path: str | None) -> AppSettings:
    sections: dict[str, Any] = {}
    for sec, cls in SECTIONS.items():
        kwargs = {f.name: values[f"{sec}.{f.name}"] for f in fields(cls)}
        sections[sec] = cls(**kwargs)
    return AppSettings(**sections, origins=dict(origins), config_path=path)


def _apply(
    values: dict[str, Any], origins: dict[str, str], flat: Mapping[str, Any], origin: str
) -> None:
    for key, raw in flat.items():
        o = _BY_KEY.get(key)
        if o is None:
            raise SettingsError(origin, key, raw, "unknown setting")
        values[key] = _convert(o, raw, origin)
        origins[key] = origin


def hide_db_password(url: str) -> str:
    """The database URL with its password replaced by ``***`` (for listings and errors)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unreadable URL>"


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
        _read_file(path, values, origins)
    _read_env(env, values, origins)
    _apply(values, origins, _flatten(overrides or {}), "overrides")
    return _build(values, origins, path)


def _read_file(path: str, values: dict[str, Any], origins: dict[str, str]) -> None:
    if not Path(path).exists():
        raise SettingsError("PANELSLOT_CONFIG", "file", path, "no such file")
    try:
        data = read_toml(Path(path))
    except ConfigError as exc:
        raise SettingsError(path, "file", path, exc.hint) from None
    for section in SECTIONS:
        table = data.get(section)
        if table is None:
            continue
        if not isinstance(table, dict):
            raise SettingsError(path, section, table, "expected a table")
        for name, raw in table.items():
            _read_file_value(f"{path} [{section}]", f"{section}.{name}", raw, values, origins)


def _read_file_value(
    origin: str, key: str, raw: object, values: dict[str, Any], origins: dict[str, str]
) -> None:
    o = _BY_KEY.get(key)
    if o is None:
        raise SettingsError(origin, key, raw, "unknown setting (see config.example.toml)")
    if o.secret:
        hint = f"secrets are read only from the environment: set {o.env}"
        raise SettingsError(origin, key, raw, hint)
    values[key] = _convert(o, raw, origin)
    origins[key] = origin


def _read_env(env: Mapping[str, str], values: dict[str, Any], origins: dict[str, str]) -> None:
    for o in SCHEMA:
        if o.env in env:
            origin = f"environment {o.env}"
            values[o.key] = _convert(o, env[o.env], origin)
            origins[o.key] = origin


def check_public_url(settings: AppSettings) -> None:
    """Refuse to run in production without the address people open: mailed links are
    built from it, never from a request's Host header."""
    if settings.mode in ("demo", "testing"):
        return
    url = settings.server.public_url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            settings.origins.get("server.public_url", "default"),
            "server.public_url",
            url,
            "set PANELSLOT_SERVER_PUBLIC_URL (or server.public_url) to the address people "
            "open, e.g. https://panelslot.example.com/",
        )


def check_production(settings: AppSettings) -> None:
    """Everything production needs that a demo does not (a real secret, the public URL)."""
    check_secret_key(settings)
    check_public_url(settings)


def check_secret_key(settings: AppSettings) -> None:
    """Refuse to run in production without a real SECRET_KEY."""
    if settings.mode in ("demo", "testing"):
        return
    key = settings.security.secret_key
    if not key or key == DEFAULT_SECRET or len(key) < 16:
        raise SettingsError(
            settings.origins.get("security.secret_key", "default"),
            "security.secret_key",
            "",
            "set PANELSLOT_SECRET_KEY to a long random value "
            '(python -c "import secrets; print(secrets.token_urlsafe(32))"), '
            "or use server.mode = demo for a local trial",
        )
