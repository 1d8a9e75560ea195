"""httpx behind one module: polite, bounded GETs. Every HTTP failure maps to one FetchError here."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Any, TypeAlias

import httpx

from monitor.config.settings import HttpSettings
from monitor.errors import BlockedError, FetchError, ThrottledError, TooLargeError
from monitor.fetch.guard import (
    BLOCKED_PREFIX,
    DEADLINE_PREFIX,
    GuardedTransport,
    Resolver,
    deadline,
)
from monitor.model import Fetched

__all__ = ["FEED_ACCEPT", "PAGE_ACCEPT", "Client", "Transport", "fetch", "make_client"]

Client: TypeAlias = httpx.Client  # what make_client makes; its users need not import httpx
Transport: TypeAlias = httpx.BaseTransport  # a test's stand-in for the network

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"  # noqa: E501
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"

_INFLATERS: dict[str, Callable[[], zlib._Decompress]] = {
    "gzip": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
    "x-gzip": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
    "deflate": lambda: zlib.decompressobj(32 + zlib.MAX_WBITS),  # zlib or gzip header
}
# Bodies that are never a feed or an article page: refused before they are read.
_NOT_TEXT = (
    "image/",
    "audio/",
    "video/",
    "font/",
    "model/",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "application/x-gzip",
    "application/x-tar",
    "application/x-7z-compressed",
    "application/x-rar-compressed",
    "application/vnd.",
    "application/msword",
    "application/wasm",
    "application/x-msdownload",
    "application/x-shockwave-flash",
)
_THROTTLING = (429, 503)
_STATUS_TEXT = {
    401: "access denied (401): the server wants credentials",
    403: "access forbidden (403)",
    404: "not found (404)",
    410: "gone (410): the server says this URL was removed for good",
    429: "rate limited (429)",
}


def make_client(
    http: HttpSettings,
    transport: Transport | None = None,
    *,
    resolver: Resolver | None = None,
) -> Client:
    """One client per process: shared connection pool, timeouts, redirects and User-Agent.

    Every connection goes through the SSRF guard (monitor.fetch.guard) unless a test hands
    in its own ``transport``; ``resolver`` replaces DNS for tests of the guard."""
    timeout = httpx.Timeout(http.timeout, connect=http.connect_timeout)
    limits = httpx.Limits(max_connections=max(10, http.concurrency * 2))
    if transport is None:
        extra = {"resolver": resolver} if resolver else {}
        transport = GuardedTransport(allowed=http.allow_networks, limits=limits, **extra)
    client = _Client(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=http.max_redirects,
        headers={"User-Agent": http.user_agent, "Accept-Encoding": "gzip, deflate"},
        limits=limits,
        transport=transport,
        trust_env=False,
    )
    client.deadline = http.deadline
    return client


class _Cookies(httpx.Cookies):
    """httpx's cookie jar, which skips a response that sets no cookie. httpx hands every
    response to ``http.cookiejar`` through two adapter objects (a tenth of the CPU of a
    304 poll); without a Set-Cookie header that finds nothing to keep."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers or "set-cookie2" in response.headers:
            super().extract_cookies(response)


class _Client(httpx.Client):
    """httpx's client, carrying the total deadline each fetch is held to."""

    deadline: float | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cookies = _Cookies()  # where httpx keeps the client's jar (see _Cookies)


def fetch(
    client: httpx.Client,
    url: str,
    *,
    max_bytes: int,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: str = "*/*",
) -> Fetched:
    """GET ``url``; a 304 comes back with ``is_modified=False`` and no body.

    The whole exchange, redirects included, must finish within ``[http] deadline``."""
    headers = {"Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with (
            deadline(getattr(client, "deadline", None)),
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == 304:
                return _fetched(response, b"", is_modified=False)
            if response.status_code in _THROTTLING:
                raise _throttled(response, url)
            if response.status_code >= 400:
                raise FetchError(_status_message(response.status_code) + f" for {_safe(url)}")
            _check_type(response, url)
            return _fetched(response, _read_capped(response, url, max_bytes))
    except httpx.TooManyRedirects:
        raise FetchError(f"too many redirects fetching {_safe(url)}") from None
    except httpx.TimeoutException as exc:
        if str(exc).startswith(DEADLINE_PREFIX):
            raise FetchError(
                f"gave up on {_safe(url)}: {exc} (a slow or endless response)",
                "raise [http] deadline if this source is legitimately slow",
            ) from None
        kind = type(exc).__name__.replace("Timeout", " timeout").lower()
        raise FetchError(f"{kind.strip()} fetching {_safe(url)}") from None
    except httpx.ConnectError as exc:
        if str(exc).startswith(BLOCKED_PREFIX):
            raise BlockedError(f"refused to fetch {_safe(url)}: {_via(exc, url)}{exc}") from None
        raise FetchError(f"cannot connect to {_safe(url)}: {_reason(exc)}") from None
    except httpx.UnsupportedProtocol:
        raise FetchError(f"not an http or https URL: {_safe(url)}") from None
    except httpx.DecodingError:
        raise FetchError(f"the body of {_safe(url)} is not valid compressed data") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__} fetching {_safe(url)}: {_reason(exc)}") from None
    except (httpx.InvalidURL, UnicodeError) as exc:  # a bad host or port; IDNA errors
        raise FetchError(
            f"invalid URL {_safe(url)}: {_reason(exc)}", "check the URL; `newsmon config check`"
        ) from None


def _fetched(response: httpx.Response, body: bytes, *, is_modified: bool = True) -> Fetched:
    return Fetched(
        url=str(response.url),
        status=response.status_code,
        body=body,
        content_type=response.headers.get("content-type", ""),
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        is_modified=is_modified,
        cache_control=response.headers.get("cache-control"),
    )


def _throttled(response: httpx.Response, url: str) -> ThrottledError:
    """429 or 503: the server is telling us to slow down, maybe for how long."""
    wait = response.headers.get("retry-after")
    message = _status_message(response.status_code) + f" for {_safe(url)}"
    if wait:
        message += f", retry after {wait[:64]!r}"
    return ThrottledError(message, retry_after=wait)


def _check_type(response: httpx.Response, url: str) -> None:
    content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type.startswith(_NOT_TEXT):
        raise FetchError(
            f"{_safe(str(response.url))} is {content_type}, not a feed or a web page",
            "check that the URL names a feed or an article, not a file",
        )


def _read_capped(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLargeError(
            f"{_safe(url)} declares {int(declared)} bytes, over max_bytes={max_bytes}"
        )
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    inflater = _INFLATERS.get(encoding)
    if encoding not in ("identity", "") and inflater is None:
        raise FetchError(f"{_safe(url)} uses an unsupported content encoding {encoding!r}")
    unpack = inflater() if inflater else None
    chunks: list[bytes] = []
    size = 0
    for raw in _raw_chunks(response):  # inflated here, a bounded piece at a time
        pending = raw
        while pending:
            if unpack is None:
                piece, pending = pending, b""
            else:
                try:
                    piece = unpack.decompress(pending, max_bytes + 1 - size)
                except zlib.error:
                    raise FetchError(
                        f"the body of {_safe(url)} is not valid compressed data ({encoding})"
                    ) from None
                pending = unpack.unconsumed_tail
            size += len(piece)
            if size > max_bytes:
                raise TooLargeError(f"{_safe(url)} is larger than max_bytes={max_bytes}")
            chunks.append(piece)
            if unpack is not None and not piece:
                break
    return b"".join(chunks)


def _raw_chunks(response: httpx.Response) -> Iterator[bytes]:
    """The body as sent; a response already read into memory (a test transport's) as is."""
    if hasattr(response, "_content"):
        yield response.content
        return
    yield from response.iter_raw()


def _via(exc: httpx.HTTPError, url: str) -> str:
    """``redirected to X: `` when the refused connection was for a redirect's target."""
    try:
        target = str(exc.request.url)
    except RuntimeError:
        return ""
    return "" if target == url else f"redirected to {_safe(target)}: "


def _status_message(status: int) -> str:
    if status in _STATUS_TEXT:
        return _STATUS_TEXT[status]
    if status >= 500:
        return f"server error ({status})"
    return f"unexpected status ({status})"


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.split("] ")[-1][:200]


def _safe(url: str) -> str:
    """The URL without credentials or query string, for messages and logs."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "<invalid url>"
    return str(parsed.copy_with(userinfo=b"", query=None, fragment=None))
