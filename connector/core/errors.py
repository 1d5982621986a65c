"""Every failure the connector reports, as one tree, and the one table that classifies them.

    ConnectorError                 operator-facing ``message`` + technical ``detail``
    ├── SettingsError              bad account URL / API key / setting (also ValueError)
    ├── InputError                 a prompt's form value or definition is invalid (also ValueError)
    ├── StorageError               the console's SQLite file can't be opened or written
    └── ApiError                   anything that went wrong talking to ActiveCampaign
        ├── RedirectError          3xx: the API URL points somewhere else
        ├── AuthError              401/403: the key is wrong, revoked, or lacks permission
        ├── NotFoundError          404: the list/automation/contact id does not exist
        ├── ValidationError        400/422: the API rejected the payload (``errors`` lists why)
        ├── RequestRejected        any other 4xx
        ├── RateLimitedError       429: ``retry_after`` seconds
        ├── ServerError            5xx
        │   └── UnexpectedResponse 2xx without what the request needs (empty, not JSON, no object)
        │       └── ResponseTooLarge   an answer over ``MAX_BODY_BYTES``, not read past the cap
        └── UnreachableError       the request got no answer
            ├── HostNotFound       DNS: the host name does not exist
            ├── ConnectFailed      refused / no connection: the request was never sent
            └── ConnectionLost     timed out or dropped after sending: it may have been applied

Each ``ApiError`` class says two things the runner needs: ``retryable`` (sending again can
succeed: 429, 5xx, unreadable answers, timeouts, connection errors) and ``may_have_landed`` (the
request may have reached ActiveCampaign and been applied although no good answer came back, so a
write must be checked before its outcome is reported). ``answer_lost`` marks the failures where no
answer came at all after sending (a timeout, a dropped connection): the request may still be in
flight, so it is checked only after a settle delay, never at once.

Which class a failure gets is decided here and nowhere else: ``STATUS_ERRORS`` for HTTP statuses,
``TRANSPORT_ERRORS`` for exceptions raised while sending (matched against the whole exception
chain, so a DNS failure is recognised by its ``socket.gaierror``, not by words in a message).
Messages never hold the API key: the client redacts what it passes in. Nor do they repeat at
length what the server sent or the operator typed: a host, a location or the API's own words are
cut to a couple of hundred characters (``clip``); what there is to read beyond that is in the
exchange, redacted.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import httpx

__all__ = [
    "STATUS_ERRORS",
    "TRANSPORT_ERRORS",
    "ApiError",
    "AuthError",
    "ConnectFailed",
    "ConnectionLost",
    "ConnectorError",
    "HostNotFound",
    "InputError",
    "NotFoundError",
    "RateLimitedError",
    "RedirectError",
    "RequestRejected",
    "ResponseTooLarge",
    "ServerError",
    "SettingsError",
    "StorageError",
    "UnexpectedResponse",
    "UnreachableError",
    "ValidationError",
    "api_message",
    "clip",
    "error_for_status",
    "error_for_transport",
]

_WHERE = "Settings > Developer in ActiveCampaign"


class ConnectorError(Exception):
    """Root of the tree: ``message`` is for the operator, ``detail`` for whoever debugs."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class SettingsError(ConnectorError, ValueError):
    """The operator typed (or the environment holds) an account or setting we cannot use."""


class InputError(ConnectorError, ValueError):
    """A form value or prompt definition is invalid; ``field`` names the culprit."""

    def __init__(self, message: str, field: str = "", detail: str = "") -> None:
        super().__init__(message, detail)
        self.field = field


class StorageError(ConnectorError):
    """The data file (``CONNECTOR_DB``) failed: unwritable folder, full disk, lock held too long."""


class ApiError(ConnectorError):
    """A request to ActiveCampaign failed; ``status`` is the HTTP status (None: no answer)."""

    retryable: ClassVar[bool] = False
    may_have_landed: ClassVar[bool] = False
    answer_lost: ClassVar[bool] = False

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
        # The redacted request/response (``records.Exchange``) of the try that failed, if any.
        self.exchange = exchange
        # The server's Retry-After in seconds (429, 503), when it sent one.
        self.retry_after = retry_after


class RedirectError(ApiError):
    """A 3xx: never followed (the key would go with it); the API URL is probably wrong."""


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


class RequestRejected(ApiError):
    """A 4xx the table has no better class for."""


class RateLimitedError(ApiError):
    retryable = True


class ServerError(ApiError):
    retryable = True
    may_have_landed = True


class UnexpectedResponse(ServerError):
    """A 2xx that does not show what the request needed (an empty body, not JSON, no
    ``contactList``…). A write answered like this may or may not have been applied."""


class ResponseTooLarge(UnexpectedResponse):
    """An answer bigger than any the API sends (``client.MAX_BODY_BYTES``): read no further than
    that, and not retried (the same request would get the same flood). A write answered like
    this may or may not have been applied, like any other unexpected answer."""

    retryable = False


class UnreachableError(ApiError):
    """No answer came. The subclasses say whether the request could have been applied."""


class HostNotFound(UnreachableError):
    """A mistyped host does not appear by retrying."""


class ConnectFailed(UnreachableError):
    retryable = True


class ConnectionLost(UnreachableError):
    retryable = True
    may_have_landed = True
    answer_lost = True


# -- classification ---------------------------------------------------------------------------

# (statuses, class, message template). First match wins. Templates get ``host``, ``status``,
# ``api_says`` (the API's own words, or a fallback), ``location`` and ``wait``.
STATUS_ERRORS: tuple[tuple[range, type[ApiError], str], ...] = (
    (
        range(300, 400),
        RedirectError,
        "{host} answered with a redirect (HTTP {status}) to {location}. The API URL is probably "
        f"wrong: copy it again from {_WHERE}. Redirects are not followed, so the key stays here.",
    ),
    (range(401, 402), AuthError, "{refusal}"),
    (range(403, 404), AuthError, "{refusal}"),
    (
        range(404, 405),
        NotFoundError,
        "ActiveCampaign could not find it: {api_says}. It may have been deleted; refresh the "
        "catalog.",
    ),
    (range(400, 401), ValidationError, "ActiveCampaign rejected the data: {api_says}."),
    (range(422, 423), ValidationError, "ActiveCampaign rejected the data: {api_says}."),
    (
        range(429, 430),
        RateLimitedError,
        "ActiveCampaign's rate limit (5 requests per second per account) was hit.{wait}",
    ),
    (
        range(400, 500),
        RequestRejected,
        "ActiveCampaign refused the request (HTTP {status}): {api_says}.",
    ),
    (
        range(500, 600),
        ServerError,
        "ActiveCampaign had a problem (HTTP {status}). Try again in a moment.",
    ),
)

_KEY_REFUSED = (
    f"ActiveCampaign refused the API key. Copy the key again from {_WHERE}, and check that its "
    "user still exists."
)


def error_for_status(
    status: int,
    *,
    host: str,
    payload: Any,
    headers: httpx.Headers,
    detail: str,
    exchange: Any = None,
) -> ApiError:
    """The typed error for a non-2xx answer."""
    said = api_message(payload)
    retry_after = _retry_after(headers)
    # 1xx or nonsense: the server is not speaking the API.
    cls, template = next(
        ((cls, template) for statuses, cls, template in STATUS_ERRORS if status in statuses),
        (ServerError, "{host} answered HTTP {status}, which the API never sends."),
    )
    message = template.format(
        host=clip(host, _HOST_SHOWN),
        status=status,
        api_says=said or "no reason given",
        # A bare 401/403 is the key; anything else the API explains (e.g. a user's permissions).
        refusal=_KEY_REFUSED
        if said in ("", "Forbidden")
        else f"ActiveCampaign refused the request: {said}.",
        location=clip(headers.get("location", ""), _LOCATION_SHOWN) or "another address",
        wait=f" Wait {retry_after:g} s and try again." if retry_after else " Try again shortly.",
    )
    return cls(
        message,
        detail,
        status=status,
        body=payload,
        exchange=exchange,
        retry_after=retry_after if cls in (RateLimitedError, ServerError) else None,
    )


# (exception type found anywhere in the chain, class, message template). First match wins, so
# the specific causes come before the generic httpx classes that wrap them.
TRANSPORT_ERRORS: tuple[tuple[type[BaseException], type[UnreachableError], str], ...] = (
    (
        socket.gaierror,
        HostNotFound,
        f"Cannot find {{host}}. Check the account name in the API URL: copy it from {_WHERE}.",
    ),
    (
        ConnectionRefusedError,
        ConnectFailed,
        "{host} refused the connection. Check the API URL; for a local sandbox, check that "
        "`python -m connector.sandbox` is running on that port.",
    ),
    (
        httpx.ConnectTimeout,
        ConnectFailed,
        "{host} did not accept a connection in time. Check your network, then retry.",
    ),
    (
        httpx.ConnectError,
        ConnectFailed,
        "Could not connect to {host}. Check your network and the API URL, then retry.",
    ),
    (
        httpx.TimeoutException,
        ConnectionLost,
        "{host} did not answer in time. Try again in a moment; if it keeps happening, check your "
        "network and ActiveCampaign's status page.",
    ),
    (
        httpx.TransportError,
        ConnectionLost,
        "The connection to {host} was lost before its answer arrived. Try again in a moment.",
    ),
)


def error_for_transport(
    exc: BaseException, *, host: str, redact: Callable[[str], str], exchange: Any = None
) -> UnreachableError:
    """The typed error for an exception raised while sending (no HTTP answer)."""
    chain = list(_chain(exc))
    cls, template = next(
        (
            (cls, template)
            for kind, cls, template in TRANSPORT_ERRORS
            if any(isinstance(link, kind) for link in chain)
        ),
        (ConnectionLost, TRANSPORT_ERRORS[-1][2]),
    )
    detail = " <- ".join(
        f"{type(link).__name__}: {clip(redact(str(link)), _DETAIL_SHOWN)}" for link in chain
    )
    return cls(template.format(host=clip(host, _HOST_SHOWN)), detail, exchange=exchange)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def api_message(payload: Any) -> str:
    """The API's own words, from whichever of its three error shapes it used."""
    if not isinstance(payload, dict):
        return ""
    if isinstance(payload.get("message"), str):
        return clip(payload["message"])
    parts = []
    items = payload.get("errors")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        title = str(item.get("title") or item.get("detail") or item.get("code") or "").strip()
        source = item.get("source")
        pointer = str(source.get("pointer") or "") if isinstance(source, dict) else ""
        where = pointer.rsplit("/", 1)[-1] if pointer else ""
        parts.append(f"{title} ({where})" if where and title else title)
    return clip("; ".join(p for p in parts if p))


# How much of what the server sent (or the operator typed) an error repeats: a host name is at
# most 253 characters by DNS, but a real API host is under 80; the API's own words, a redirect's
# location and an exception's text get a couple of sentences' worth.
_HOST_SHOWN = 80
_LOCATION_SHOWN = 120
_DETAIL_SHOWN = 300


def clip(text: str, limit: int = 200) -> str:
    """``text`` on one line, cut to ``limit`` characters (the cut marked with "…")."""
    short = text if len(text) <= limit else text[: limit - 1] + "…"
    return "".join(c if c.isprintable() else " " for c in short)


def _retry_after(headers: httpx.Headers) -> float | None:
    try:
        seconds = float(headers.get("retry-after", ""))
    except ValueError:
        return None
    return max(0.0, seconds) if seconds == seconds and seconds != float("inf") else None
