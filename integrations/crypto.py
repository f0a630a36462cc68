"""Encrypt OAuth tokens and other secrets at rest with Fernet.

The key comes from the environment variable ``PANELSLOT_TOKEN_KEY`` (a
url-safe base64 Fernet key, see :func:`generate_key`). Neither the key nor
any plaintext ever appears in an error message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken

from integrations.errors import IntegrationError

KEY_ENV_VAR = "PANELSLOT_TOKEN_KEY"


class TokenKeyError(IntegrationError):
    """The token key is missing or unusable, or a secret cannot be decrypted with it."""

    def __init__(self, variable: str, problem: str, hint: str) -> None:
        self.variable = variable
        self.problem = problem
        self.hint = hint
        super().__init__(f"{variable}: {problem}; {hint}")


def generate_key() -> str:
    """A fresh key suitable for ``PANELSLOT_TOKEN_KEY``."""
    return Fernet.generate_key().decode("ascii")


def load_key(environ: Mapping[str, str] | None = None) -> Fernet:
    """The Fernet built from ``PANELSLOT_TOKEN_KEY`` in ``environ`` (default: os.environ)."""
    env = os.environ if environ is None else environ
    raw = env.get(KEY_ENV_VAR, "").strip()
    hint = (
        "set it to the output of "
        '`python -c "from integrations.crypto import generate_key; print(generate_key())"`'
    )
    if not raw:
        raise TokenKeyError(KEY_ENV_VAR, "the environment variable is not set", hint)
    try:
        return Fernet(raw.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise TokenKeyError(
            KEY_ENV_VAR, "the value is not a valid key (32 url-safe base64 bytes)", hint
        ) from None


def encrypt_secret(plaintext: str, *, environ: Mapping[str, str] | None = None) -> str:
    """Encrypt ``plaintext``; the result is ASCII and safe to store in a text column."""
    return load_key(environ).encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_secret(ciphertext: str, *, environ: Mapping[str, str] | None = None) -> str:
    """Decrypt what :func:`encrypt_secret` produced under the same key."""
    fernet = load_key(environ)
    try:
        return fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise TokenKeyError(
            KEY_ENV_VAR,
            "a stored secret cannot be decrypted with the current key",
            "restore the key it was encrypted with, or have the owner reconnect the calendar",
        ) from None
