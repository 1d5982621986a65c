"""The saved API key at rest: encrypted with Fernet when the deployment provides a secret.

``CONNECTOR_SECRET_KEY`` holds a Fernet key (``python -m connector secret-key`` prints a new
one). Fernet is AES-128-CBC with an HMAC-SHA256 over the whole token, from the well-kept
``cryptography`` package: a wrong secret or a damaged token fails authentication, so the console
says so instead of sending a garbled key to ActiveCampaign.

Stored values say how they are stored: ``fernet:<token>`` when encrypted, the bare key
otherwise (keys saved before encryption existed read unchanged). Changing the secret has one
documented path: set the new secret and enter the key again on Setup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

from connector.core.errors import SettingsError

__all__ = ["ENCRYPTED_PREFIX", "SECRET_ENV", "KeyCipher", "new_secret"]

SECRET_ENV = "CONNECTOR_SECRET_KEY"
ENCRYPTED_PREFIX = "fernet:"
_RE_ENTER = "enter the API key again on Setup (it is then stored with the current secret)"


def new_secret() -> str:
    """A fresh value for ``CONNECTOR_SECRET_KEY``."""
    return Fernet.generate_key().decode("ascii")


@dataclass(frozen=True)
class KeyCipher:
    """Seals and opens the stored key; without a secret it stores the key as it is."""

    _fernet: Fernet | None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> KeyCipher:
        secret = env.get(SECRET_ENV, "").strip()
        if not secret:
            return cls(None)
        try:
            return cls(Fernet(secret.encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            raise SettingsError(
                f"{SECRET_ENV} is not a usable secret: it must be a Fernet key (44 characters "
                "of URL-safe base64). Make one with `python -m connector secret-key`, or unset "
                "the variable to store the key unencrypted."
            ) from None

    @property
    def encrypts(self) -> bool:
        return self._fernet is not None

    def seal(self, key: str) -> str:
        if self._fernet is None:
            return key
        return ENCRYPTED_PREFIX + self._fernet.encrypt(key.encode("ascii")).decode("ascii")

    def open(self, stored: str) -> str:
        """The key from what ``seal`` stored; ``SettingsError`` when it can't be opened."""
        if not stored.startswith(ENCRYPTED_PREFIX):
            return stored
        if self._fernet is None:
            raise SettingsError(
                f"The saved API key is encrypted and {SECRET_ENV} is not set. Set it to the "
                f"secret the key was saved with, or {_RE_ENTER}."
            )
        try:
            plain = self._fernet.decrypt(stored.removeprefix(ENCRYPTED_PREFIX).encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise SettingsError(
                f"The saved API key was encrypted with another {SECRET_ENV} (or the stored "
                f"value is damaged). Set the secret it was saved with, or {_RE_ENTER}."
            ) from None
        return plain.decode("ascii")

    @staticmethod
    def is_sealed(stored: str) -> bool:
        return stored.startswith(ENCRYPTED_PREFIX)
