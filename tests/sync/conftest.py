"""Every sync test starts with an empty feed cache, a default sync config and its own token key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.calendars.feed import clear_feed_cache
from integrations.crypto import KEY_ENV_VAR, generate_key
from web.domain import calsync


@pytest.fixture(autouse=True)
def _fresh_feed_cache() -> Iterator[None]:
    clear_feed_cache()
    calsync.reset_config()
    yield
    clear_feed_cache()
    calsync.reset_config()  # a Worker built in a test configures the process default


@pytest.fixture(autouse=True)
def token_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = generate_key()
    monkeypatch.setenv(KEY_ENV_VAR, key)
    return key
