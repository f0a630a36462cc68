"""Microsoft 365 calendars in the sync: the app registration from the settings, the
Graph backend of one ``CalendarSource`` (kind ``msgraph``) and its reader.

The msal token cache is stored encrypted in ``CalendarSource.credentials`` and written
back whenever msal refreshed a token; in ``sync`` mode the delta link and the events it
covers are stored encrypted in ``CalendarSource.sync_state``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from integrations.calendars.base import BusyRead
from integrations.calendars.msgraph_backend import DeltaState, GraphOptions, MicrosoftGraphBackend
from integrations.calendars.msgraph_http import GRAPH_ENDPOINT
from integrations.crypto import decrypt_secret, encrypt_secret
from integrations.errors import CalendarError, ReconnectRequired
from integrations.msgraph_auth import (
    MicrosoftClientConfig,
    decrypt_credentials,
    encrypt_credentials,
)
from scheduler.model import Interval
from web.store.models import CalendarSource, Interviewer

if TYPE_CHECKING:
    from web.domain.calsync import SyncConfig

LABEL = "Microsoft 365"
KIND = "msgraph"


def microsoft_config(settings: Any, redirect_uri: str) -> MicrosoftClientConfig | None:
    """The Entra app of the settings, or None when Microsoft 365 is not set up."""
    if not (settings.microsoft.client_id and settings.microsoft.client_secret):
        return None
    return MicrosoftClientConfig(
        client_id=settings.microsoft.client_id,
        client_secret=settings.microsoft.client_secret,
        redirect_uri=redirect_uri or "http://localhost/i/oauth/microsoft/callback",
        authority=settings.microsoft.authority,
        instance_discovery=bool(settings.microsoft.instance_discovery),
        ca_bundle=settings.microsoft.ca_bundle or None,
        timeout_seconds=float(settings.sync.timeout_seconds),
    )


def msgraph_backend(
    src: CalendarSource, who: Interviewer, cfg: SyncConfig
) -> MicrosoftGraphBackend:
    """The Graph backend of ``src`` (CalendarError when Microsoft 365 is not set up,
    ReconnectRequired when the source holds no usable sign-in)."""
    label = src.label or LABEL
    if cfg.microsoft is None:
        raise CalendarError(
            label,
            "Microsoft 365 is not configured on this server: the administrator must set "
            "PANELSLOT_MICROSOFT_CLIENT_ID and PANELSLOT_MICROSOFT_CLIENT_SECRET",
        )
    if not src.credentials:
        raise ReconnectRequired(label, "not connected yet; connect Microsoft 365 from your page")
    creds = decrypt_credentials(src.credentials, cfg.microsoft, environ=cfg.token_environ)
    mode = "sync" if (src.mode or cfg.microsoft_mode) == "sync" else "freebusy"
    state = DeltaState()
    if mode == "sync" and src.sync_state:
        state = DeltaState.from_json(decrypt_secret(src.sync_state, environ=cfg.token_environ))
    options = GraphOptions(
        email=who.email,
        mode=mode,
        timezone=who.timezone,
        label=label,
        timeout_seconds=cfg.timeout,
        api_endpoint=cfg.microsoft_api_endpoint or GRAPH_ENDPOINT,
        ca_bundle=cfg.microsoft.ca_bundle,
    )
    return MicrosoftGraphBackend(creds, options, backoff=cfg.microsoft_backoff, delta_state=state)


@dataclass
class MicrosoftReader:
    """Reads busy time and stores refreshed tokens and the delta state back."""

    backend: MicrosoftGraphBackend
    cfg: SyncConfig

    def read(self, window: Interval) -> BusyRead:
        return self.backend.read_busy(window)

    def save(self, src: CalendarSource) -> None:
        creds = self.backend.credentials
        environ = self.cfg.token_environ
        if getattr(creds, "changed", False):
            src.credentials = encrypt_credentials(creds, environ=environ)  # type: ignore[arg-type]
        if self.backend.options.mode == "sync":
            src.sync_state = encrypt_secret(self.backend.delta_state.to_json(), environ=environ)


def msgraph_reader(src: CalendarSource, who: Interviewer, cfg: SyncConfig) -> MicrosoftReader:
    return MicrosoftReader(msgraph_backend(src, who, cfg), cfg)
