"""Every failure the connector reports, as one tree.

    ConnectorError                 operator-facing ``message`` + technical ``detail``
    ├── SettingsError              bad account URL / API key typed by the operator (also ValueError)
    ├── InputError                 a prompt's form value or definition is invalid (also ValueError)
    ├── StorageError               the console's SQLite file can't be opened or written
    └── ApiError                   anything that went wrong talking to ActiveCampaign
        ├── AuthError              403: the key is wrong, revoked, or lacks permission
        ├── NotFoundError          404: the list/automation/contact id does not exist
        ├── ValidationError        422/400: the API rejected the payload (``errors`` lists why)
        ├── RateLimitedError       429 (and 503 at the limit): ``retry_after`` seconds
        ├── ServerError            5xx or an unreadable body
        └── UnreachableError       DNS, connect, TLS or timeout: the request never got an answer

Pages show ``message``; logs and the CLI's ``--verbose`` keep ``detail``. Neither ever holds the
API key: the client redacts it before an error is built.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ApiError",
    "AuthError",
    "ConnectorError",
    "InputError",
    "NotFoundError",
    "RateLimitedError",
    "ServerError",
    "SettingsError",
    "StorageError",
    "UnreachableError",
    "ValidationError",
]


class ConnectorError(Exception):
    """Root of the tree: ``message`` is for the operator, ``detail`` for whoever debugs."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class SettingsError(ConnectorError, ValueError):
    """The operator typed an account URL or key we cannot use."""


class InputError(ConnectorError, ValueError):
    """A form value or prompt definition is invalid; ``field`` names the culprit."""

    def __init__(self, message: str, field: str = "", detail: str = "") -> None:
        super().__init__(message, detail)
        self.field = field


class StorageError(ConnectorError):
    """The data file (``CONNECTOR_DB``) failed: unwritable folder, full disk, corrupt file."""


class ApiError(ConnectorError):
    """A request to ActiveCampaign failed; ``status`` is the HTTP status (None: no answer)."""

    def __init__(
        self,
        message: str,
        detail: str = "",
        *,
        status: int | None = None,
        body: Any = None,
        exchange: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, detail)
        self.status = status
        self.body = body
        # The redacted request/response pair (``client.Exchange``) the error came from, if any.
        self.exchange = exchange
        # The server's Retry-After in seconds (429, 503), when it sent one.
        self.retry_after = retry_after
        self.attempts = 1  # how many times the request was sent before giving up


class AuthError(ApiError):
    pass


class NotFoundError(ApiError):
    pass


class ValidationError(ApiError):
    """``errors`` holds the API's own items (``title``, ``code``, ``source.pointer``)."""

    @property
    def errors(self) -> list[dict[str, Any]]:
        if isinstance(self.body, dict) and isinstance(self.body.get("errors"), list):
            return [e for e in self.body["errors"] if isinstance(e, dict)]
        return []


class RateLimitedError(ApiError):
    pass


class ServerError(ApiError):
    pass


class UnreachableError(ApiError):
    """``transient`` is False when retrying cannot help (the host name does not exist)."""

    def __init__(self, message: str, detail: str = "", *, transient: bool = True, **kw: Any):
        super().__init__(message, detail, **kw)
        self.transient = transient
