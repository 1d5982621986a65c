"""The only code that speaks HTTP to ActiveCampaign (or to the sandbox, through the same door).

``AcClient`` wraps one ``httpx.Client`` per account: the ``Api-Token`` header, timeouts, the
account's request budget, retries, pagination (``limit=100`` + ``offset`` until ``meta.total``)
and verified reads. Every try is an ``Exchange`` (the exact request and answer, key redacted);
every failure a typed ``ApiError`` (classified in ``errors``) carrying its exchange.

* ``send`` sends once. ``call`` sends with retries, for reads and other requests that are safe
  to repeat; the runner drives writes itself, because a write is checked before it is repeated.
* A ``verify`` function looks at a 2xx body and returns what is missing from it ("" when the
  answer shows what the request needed); an answer without it raises ``UnexpectedResponse``.
* Redirects are never followed: the key would travel with them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from .errors import (
    ApiError,
    RateLimitedError,
    SettingsError,
    UnexpectedResponse,
    error_for_status,
    error_for_transport,
)
from .models import AcList, Automation, Contact, Field, Tag, User
from .records import Exchange, utc_now
from .retry import RetryPolicy

__all__ = [
    "PAGE_SIZE",
    "REDACTED",
    "AcClient",
    "Budget",
    "ProgressCallback",
    "Verify",
    "collection",
]

PAGE_SIZE = 100  # the API's maximum; anything larger is not documented
REDACTED = "[redacted]"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEFAULT_RETRY = RetryPolicy()
_SHOWN_HEADERS = ("api-token", "content-type", "accept")

ProgressCallback = Callable[[int, int], None]  # (pages fetched, pages in all)
# A 2xx body -> what it lacks ("" when it shows what the request needed).
Verify = Callable[[Any], str]


class Budget(Protocol):
    def acquire(self) -> int: ...

    def settle(self, slot: int) -> None: ...

    def hold(self, seconds: float) -> None: ...


def collection(key: str, *, paged: bool = False) -> Verify:
    """A verifier for a collection answer: ``key`` holds a list (and ``meta.total`` a count)."""
    noun = key[0].lower() + "".join(f" {c.lower()}" if c.isupper() else c for c in key[1:])

    def verify(body: Any) -> str:
        if not isinstance(body, dict) or not isinstance(body.get(key), list):
            return f"the {noun}"
        if paged and _count((body.get("meta") or {}).get("total")) is None:
            return f"the total number of {noun} (meta.total)"
        return ""

    return verify


class AcClient:
    """A client for one account (``api_url`` without ``/api/3``). Thread-safe, like httpx.Client.

    Pass ``transport`` to talk to something else than the network: the in-process sandbox, or an
    ``httpx.MockTransport`` in tests. ``clock`` and ``sleep`` time the retries."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        budget: Budget | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key.isascii() or not api_key.isprintable():
            # httpx would fail deep inside with a UnicodeEncodeError naming the key's bytes.
            raise SettingsError("The API key must be printable ASCII: copy it again.")
        self.api_url = api_url.rstrip("/")
        self.budget = budget
        self.retry = retry
        self.clock = clock
        self.sleep = sleep
        self.host = urlsplit(self.api_url).netloc
        self._key = api_key
        self._http = httpx.Client(
            base_url=f"{self.api_url}/api/3",
            headers={
                "Api-Token": api_key,
                "Accept": "application/json",
                "User-Agent": "ac-connector-console/0.2",
            },
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"AcClient({self.api_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        return f"{self.api_url}/api/3{path}"

    # -- one try ----------------------------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        verify: Verify | None = None,
    ) -> Exchange:
        """Send exactly once (after taking a slot from the budget): the ``Exchange`` of a 2xx
        that verifies, else a typed ``ApiError`` whose ``exchange`` holds the failed try."""
        if self.budget is None:
            return self._send(method, path, params, body, verify)
        slot = self.budget.acquire()
        try:
            return self._send(method, path, params, body, verify)
        finally:
            self.budget.settle(slot)  # the answer is in: it arrived by now at the latest

    def _send(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
        verify: Verify | None,
    ) -> Exchange:
        request = self._http.build_request(method, path, params=params, json=body)
        headers = {
            name: (REDACTED if name.lower() == "api-token" else value)
            for name, value in request.headers.items()
            if name.lower() in _SHOWN_HEADERS
        }
        at, started = utc_now(), time.perf_counter()

        def exchange(status: int | None, answer: Any, error: str) -> Exchange:
            return Exchange(
                method=method,
                url=self._redact(str(request.url)),
                request_body=body,
                request_headers=headers,
                status=status,
                response_body=self._redact(answer),
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                error=error,
                at=at,
            )

        try:
            response = self._http.send(request)
        except httpx.DecodingError as exc:  # an answer came, but its body can't be decoded
            odd = UnexpectedResponse(
                f"{self.host} answered with a body that can't be decoded. "
                + _UNEXPECTED_ADVICE[method == "GET"],
                f"{type(exc).__name__}: {self._redact(str(exc))}",
            )
            odd.exchange = exchange(None, None, odd.message)
            raise odd from None
        except httpx.RequestError as exc:
            lost = error_for_transport(exc, host=self.host, redact=self._redact)
            lost.exchange = exchange(None, None, lost.message)
            raise lost from None
        payload, unreadable = _parse(response)
        text = self._redact(response.text)  # before any cut: a cut key would survive it
        shown = text[:2000] if unreadable else payload
        detail = f"HTTP {response.status_code} {method} {request.url.path}"
        if not response.is_success:
            failure = error_for_status(
                response.status_code,
                host=self.host,
                payload=self._redact(payload),
                headers=response.headers,
                detail=f"{detail}: {text[:300]}",
            )
            failure.exchange = exchange(response.status_code, shown, failure.message)
            if isinstance(failure, RateLimitedError) and self.budget is not None:
                # The account is over its limit for everyone: hold every process, retry or not.
                self.budget.hold(failure.retry_after if failure.retry_after is not None else 1.0)
            raise failure
        lacks = verify(payload) if verify is not None and not unreadable else ""
        if unreadable:
            missing = "with something that is not JSON"
        elif lacks:
            missing = (
                f"with an empty body instead of {lacks}" if payload is None else f"without {lacks}"
            )
        else:
            missing = ""
        if missing:
            odd = UnexpectedResponse(
                f"ActiveCampaign answered HTTP {response.status_code} {missing}. "
                + _UNEXPECTED_ADVICE[method == "GET"],
                f"{detail}: {text[:300]!r}",
                status=response.status_code,
                body=self._redact(payload),
            )
            odd.exchange = exchange(response.status_code, shown, odd.message)
            raise odd
        return exchange(response.status_code, payload, "")

    # -- with retries ------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        verify: Verify | None = None,
        on_try: Callable[[Exchange], None] | None = None,
    ) -> Exchange:
        """``send`` with retries per ``self.retry``, for requests that are safe to repeat.
        ``on_try`` sees every try, failed ones included."""
        started = self.clock()
        attempt = 1
        while True:
            try:
                done = self.send(method, path, params=params, body=body, verify=verify)
            except ApiError as exc:
                if on_try is not None and exc.exchange is not None:
                    on_try(exc.exchange)
                delay = self.retry.next_delay(attempt, exc, self.clock() - started)
                if delay is None:
                    raise
                self.sleep(delay)  # a 429 has already put the account's budget on hold
                attempt += 1
                continue
            if on_try is not None:
                on_try(done)
            return done

    def get(
        self, path: str, params: dict[str, Any] | None = None, *, verify: Verify | None = None
    ) -> dict[str, Any]:
        body = self.call("GET", path, params=params, verify=verify).response_body
        return body if isinstance(body, dict) else {}

    def paginate(
        self,
        path: str,
        key: str,
        *,
        params: dict[str, Any] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of a collection, in pages of ``PAGE_SIZE``; every page must verify."""
        return [
            item
            for body in self.pages(path, key, params=params, on_progress=on_progress)
            for item in body[key]
            if isinstance(item, dict)
        ]

    def pages(
        self,
        path: str,
        key: str,
        *,
        params: dict[str, Any] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> list[dict[str, Any]]:
        """Every page body of a collection in offset order, sideloads included.

        The first page tells ``meta.total``; the remaining pages are then fetched concurrently
        (the budget keeps them within the account's rate limit). ``on_progress`` is called from
        the calling thread, so it may draw on a page."""
        verify = collection(key, paged=True)

        def page(offset: int) -> dict[str, Any]:
            return self.get(
                path, {**(params or {}), "limit": PAGE_SIZE, "offset": offset}, verify=verify
            )

        first = page(0)
        total = _count(first["meta"]["total"]) or 0
        pages_total = max(1, math.ceil(total / PAGE_SIZE))
        if on_progress:
            on_progress(1, pages_total)
        if pages_total == 1:
            return [first]
        offsets = list(range(PAGE_SIZE, pages_total * PAGE_SIZE, PAGE_SIZE))
        results: dict[int, dict[str, Any]] = {0: first}
        workers = min(len(offsets), 8)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ac-page") as pool:
            futures = {pool.submit(page, offset): offset for offset in offsets}
            for done, future in enumerate(as_completed(futures), start=2):
                results[futures[future]] = future.result()
                if on_progress:
                    on_progress(done, pages_total)
        return [results[offset] for offset in sorted(results)]

    # -- typed reads ----------------------------------------------------------------------------

    def me(self) -> User:
        """The user the key belongs to: the connection check. The answer must name a user."""
        body = self.get("/users/me", verify=_user_with_email)
        return User.from_api(body["user"])

    def lists(self, on_progress: ProgressCallback | None = None) -> list[AcList]:
        rows = self.paginate("/lists", "lists", on_progress=on_progress)
        return [AcList.from_api(x) for x in rows]

    def automations(self, on_progress: ProgressCallback | None = None) -> list[Automation]:
        rows = self.paginate("/automations", "automations", on_progress=on_progress)
        return [Automation.from_api(x) for x in rows]

    def fields(self, on_progress: ProgressCallback | None = None) -> list[Field]:
        """Every custom field, with the options the API sideloads (``fieldOptions``)."""
        bodies = self.pages("/fields", "fields", on_progress=on_progress)
        options: dict[str, list[str]] = {}
        for body in bodies:
            for option in body.get("fieldOptions") or []:
                if isinstance(option, dict) and option.get("value") is not None:
                    options.setdefault(str(option.get("field")), []).append(str(option["value"]))
        return [
            Field.from_api(item, tuple(options.get(str(item.get("id")), ())))
            for body in bodies
            for item in body["fields"]
            if isinstance(item, dict)
        ]

    def tags(self, on_progress: ProgressCallback | None = None) -> list[Tag]:
        rows = self.paginate("/tags", "tags", on_progress=on_progress)
        return [Tag.from_api(x) for x in rows]

    def find_contact(self, email: str) -> Contact | None:
        body = self.get("/contacts", {"email": email}, verify=collection("contacts"))
        found = [c for c in body["contacts"] if isinstance(c, dict)]
        return Contact.from_api(found[0]) if found else None

    # -- redaction ------------------------------------------------------------------------------

    def _redact(self, value: Any) -> Any:
        """Scrub the key from anything that might be shown or stored (a server could echo it):
        every string inside, however the key's characters would be escaped in JSON."""
        if isinstance(value, str):
            return value.replace(self._key, REDACTED)
        if isinstance(value, dict):
            return {self._redact(k): self._redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._redact(item) for item in value]
        return value


_UNEXPECTED_ADVICE = {
    True: "Nothing was changed. Try again; if it persists, check that the API URL is the one "
    "from Settings > Developer.",
    False: "It may or may not have been applied.",
}


def _parse(response: httpx.Response) -> tuple[Any, bool]:
    """(payload, unreadable): an empty body is None (ActiveCampaign sometimes answers 200 with
    nothing); a body that is not JSON is unreadable."""
    if not response.content.strip():
        return None, False
    try:
        return response.json(), False
    except ValueError:
        return None, True


def _count(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _user_with_email(body: Any) -> str:
    user = body.get("user") if isinstance(body, dict) else None
    if not isinstance(user, dict) or not str(user.get("email") or "").strip():
        return "the key's user (user.email)"
    return ""
