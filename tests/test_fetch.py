"""fetch: bounded GETs against a real local server; every failure is one FetchError."""

from __future__ import annotations

import gzip
import socket
import threading
import tracemalloc
from collections.abc import Iterator

import httpx
import pytest

from monitor.config.settings import HttpSettings
from monitor.demo.server import Reply, Site
from monitor.errors import FetchError, ThrottledError, TooLargeError
from monitor.fetch.client import fetch, make_client

UA = "newsmon-test/9.9 (+http://example.invalid/contact)"


@pytest.fixture(scope="module")
def running_site() -> Iterator[Site]:
    with Site() as site:  # one per module: shutting a Site down takes up to 0.5 s
        yield site  # type: ignore[misc]


@pytest.fixture
def server(running_site: Site) -> Site:
    running_site.routes.clear()
    running_site.hits.clear()
    return running_site


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """~50 KB on the wire, 50 MB of zeros once decoded."""
    return gzip.compress(bytes(50_000_000), compresslevel=9)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(
        HttpSettings(user_agent=UA, timeout=0.25, max_redirects=3, allow_networks=["127.0.0.1/32"])
    ) as c:
        yield c


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def test_200_gives_body_and_validators(server: Site, client: httpx.Client) -> None:
    body = b"<rss version='2.0'><channel><title>t</title></channel></rss>"
    server.routes["/feed.xml"] = Reply(
        200,
        body,
        {"Content-Type": "application/rss+xml", "Last-Modified": "Tue, 03 Nov 2026 10:00:00 GMT"},
    )
    got = fetch(client, server.base + "/feed.xml", max_bytes=10_000)
    assert got.is_modified
    assert (got.status, got.body) == (200, body)
    assert got.content_type == "application/rss+xml"
    assert got.etag and got.etag.startswith('"')
    assert got.last_modified == "Tue, 03 Nov 2026 10:00:00 GMT"
    assert got.url == server.base + "/feed.xml"


def test_etag_sent_back_gives_not_modified(server: Site, client: httpx.Client) -> None:
    server.routes["/feed.xml"] = Reply(200, b"<rss/>")
    first = fetch(client, server.base + "/feed.xml", max_bytes=10_000)
    again = fetch(client, server.base + "/feed.xml", max_bytes=10_000, etag=first.etag)
    assert not again.is_modified
    assert again.status == 304
    assert again.body == b""
    assert again.etag == first.etag
    stale = fetch(client, server.base + "/feed.xml", max_bytes=10_000, etag='"stale"')
    assert stale.is_modified and stale.body == b"<rss/>"
    assert server.hits["/feed.xml"] == 3


def test_request_headers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"ok")

    settings = HttpSettings(user_agent=UA)
    with make_client(settings, transport=httpx.MockTransport(handler)) as c:
        fetch(
            c,
            "http://feeds.example/x",
            max_bytes=10_000,
            etag='"abc"',
            last_modified="Tue, 03 Nov 2026 10:00:00 GMT",
            accept="application/rss+xml",
        )
        fetch(c, "http://feeds.example/y", max_bytes=10_000)
    first, second = (r.headers for r in seen)
    assert first["User-Agent"] == UA
    assert first["If-None-Match"] == '"abc"'
    assert first["If-Modified-Since"] == "Tue, 03 Nov 2026 10:00:00 GMT"
    assert first["Accept"] == "application/rss+xml"
    assert "gzip" in first["Accept-Encoding"]
    assert second["User-Agent"] == UA
    assert "If-None-Match" not in second and "If-Modified-Since" not in second


def test_a_cookie_a_response_sets_goes_back_with_the_next_requests() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/consent":  # as a site's consent redirect would
            return httpx.Response(302, headers={"Location": "/feed", "Set-Cookie": "ok=1"})
        return httpx.Response(200, content=b"<rss/>", headers={"ETag": '"e"'})

    with make_client(HttpSettings(user_agent=UA), transport=httpx.MockTransport(handler)) as c:
        fetch(c, "http://feeds.example/feed", max_bytes=10_000)  # no cookie yet
        fetch(c, "http://feeds.example/consent", max_bytes=10_000)
        fetch(c, "http://feeds.example/feed", max_bytes=10_000)
    assert [r.headers.get("Cookie") for r in seen] == [None, None, "ok=1", "ok=1"]


@pytest.mark.parametrize(
    ("status", "start"),
    [
        (404, "fetch: not found (404)"),
        (500, "fetch: server error (500)"),
        (503, "fetch: server error (503)"),
        (403, "fetch: access forbidden (403)"),
        (410, "fetch: gone (410)"),
        (429, "fetch: rate limited (429)"),
        (418, "fetch: unexpected status (418)"),
    ],
    ids=["404", "500", "503", "403", "410", "429", "418"],
)
def test_http_errors(server: Site, client: httpx.Client, status: int, start: str) -> None:
    server.routes["/x"] = Reply(status, b"nope")
    with pytest.raises(FetchError) as info:
        fetch(client, server.base + "/x", max_bytes=10_000)
    assert str(info.value).startswith(start)
    assert not isinstance(info.value, TooLargeError)
    assert info.value.hint


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_carries_retry_after(server: Site, client: httpx.Client, status: int) -> None:
    server.routes["/x"] = Reply(status, b"slow down", {"Retry-After": "120"})
    with pytest.raises(ThrottledError) as info:
        fetch(client, server.base + "/x", max_bytes=10_000)
    assert info.value.retry_after == "120" and str(info.value).endswith(", retry after '120'")
    server.routes["/y"] = Reply(status, b"slow down")
    with pytest.raises(ThrottledError) as bare:
        fetch(client, server.base + "/y", max_bytes=10_000)
    assert bare.value.retry_after is None


def test_cache_control_is_kept_on_200_and_304(server: Site, client: httpx.Client) -> None:
    server.routes["/feed.xml"] = Reply(200, b"<rss/>", {"Cache-Control": "max-age=300"})
    first = fetch(client, server.base + "/feed.xml", max_bytes=10_000)
    again = fetch(client, server.base + "/feed.xml", max_bytes=10_000, etag=first.etag)
    assert (first.cache_control, again.cache_control) == ("max-age=300", "max-age=300")
    assert not again.is_modified


def test_missing_route_is_404(server: Site, client: httpx.Client) -> None:
    with pytest.raises(FetchError, match=r"^fetch: not found \(404\) for http://127\.0\.0\.1"):
        fetch(client, server.base + "/missing", max_bytes=10_000)


def test_body_at_the_cap_is_accepted(server: Site, client: httpx.Client) -> None:
    server.routes["/exact"] = Reply(200, b"x" * 10_000)
    assert len(fetch(client, server.base + "/exact", max_bytes=10_000).body) == 10_000


def test_declared_length_over_the_cap(server: Site, client: httpx.Client) -> None:
    server.routes["/big"] = Reply(200, b"x" * 10_001)
    with pytest.raises(TooLargeError, match="max_bytes=10000"):
        fetch(client, server.base + "/big", max_bytes=10_000)


def test_streamed_body_without_length_is_cut_off() -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        for _ in range(10_000):  # 10 MB if read to the end
            sent += 1
            yield b"x" * 1024

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunks())

    transport = httpx.MockTransport(handler)
    with (
        make_client(HttpSettings(), transport=transport) as c,
        pytest.raises(TooLargeError, match="larger than max_bytes=20000"),
    ):
        fetch(c, "http://feeds.example/endless", max_bytes=20_000)
    assert sent < 100


def test_gzip_body_is_decoded(server: Site, client: httpx.Client) -> None:
    text = b"<rss>" + b"NATO " * 1000 + b"</rss>"
    server.routes["/z"] = Reply(200, gzip.compress(text), {"Content-Encoding": "gzip"})
    assert fetch(client, server.base + "/z", max_bytes=10_000).body == text


def test_gzip_bomb_hits_the_cap(server: Site, client: httpx.Client, bomb: bytes) -> None:
    server.routes["/bomb"] = Reply(200, bomb, {"Content-Encoding": "gzip"})
    assert len(bomb) < 100_000  # the declared length is small: only the decoded size can catch it
    with pytest.raises(TooLargeError):
        fetch(client, server.base + "/bomb", max_bytes=1_000_000)


def test_gzip_bomb_is_not_inflated_in_memory(
    server: Site, client: httpx.Client, bomb: bytes
) -> None:
    server.routes["/bomb"] = Reply(200, bomb, {"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        with pytest.raises(TooLargeError):
            fetch(client, server.base + "/bomb", max_bytes=1_000_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000


def test_broken_gzip_is_a_fetch_error(server: Site, client: httpx.Client) -> None:
    server.routes["/z"] = Reply(200, b"this is not gzip at all", {"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="not valid compressed data"):
        fetch(client, server.base + "/z", max_bytes=10_000)


def test_redirect_is_followed(server: Site, client: httpx.Client) -> None:
    server.routes["/old"] = Reply(301, b"", {"Location": "/new"})
    server.routes["/new"] = Reply(200, b"moved here")
    got = fetch(client, server.base + "/old", max_bytes=10_000)
    assert (got.body, got.url) == (b"moved here", server.base + "/new")


def test_redirect_loop(server: Site, client: httpx.Client) -> None:
    server.routes["/a"] = Reply(302, b"", {"Location": "/b"})
    server.routes["/b"] = Reply(302, b"", {"Location": "/a"})
    with pytest.raises(FetchError, match="redirects"):
        fetch(client, server.base + "/a", max_bytes=10_000)
    assert server.hits["/a"] + server.hits["/b"] == 4  # the first request + max_redirects=3


def test_connection_refused(client: httpx.Client) -> None:
    with pytest.raises(FetchError, match=r"^fetch: cannot connect to http://127\.0\.0\.1:\d+/"):
        fetch(client, f"http://127.0.0.1:{closed_port()}/feed", max_bytes=10_000)


@pytest.fixture
def slow(server: Site) -> Iterator[str]:
    """A path that answers only after the client's 0.25 s read timeout."""
    release = threading.Event()

    def wait() -> Reply:
        release.wait(0.5)
        return Reply(200, b"too late")

    server.routes["/slow"] = wait
    yield "/slow"
    release.set()


def test_read_timeout(server: Site, client: httpx.Client, slow: str) -> None:
    with pytest.raises(FetchError, match="timeout") as info:
        fetch(client, server.base + slow, max_bytes=10_000)
    assert str(info.value).startswith("fetch: read timeout")


@pytest.mark.parametrize("case", ["404", "redirect-loop", "refused", "timeout", "too-large"])
def test_credentials_and_query_never_in_messages(
    server: Site, client: httpx.Client, slow: str, case: str
) -> None:
    server.routes["/loop"] = Reply(302, b"", {"Location": "/loop"})
    server.routes["/big"] = Reply(200, b"x" * 20_000)
    port = closed_port() if case == "refused" else server.base.rsplit(":", 1)[1]
    path = {
        "404": "/missing",
        "redirect-loop": "/loop",
        "refused": "/x",
        "timeout": slow,
        "too-large": "/big",
    }[case]
    with pytest.raises(FetchError) as info:
        fetch(client, f"http://user:secret@127.0.0.1:{port}{path}?token=abc#frag", max_bytes=10_000)
    message = str(info.value) + " " + info.value.hint
    assert f"127.0.0.1:{port}{path}" in message
    for leak in ("secret", "user", "token", "abc", "frag"):
        assert leak not in message
