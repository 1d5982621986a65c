"""The only code that speaks HTTP to ActiveCampaign (or to the sandbox, through the same door).

``AcClient`` wraps one ``httpx.Client`` per account: the ``Api-Token`` header, timeouts,
pagination (``limit=100`` + ``offset`` until ``meta.total``), and the mapping of every failure to
a typed ``ConnectorError`` whose message tells the operator what to do. Each call also yields an
``Exchange``: the exact request and response, with the key redacted, for the simulator and the log.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from .budget import RequestBudget
from .errors import (
    ApiError,
    AuthError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnreachableError,
    ValidationError,
)
from .models import AcList, Automation, Contact, Field, Tag, User
from .retry import RetryPolicy

__all__ = ["PAGE_SIZE", "REDACTED", "AcClient", "Exchange", "ProgressCallback"]

PAGE_SIZE = 100  # the API's maximum; anything larger is not documented
REDACTED = "[redacted]"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEFAULT_RETRY = RetryPolicy()

ProgressCallback = Callable[[int, int], None]  # (pages fetched, pages in all)


@dataclass(frozen=True)
class Exchange:
    """One request and its answer as an operator may see them: no key, bodies as parsed JSON."""

    method: str
    url: str
    request_body: Any = None
    status: int | None = None
    response_body: Any = None
    duration_ms: float = 0.0
    request_headers: dict[str, str] = field(default_factory=dict)
    attempts: int = 1
    last_error: str = ""  # the last failure before the attempt that produced this exchange
    # True when a retry found that an earlier attempt had landed although its answer was lost:
    # then there is no response to show, and nothing was sent again.
    landed_earlier: bool = False

    def request_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "headers": self.request_headers,
            "body": self.request_body,
        }

    def response_dict(self) -> dict[str, Any]:
        return {"status": self.status, "body": self.response_body}


class AcClient:
    """A client for one account (``api_url`` without ``/api/3``). Thread-safe, like httpx.Client.

    Pass ``transport`` to talk to something else than the network: the in-process sandbox, or an
    ``httpx.MockTransport`` in tests.
    """

    def __init__(
        self,
        api_url: str,
        api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        budget: RequestBudget | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._local = threading.local()
        self.budget = budget
        self.retry = retry
        self.host = urlsplit(self.api_url).netloc
        self._key = api_key
        self._http = httpx.Client(
            base_url=f"{self.api_url}/api/3",
            headers={
                "Api-Token": api_key,
                "Accept": "application/json",
                "User-Agent": "ac-connector-console/0.1",
            },
            transport=transport,
            timeout=timeout,
        )

    def __repr__(self) -> str:
        return f"AcClient({self.api_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one door -------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        retry: bool = True,
        landed: Callable[[], bool] | None = None,
    ) -> Exchange:
        """Send a request within the budget: its ``Exchange`` on 2xx, else a typed ``ApiError``.

        Retryable failures are tried again per ``self.retry`` (``retry=False``: never). A write
        that is not safe to repeat passes ``landed``: it is asked before every retry whether an
        earlier attempt went through after all, and if so nothing is sent again."""
        started = time.monotonic()
        last_error = ""
        attempt = 1
        while True:
            if attempt > 1 and landed is not None and landed():
                return Exchange(
                    method=method,
                    url=f"{self.api_url}/api/3{path}",
                    request_body=body,
                    attempts=attempt - 1,
                    last_error=last_error,
                    landed_earlier=True,
                )
            try:
                done = self.attempt(method, path, params=params, body=body)
            except ApiError as exc:
                exc.attempts = attempt
                delay = self.retry.delay(attempt, exc)
                elapsed = time.monotonic() - started
                if not retry or not self.retry.should_retry(attempt, exc, elapsed, delay):
                    raise
                last_error = exc.message
                self.pause(exc, delay)
                attempt += 1
                continue
            done = replace(done, attempts=attempt, last_error=last_error)
            self._local.last = done
            return done

    @property
    def last_read(self) -> dict[str, Any] | None:
        """This thread's last successful exchange, as shown to operators (request, response)."""
        last: Exchange | None = getattr(self._local, "last", None)
        if last is None:
            return None
        return {"request": last.request_dict(), "response": last.response_dict()}

    def pause(self, error: ApiError, delay: float) -> None:
        """Wait before a retry; a 429 also holds the whole account's budget."""
        if self.budget is not None and isinstance(error, RateLimitedError):
            self.budget.hold(delay)
        time.sleep(delay)

    def attempt(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Exchange:
        """Send exactly once (after taking a slot from the budget)."""
        if self.budget is not None:
            self.budget.acquire()
        request = self._http.build_request(method, path, params=params, json=body)
        shown_headers = {
            name: (REDACTED if name.lower() == "api-token" else value)
            for name, value in request.headers.items()
            if name.lower() in ("api-token", "content-type", "accept")
        }
        started = time.perf_counter()

        def exchange(status: int | None = None, response_body: Any = None) -> Exchange:
            return Exchange(
                method=method,
                url=str(request.url),
                request_body=body,
                status=status,
                response_body=self._redact(response_body),
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                request_headers=shown_headers,
            )

        try:
            response = self._http.send(request)
        except httpx.TimeoutException as exc:
            raise UnreachableError(
                f"{self.host} did not answer in time. Try again in a moment; if it keeps "
                "happening, check your network and ActiveCampaign's status page.",
                detail=f"{type(exc).__name__}: {self._redact(str(exc))}",
                exchange=exchange(),
            ) from None
        except httpx.TransportError as exc:
            raise self._unreachable(exc, exchange()) from None

        payload = self._parse(response)
        shown = response.text[:2000] if payload is _MALFORMED else payload
        done = exchange(response.status_code, shown)
        if response.is_success:
            if payload is _MALFORMED:
                raise ServerError(
                    f"{self.host} answered with something that is not JSON. Check that the API "
                    "URL is the one from Settings > Developer.",
                    detail=f"HTTP {response.status_code}, body starts {response.text[:80]!r}",
                    status=response.status_code,
                    exchange=done,
                )
            return done
        raise self._error_for(response, payload, done)

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.call("GET", path, params=params).response_body
        return body if isinstance(body, dict) else {}

    def paginate(
        self,
        path: str,
        key: str,
        *,
        params: dict[str, Any] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of a collection, in pages of ``PAGE_SIZE``.

        The first page tells ``meta.total``; the remaining pages are then fetched concurrently
        (the budget keeps them within the account's rate limit) and joined in offset order.
        ``on_progress`` is called from the calling thread, so it may draw on a page."""

        def page(offset: int) -> list[dict[str, Any]]:
            body = self.get(path, {**(params or {}), "limit": PAGE_SIZE, "offset": offset})
            return [item for item in body.get(key) or [] if isinstance(item, dict)]

        first_body = self.get(path, {**(params or {}), "limit": PAGE_SIZE, "offset": 0})
        first = [item for item in first_body.get(key) or [] if isinstance(item, dict)]
        total = _as_int((first_body.get("meta") or {}).get("total"), default=len(first))
        pages_total = max(1, math.ceil(total / PAGE_SIZE))
        if on_progress:
            on_progress(1, pages_total)
        if len(first) < PAGE_SIZE or pages_total == 1:
            return first
        offsets = list(range(PAGE_SIZE, pages_total * PAGE_SIZE, PAGE_SIZE))
        results: dict[int, list[dict[str, Any]]] = {0: first}
        workers = min(len(offsets), self.budget.limit if self.budget else 4, 8)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ac-page") as pool:
            futures = {pool.submit(page, offset): offset for offset in offsets}
            for done, future in enumerate(as_completed(futures), start=2):
                results[futures[future]] = future.result()
                if on_progress:
                    on_progress(done, pages_total)
        return [item for offset in sorted(results) for item in results[offset]]

    # -- typed reads ----------------------------------------------------------------------------

    def me(self) -> User:
        """The user the key belongs to: the connection check."""
        return User.from_api(self.get("/users/me").get("user") or {})

    def lists(self, on_progress: ProgressCallback | None = None) -> list[AcList]:
        return [
            AcList.from_api(x) for x in self.paginate("/lists", "lists", on_progress=on_progress)
        ]

    def automations(self, on_progress: ProgressCallback | None = None) -> list[Automation]:
        rows = self.paginate("/automations", "automations", on_progress=on_progress)
        return [Automation.from_api(x) for x in rows]

    def fields(self, on_progress: ProgressCallback | None = None) -> list[Field]:
        return [
            Field.from_api(x) for x in self.paginate("/fields", "fields", on_progress=on_progress)
        ]

    def tags(self, on_progress: ProgressCallback | None = None) -> list[Tag]:
        return [Tag.from_api(x) for x in self.paginate("/tags", "tags", on_progress=on_progress)]

    def find_contact(self, email: str) -> Contact | None:
        found = self.get("/contacts", {"email": email}).get("contacts") or []
        return Contact.from_api(found[0]) if found else None

    def contact_lists(self, contact_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"/contacts/{contact_id}/contactLists").get("contactLists") or [])

    def contact_automations(self, contact_id: str) -> list[dict[str, Any]]:
        body = self.get(f"/contacts/{contact_id}/contactAutomations")
        return list(body.get("contactAutomations") or [])

    def contact_tags(self, contact_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"/contacts/{contact_id}/contactTags").get("contactTags") or [])

    # -- writes (each returns its Exchange so callers can show and log it) ------------------------

    def sync_contact(self, contact: dict[str, Any]) -> Exchange:
        return self.call("POST", "/contact/sync", body={"contact": contact})

    def add_to_list(self, contact_id: str, list_id: str, status: int = 1) -> Exchange:
        body = {"contactList": {"list": list_id, "contact": contact_id, "status": status}}
        return self.call("POST", "/contactLists", body=body)

    def add_to_automation(self, contact_id: str, automation_id: str) -> Exchange:
        body = {"contactAutomation": {"contact": contact_id, "automation": automation_id}}
        return self.call("POST", "/contactAutomations", body=body)

    def add_tag(self, contact_id: str, tag_id: str) -> Exchange:
        return self.call(
            "POST", "/contactTags", body={"contactTag": {"contact": contact_id, "tag": tag_id}}
        )

    # -- failures -------------------------------------------------------------------------------

    def _redact(self, value: Any) -> Any:
        """Scrub the key from anything that might be shown or stored (a server could echo it)."""
        if not self._key or value is None:
            return value
        text = value if isinstance(value, str) else json.dumps(value)
        if self._key not in text:
            return value
        scrubbed = text.replace(self._key, REDACTED)
        return scrubbed if isinstance(value, str) else json.loads(scrubbed)

    @staticmethod
    def _parse(response: httpx.Response) -> Any:
        if not response.content.strip():
            return {}  # ActiveCampaign occasionally answers 200 with an empty body
        try:
            return response.json()
        except ValueError:
            return _MALFORMED

    def _unreachable(self, exc: httpx.TransportError, exchange: Exchange) -> UnreachableError:
        text = str(exc)
        lowered = text.lower()
        transient = True
        if any(
            s in lowered for s in ("name or service", "nodename", "name resolution", "getaddrinfo")
        ):
            message = (
                f"Cannot find {self.host}. Check the account name in the API URL: copy it from "
                "Settings > Developer in ActiveCampaign."
            )
            transient = False  # a mistyped host won't appear by retrying
        elif "refused" in lowered:
            message = (
                f"{self.host} refused the connection. Check the API URL; for a local sandbox, "
                "check that `python -m connector.sandbox` is running on that port."
            )
        else:
            message = (
                f"Could not reach {self.host}. Check your network and the API URL, then retry."
            )
        return UnreachableError(
            message,
            detail=f"{type(exc).__name__}: {self._redact(text)}",
            exchange=exchange,
            transient=transient,
        )

    def _error_for(self, response: httpx.Response, payload: Any, exchange: Exchange) -> ApiError:
        status = response.status_code
        api_says = self._redact(_api_message(payload))
        detail = f"HTTP {status} {response.request.method} {response.request.url.path}: {api_says}"
        common: dict[str, Any] = {"status": status, "body": payload, "exchange": exchange}
        if status in (401, 403):
            if api_says in ("", "Forbidden"):
                message = (
                    "ActiveCampaign refused the API key. Copy the key again from Settings > "
                    "Developer, and check that its user still exists."
                )
            else:
                message = f"ActiveCampaign refused the request: {api_says}."
            return AuthError(message, detail, **common)
        if status == 404:
            return NotFoundError(
                f"ActiveCampaign could not find it: {api_says or 'no such record'}. It may have "
                "been deleted; refresh the catalog.",
                detail,
                **common,
            )
        if status in (400, 422):
            return ValidationError(
                f"ActiveCampaign rejected the data: {api_says or 'invalid request'}.",
                detail,
                **common,
            )
        if status == 429:
            retry_after = _retry_after(response)
            wait = (
                f" Wait {retry_after:g} s and try again." if retry_after else " Try again shortly."
            )
            return RateLimitedError(
                "ActiveCampaign's rate limit (5 requests per second per account) was hit." + wait,
                detail,
                retry_after=retry_after,
                **common,
            )
        return ServerError(
            f"ActiveCampaign had a problem (HTTP {status}). Try again in a moment.",
            detail,
            **common,
        )


_MALFORMED = object()


def _as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _api_message(payload: Any) -> str:
    """The API's own words, from whichever of its three error shapes it used."""
    if not isinstance(payload, dict):
        return ""
    if isinstance(payload.get("message"), str):
        return payload["message"]
    parts = []
    for item in payload.get("errors") or []:
        if not isinstance(item, dict):
            continue
        title = str(item.get("title") or item.get("detail") or item.get("code") or "").strip()
        pointer = str((item.get("source") or {}).get("pointer") or "")
        where = pointer.rsplit("/", 1)[-1] if pointer else ""
        parts.append(f"{title} ({where})" if where and title else title)
    return "; ".join(p for p in parts if p)
