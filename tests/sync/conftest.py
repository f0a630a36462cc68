"""Every sync test starts with its own token key."""

from __future__ import annotations

import pytest

from integrations.crypto import KEY_ENV_VAR, generate_key


@pytest.fixture(autouse=True)
def token_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = generate_key()
    monkeypatch.setenv(KEY_ENV_VAR, key)
    return key
