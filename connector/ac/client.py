"""The only code that speaks HTTP to ActiveCampaign (or to the sandbox, through the same door).

``AcClient`` wraps one ``httpx.Client`` per account: the ``Api-Token`` header, timeouts, the
account's request budget, retries, pagination (``limit=100`` + ``offset`` until ``meta.total``)
and verified reads. Every try is an ``Exchange`` (the exact request and answer, key redacted);
every failure a typed ``ApiError`` (classified in ``errors``) carrying its exchange.

* ``send`` sends once. ``call`` sends with retries, for reads and other requests that are safe
  to repeat; the runner drives writes itself, because a write is checked before it is repeated.
* A ``verify`` function looks at a 2xx body and returns what is missing from it ("" when the
  answer shows what the request needed); an answer without it raises ``UnexpectedResponse``.
  Collections must hold objects with ids, and a paged one a believable ``meta.total``: whatever
  the typed reads return was checked, so nothing downstream meets a KeyError or a TypeError.
* An answer is read as a stream, never past ``MAX_BODY_BYTES`` (nor at all when its
  ``Content-Length`` says it is bigger): a bigger one is ``ResponseTooLarge``, with a short
  excerpt as evidence.
* Redirects are never followed: the key would travel with them.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from connector.ac.retry import RetryPolicy
from connector.core.errors import (
    ApiError,
    RateLimitedError,
    RequestRejected,
    ResponseTooLarge,
    SettingsError,
    StorageError,
    UnexpectedResponse,
    clip,
    error_for_status,
    error_for_transport,
)
from connector.core.models import AcList, Automation, Contact, Field, Tag, User, api_id
from connector.core.records import Exchange, utc_now

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_ITEMS",
    "PAGE_SIZE",
    "REDACTED",
    "AcClient",
    "Budget",
    "ProgressCallback",
    "Verify",
    "collection",
]

PAGE_SIZE = 100  # the API's maximum; anything larger is not documented
# The most of one answer the client reads. The biggest answer the console asks for is a page of
# 100 items: 100 contacts with every field they carry come to ~0.3 MB, and the page that can grow
# most, 100 custom fields with their sideloaded dropdown options (say 200 options of ~250 bytes
# each), to ~5 MB. 8 MiB is above any of that, and still keeps a runaway answer (a proxy's error
# page, a stream that never ends) out of memory: 8 pages read at once hold 64 MiB at worst.
MAX_BODY_BYTES = 8 * 1024 * 1024
# The most items a collection may claim (``meta.total``) or a check page through: 10,000 pages,
# 33 minutes at 5 requests per second. A bigger total is not a count the console can act on.
MAX_ITEMS = 1_000_000
_MB = 1024 * 1024
_CHUNK = 64 * 1024  # read in pieces this big, so the cap is overshot by at most one piece
_EXCERPT = 300  # characters of an answer an error's detail and an oversized exchange show
_SHOWN_BODY = 2000  # characters of an unreadable answer an exchange keeps
_MAX_DEPTH = 64  # JSON nested deeper is no API answer (and would exhaust Python's stack)
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
    """A verifier for a collection answer: ``key`` holds a list of objects, each with an id
    (and, ``paged``, ``meta.total`` a count from 0 to ``MAX_ITEMS``)."""
    noun = key[0].lower() + "".join(f" {c.lower()}" if c.isupper() else c for c in key[1:])

    def verify(body: Any) -> str:
        items = body.get(key) if isinstance(body, dict) else None
        if not isinstance(items, list):
            return f"the {noun}"
        for number, item in enumerate(items):
            if not isinstance(item, dict):
                return f"the {noun} as objects ({key}[{number}] is {_kind(item)})"
            if api_id(item.get("id")) is None:
                return (
                    f"an id for each of the {noun} ({key}[{number}].id is {_kind(item.get('id'))})"
                )
        if paged:
            meta = body.get("meta") if isinstance(body, dict) else None
            total = meta.get("total") if isinstance(meta, dict) else None
            if total is None:
                return f"the total number of {noun} (meta.total)"
            if _count(total) is None:
                return (
                    f"a usable total number of {noun} (meta.total is {_kind(total)}, not a "
                    f"count from 0 to {MAX_ITEMS:,})"
                )
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
        self.unsettled = 0  # budget slots the store would not settle (see ``_settle``)
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
        slot = self.budget.acquire()  # a StorageError here: nothing was sent
        try:
            answer = self._send(method, path, params, body, verify)
        except ApiError:
            self._settle(slot)
            raise
        self._settle(slot)
        return answer

    def _settle(self, slot: int) -> None:
        """The answer is in: move the slot to now, the latest it can have arrived. This is
        bookkeeping: when the store refuses it, the slot keeps its (earlier) start and ages
        out of the window; the answer, which is evidence, must never be replaced by it."""
        assert self.budget is not None
        try:
            self.budget.settle(slot)
        except StorageError:
            self.unsettled += 1

    def _send(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
        verify: Verify | None,
    ) -> Exchange:
        at, started = utc_now(), time.perf_counter()
        try:
            request = self._http.build_request(method, path, params=params, json=body)
        except httpx.InvalidURL as exc:  # e.g. an id with a line break in it, a huge query
            invalid = RequestRejected(
                f"The console could not send this request: its address is not valid "
                f"({clip(self._redact(str(exc))).rstrip('.')}). Nothing was sent.",
                f"{method} {clip(self._redact(path))}: {type(exc).__name__}",
            )
            invalid.exchange = Exchange(
                method=method,
                url=clip(self._redact(self.url(path)), _EXCERPT),
                request_body=body,
                error=invalid.message,
                at=at,
            )
            raise invalid from None
        headers = {
            name: (REDACTED if name.lower() == "api-token" else value)
            for name, value in request.headers.items()
            if name.lower() in _SHOWN_HEADERS
        }

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

        def undecodable(status: int | None, exc: httpx.DecodingError) -> ApiError:
            odd = UnexpectedResponse(
                f"{clip(self.host, 80)} answered with a body that can't be decoded. "
                + _UNEXPECTED_ADVICE[method == "GET"],
                f"{type(exc).__name__}: {clip(self._redact(str(exc)), _EXCERPT)}",
                status=status,
            )
            odd.exchange = exchange(status, None, odd.message)
            return odd

        def lost(status: int | None, exc: httpx.RequestError) -> ApiError:
            failure = error_for_transport(exc, host=self.host, redact=self._redact)
            failure.exchange = exchange(status, None, failure.message)
            return failure

        try:
            response = self._http.send(request, stream=True)
        except httpx.DecodingError as exc:  # an answer came, but its body can't be decoded
            raise undecodable(None, exc) from None
        except httpx.RequestError as exc:
            raise lost(None, exc) from None
        status = response.status_code
        try:
            raw, announced = _read_capped(response)
        except httpx.DecodingError as exc:  # a compressed body that does not decompress
            raise undecodable(status, exc) from None
        except httpx.RequestError as exc:  # the connection broke (or stalled) mid-body
            raise lost(status, exc) from None
        finally:
            response.close()
        encoding = response.encoding or "utf-8"
        detail = f"HTTP {status} {method} {clip(self._redact(request.url.path), 200)}"
        answer_headers = httpx.Headers(
            {name: self._redact(value) for name, value in response.headers.items()}
        )

        def refused(payload: Any, excerpt: str, shown: Any) -> ApiError:
            failure = error_for_status(
                status,
                host=self.host,
                payload=self._redact(payload),
                headers=answer_headers,
                detail=f"{detail}: {excerpt}",
            )
            failure.exchange = exchange(status, shown, failure.message)
            if isinstance(failure, RateLimitedError) and self.budget is not None:
                # The account is over its limit for everyone: hold every process, retry or not.
                # A store that refuses the hold must not replace the answer (the retry policy
                # honours Retry-After in this process all the same).
                with contextlib.suppress(StorageError):
                    self.budget.hold(
                        failure.retry_after if failure.retry_after is not None else 1.0
                    )
            return failure

        if announced is not None or len(raw) > MAX_BODY_BYTES:
            excerpt = self._excerpt(
                raw[: 4 * (_EXCERPT + len(self._key))].decode(encoding, "replace")
            )
            shown = excerpt or None
            if not response.is_success:
                raise refused(
                    None, f"an answer over {MAX_BODY_BYTES // _MB} MB, not read: {excerpt!r}", shown
                )
            if announced is not None:
                size = (
                    f"announced an answer of {announced / _MB:,.0f} MB (Content-Length), more "
                    f"than the {MAX_BODY_BYTES // _MB} MB any of its answers needs, so it was "
                    "not read"
                )
            else:
                size = (
                    f"answered with more than {MAX_BODY_BYTES // _MB} MB, more than any of its "
                    "answers needs, so nothing was read further"
                )
            flood = ResponseTooLarge(
                f"ActiveCampaign (HTTP {status}) {size}. " + _TOO_LARGE_ADVICE[method == "GET"],
                f"{detail}: {excerpt!r}",
                status=status,
            )
            flood.exchange = exchange(status, shown, flood.message)
            raise flood
        payload, unreadable = _parse(raw)
        if unreadable:
            text = self._redact(raw.decode(encoding, "replace"))  # before any cut: a cut key
            excerpt, shown = clip(text, _EXCERPT), text[:_SHOWN_BODY]  # would survive it
        else:
            payload = self._redact(payload)
            excerpt = "" if payload is None else clip(_dumps(payload), _EXCERPT)
            shown = payload
        if not response.is_success:
            raise refused(payload, excerpt, shown)
        lacks = verify(payload) if verify is not None and not unreadable else ""
        if unreadable:
            missing = f"with {unreadable}"
        elif lacks:
            missing = (
                f"with an empty body instead of {lacks}" if payload is None else f"without {lacks}"
            )
        else:
            missing = ""
        if missing:
            odd = UnexpectedResponse(
                f"ActiveCampaign answered HTTP {status} {missing}. "
                + _UNEXPECTED_ADVICE[method == "GET"],
                f"{detail}: {excerpt!r}",
                status=status,
                body=payload,
            )
            odd.exchange = exchange(status, shown, odd.message)
            raise odd
        return exchange(status, payload, "")

    def _excerpt(self, text: str) -> str:
        """The start of an answer, key redacted before the cut (a cut key would survive it)."""
        redacted = self._redact(text[: _EXCERPT + len(self._key)])
        # Every whole copy is gone; one the cut went through may end the window, and earlier
        # replacements may have pulled it into the excerpt: drop what could begin a key.
        for size in range(min(len(self._key) - 1, len(redacted)), 0, -1):
            if redacted.endswith(self._key[:size]):
                redacted = redacted[:-size]
                break
        return clip(redacted, _EXCERPT)

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
            sideloaded = body.get("fieldOptions")
            for option in sideloaded if isinstance(sideloaded, list) else []:
                if not isinstance(option, dict):
                    continue
                field_id, value = api_id(option.get("field")), option.get("value")
                scalar = isinstance(value, str | int | float) and not isinstance(value, bool)
                if field_id is not None and scalar:
                    options.setdefault(field_id, []).append(str(value))
        return [
            Field.from_api(item, tuple(options.get(api_id(item.get("id")) or "", ())))
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


_TOO_LARGE_ADVICE = {
    True: "Nothing was changed. If it persists, check that the API URL is the one from "
    "Settings > Developer: something other than ActiveCampaign may be answering.",
    False: "It may or may not have been applied: check the contact in ActiveCampaign.",
}


def _read_capped(response: httpx.Response) -> tuple[bytes, int | None]:
    """(body, None), reading no more than ``MAX_BODY_BYTES`` + 1 bytes of it; or (what was
    read, the size announced) without reading when ``Content-Length`` is over the cap. A body
    longer than the cap comes back cut at the cap + 1 byte: the caller sees it is too long."""
    announced = _count(response.headers.get("content-length"), limit=None)
    if announced is not None and announced > MAX_BODY_BYTES:
        return b"", announced
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes(_CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            break
    return b"".join(chunks)[: MAX_BODY_BYTES + 1], None


def _parse(raw: bytes) -> tuple[Any, str]:
    """(payload, why it is unreadable or ""): an empty body is None (ActiveCampaign sometimes
    answers 200 with nothing); a body that is not JSON, or JSON nested deeper than any answer,
    is unreadable."""
    if not raw.strip():
        return None, ""
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None, "something that is not JSON"
    if _deeper_than(payload, _MAX_DEPTH):
        return None, f"JSON nested more than {_MAX_DEPTH} levels deep, which no answer is"
    return payload, ""


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests objects or arrays more than ``limit`` deep (without recursing:
    the point is to find what would overflow the stack of whatever recursed over it)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _count(value: Any, limit: int | None = MAX_ITEMS) -> int | None:
    """A count the API sent ("4" or 4) from 0 to ``limit``; None for anything else (missing,
    negative, a fraction, text, true, a number too big to act on)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return None
        value = int(value)
    elif isinstance(value, str):
        value = value.strip()
        if not value.isascii() or not value.isdigit() or len(value) > 19:
            return None
    if not isinstance(value, int | str):
        return None
    number = int(value)
    if number < 0 or (limit is not None and number > limit):
        return None
    return number


def _kind(value: Any) -> str:
    """A JSON value, described in a few words for an error (never at length)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return f"“{clip(value, 30)}”" if value else "empty"
    return clip(repr(value), 30)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _user_with_email(body: Any) -> str:
    user = body.get("user") if isinstance(body, dict) else None
    if not isinstance(user, dict) or not str(user.get("email") or "").strip():
        return "the key's user (user.email)"
    return ""
