"""Small local HTTP servers on 127.0.0.1: a site that serves feeds and pages, and a
receiver that records what chat-style webhooks are sent. Used by the demo and the tests."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

__all__ = ["Receiver", "Reply", "Site"]

_TYPES = {
    ".xml": "application/xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}


@dataclass
class Reply:
    """An answer. With ``chunks`` the body is streamed, ``delay`` seconds apart, without a
    Content-Length, until the chunks run out or the client hangs up."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Iterable[bytes] | None = None
    delay: float = 0.0
    etag: bool = True  # False: no ETag, no 304, like servers without validators


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1") -> None:
        self.httpd = ThreadingHTTPServer((host, 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.base = f"http://{host}:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Site(_Server):
    """Serves files under ``root`` (``{base}`` replaced by this server's URL), plus
    ``routes`` that tests set: a path -> Reply, or a callable making one. Honours
    If-None-Match with 304, counts requests per path, and how many were in flight at
    once at most."""

    def __init__(self, root: Path | None = None, host: str = "127.0.0.1") -> None:
        super().__init__(_SiteHandler, host)
        self.root = root
        self.routes: dict[str, Reply | Callable[[], Reply]] = {}
        self.hits: dict[str, int] = {}
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()

    def reply_for(self, path: str) -> Reply:
        """The route for ``path`` with its query (``/s/x?before=5``), else for the path
        alone, else the file."""
        route = self.routes.get(path)
        path = path.split("?", 1)[0]
        route = route if route is not None else self.routes.get(path)
        if route is not None:
            return route() if callable(route) else route
        if self.root is None:
            return Reply(404, b"not found")
        file = (self.root / path.lstrip("/")).resolve()
        if not file.is_relative_to(self.root.resolve()) or not file.is_file():
            return Reply(404, b"not found")
        body = file.read_bytes().replace(b"{base}", self.base.encode())
        return Reply(
            200, body, {"Content-Type": _TYPES.get(file.suffix, "application/octet-stream")}
        )


class _SiteHandler(_Quiet):
    def do_GET(self) -> None:  # noqa: N802
        site: Site = self.server.owner  # type: ignore[attr-defined]
        path = self.path.split("?", 1)[0]
        with site.lock:
            site.hits[path] = site.hits.get(path, 0) + 1
            site.in_flight += 1
            site.most_in_flight = max(site.most_in_flight, site.in_flight)
        try:
            self._answer(site, self.path)
        finally:
            with site.lock:
                site.in_flight -= 1

    def _answer(self, site: Site, path: str) -> None:
        reply = site.reply_for(path)
        headers = dict(reply.headers)
        if not reply.etag:
            headers.pop("ETag", None)
        elif reply.status == 200 and "ETag" not in headers:
            headers["ETag"] = '"' + hashlib.sha256(reply.body).hexdigest()[:16] + '"'
        if (
            reply.etag
            and reply.status == 200
            and self.headers.get("If-None-Match") == headers.get("ETag")
        ):
            self.send_response(304)
            for key in ("ETag", "Cache-Control"):  # as a 304 must (RFC 9110, 15.4.5)
                if key in headers:
                    self.send_header(key, headers[key])
            self.end_headers()
            return
        self.send_response(reply.status)
        for key, value in headers.items():
            self.send_header(key, value)
        if reply.chunks is not None:
            self.end_headers()
            self._stream(reply.chunks, reply.delay)
            return
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self._stream([reply.body], 0.0)

    def _stream(self, chunks: Iterable[bytes], delay: float) -> None:
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
                self.wfile.flush()
                if delay:
                    time.sleep(delay)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should


class Receiver(_Server):
    """Records every POST (path, headers, body), as a chat webhook endpoint would.
    ``status`` sets the answer, so a test can make it refuse; ``delay`` makes it answer
    that many seconds after it recorded the message, like a slow service that still
    accepts what the client gave up waiting for. As an HTTPS proxy it records each
    tunnel asked for (``tunnels``) and refuses it with ``status``."""

    def __init__(self) -> None:
        super().__init__(_ReceiverHandler)
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.tunnels: list[str] = []
        self.status = 200
        self.delay = 0.0
        self.lock = threading.Lock()


class _ReceiverHandler(_Quiet):
    def do_POST(self) -> None:  # noqa: N802
        receiver: Receiver = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
        status = receiver.status
        if status < 300:
            with receiver.lock:
                receiver.received.append((self.path, dict(self.headers.items()), body))
        time.sleep(receiver.delay)
        self._answer(status)

    def do_CONNECT(self) -> None:  # noqa: N802
        receiver: Receiver = self.server.owner  # type: ignore[attr-defined]
        with receiver.lock:
            receiver.tunnels.append(self.path)
        self._answer(receiver.status)

    def _answer(self, status: int) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting
