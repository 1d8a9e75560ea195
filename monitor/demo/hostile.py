"""Hostile feeds and pages, as a local server can serve them: the cases newsmon must
survive. Shared by the tests (tests/test_hostile.py) and the benchmark that reports the
memory each one costs (bench/hostile.py).

Each case is a Reply for a feed URL and what polling it must end in: ``ok`` (the feed is
read, maybe with some entries dropped or cleaned) or ``error`` with words the recorded
error contains.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import repeat

from monitor.demo.server import Reply

__all__ = ["CASES", "PAGE_CASES", "Case", "rss"]

XML = {"Content-Type": "application/rss+xml; charset=utf-8"}


@dataclass(frozen=True)
class Case:
    name: str
    reply: Callable[[str], Reply]  # the server's base URL -> the answer
    outcome: str  # "ok" or "error"
    words: tuple[str, ...] = ()  # in the recorded error (or, for "ok", nothing)
    note: str = ""


def rss(
    items: str, *, head: str = '<?xml version="1.0" encoding="utf-8"?>', doctype: str = ""
) -> bytes:
    return (
        f"{head}\n{doctype}\n"
        f'<rss version="2.0"><channel><title>Hostile</title>{items}</channel></rss>'
    ).encode()


def item(n: int, title: str = "NATO item", extra: str = "") -> str:
    return (
        f"<item><title>{title} {n}</title><guid>h-{n}</guid>"
        f"<description>NATO summary {n}</description>{extra}</item>"
    )


def _laughs(_: str) -> Reply:
    decl = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">\n' for i in range(1, 10))
    body = rss(item(1, "&l9;"), doctype=f'<!DOCTYPE rss [\n<!ENTITY l0 "lol">\n{decl}]>')
    return Reply(200, body, XML)


def _quadratic(_: str) -> Reply:
    """100 KB entity referenced 1,000 times: 100 million characters if expanded."""
    doctype = f'<!DOCTYPE rss [\n<!ENTITY a "{"A" * 100_000}">\n]>'
    return Reply(200, rss(item(1, "&a;" * 1000), doctype=doctype), XML)


def _external(base: str) -> Reply:
    doctype = (
        f'<!DOCTYPE rss [\n<!ENTITY file SYSTEM "file:///etc/passwd">\n'
        f'<!ENTITY web SYSTEM "{base}/secret">\n]>'
    )
    return Reply(200, rss(item(1, "&file; &web;"), doctype=doctype), XML)


def _gzip_bomb(_: str) -> Reply:
    return Reply(200, gzip.compress(bytes(60_000_000), 9), {**XML, "Content-Encoding": "gzip"})


def _deflate_bomb(_: str) -> Reply:
    return Reply(200, zlib.compress(bytes(60_000_000), 9), {**XML, "Content-Encoding": "deflate"})


def _endless(_: str) -> Reply:
    chunks: Iterator[bytes] = repeat(b"<item>" * 10_000, 20_000)  # 1.2 GB if read to the end
    return Reply(200, headers=XML, chunks=chunks)


def _drip(_: str) -> Reply:
    return Reply(200, headers=XML, chunks=repeat(b" ", 600), delay=0.1)  # 60 s, a byte at a time


def _huge(_: str) -> Reply:
    return Reply(200, rss(item(1) * 1) + b" " * 8_000_000, XML)


def _loop(_: str) -> Reply:
    return Reply(302, b"", {"Location": "?again"})  # the same path, for ever


def _to_private(_: str) -> Reply:
    return Reply(302, b"", {"Location": "http://127.0.0.2:9/admin"})


def _png(_: str) -> Reply:
    return Reply(200, b"\x89PNG\r\n\x1a\n" + bytes(5000), {"Content-Type": "image/png"})


def _html(_: str) -> Reply:
    return Reply(
        200, b"<!doctype html><title>Home</title><p>Welcome", {"Content-Type": "text/html"}
    )


def _broken_encoding(_: str) -> Reply:
    """Declared UTF-8, written in windows-1251."""
    return Reply(200, rss(item(1, "Рябков и НАТО")).decode().encode("cp1251"), XML)


def _undeclared_utf16(_: str) -> Reply:
    body = rss(item(1, "Рябков и НАТО"), head="").decode().encode("utf-16")  # BOM, no declaration
    return Reply(200, body, {"Content-Type": "application/rss+xml"})


def _undeclared(codec: str) -> Callable[[str], Reply]:
    """500 Russian items in a code page, no charset in the header or the declaration:
    what the detector costs on a body of about 200 KB (none of them alerts)."""

    def reply(_: str) -> Reply:
        items = "".join(
            f"<item><title>Рябков: Москва готова к диалогу {n}</title><guid>u-{n}</guid>"
            "<description>Замминистра иностранных дел заявил, что Москва готова к "
            "диалогу по стратегической стабильности.</description></item>"
            for n in range(500)
        )
        body = rss(items, head='<?xml version="1.0"?>').decode().encode(codec)
        return Reply(200, body, {"Content-Type": "application/rss+xml"})

    return reply


def _nul(base: str) -> Reply:
    extra = f"<link>{base}/a\x00b</link>"
    body = rss(item(1, "NUL\x00in title &#0; &#xD800; \x07bell", extra))
    return Reply(200, body, XML)


def _dates(_: str) -> Reply:
    dates = [
        "Feb 31 2026 99:99",
        "Tue, 03 Nov 99999 10:00:00 GMT",
        "0000-00-00T00:00:00Z",
        "yesterday",
    ]
    items = "".join(item(n, extra=f"<pubDate>{d}</pubDate>") for n, d in enumerate(dates))
    return Reply(200, rss(items), XML)


def _bare(_: str) -> Reply:
    items = (
        "<item><description>NATO: no title, no link, no guid</description></item>"
        "<item><title>NATO with a script link</title><link>javascript:alert(1)</link></item>"
        "<item></item>"
        "<item><guid>only-a-guid</guid></item>"
    )
    return Reply(200, rss(items), XML)


def _many(base: str) -> Reply:
    items = "".join(
        f"<item><title>Entry {n}</title><guid>m-{n}</guid><link>{base}/a/{n}</link>"
        f"<pubDate>Tue, 03 Nov 2026 {n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d} GMT"
        f"</pubDate></item>"
        for n in range(10_000)
    )
    return Reply(200, rss(items), XML)


CASES = [
    Case("billion-laughs", _laughs, "error", ("billion laughs",)),
    Case("quadratic-entity", _quadratic, "error", ("100000-byte value",)),
    Case("external-entity", _external, "error", ("external entity",)),
    Case("gzip-bomb", _gzip_bomb, "error", ("larger than max_bytes",)),
    Case("deflate-bomb", _deflate_bomb, "error", ("larger than max_bytes",)),
    Case("endless", _endless, "error", ("larger than max_bytes",)),
    Case("slow-drip", _drip, "error", ("deadline", "slow or endless")),
    Case("huge-declared", _huge, "error", ("declares", "max_bytes")),
    Case("redirect-loop", _loop, "error", ("too many redirects",)),
    Case("redirect-to-private", _to_private, "error", ("refused", "127.0.0.2", "loopback")),
    Case("wrong-content-type", _png, "error", ("image/png", "not a feed")),
    Case("html-not-a-feed", _html, "error", ("not an RSS or Atom feed",)),
    Case("broken-encoding", _broken_encoding, "ok", note="declared UTF-8, sent windows-1251"),
    Case("undeclared-utf16", _undeclared_utf16, "ok", note="UTF-16 with a BOM, no declaration"),
    Case("undeclared-windows-1251", _undeclared("cp1251"), "ok", note="no charset anywhere"),
    Case("undeclared-koi8-r", _undeclared("koi8_r"), "ok", note="no charset anywhere"),
    Case("nul-bytes", _nul, "ok", note="NUL, bell and forbidden references dropped"),
    Case("invalid-dates", _dates, "ok", note="dates that cannot be read are left empty"),
    Case("no-links-no-titles", _bare, "ok", note="empty entries skipped, javascript: dropped"),
    Case("ten-thousand-entries", _many, "ok", note="the newest max_entries kept"),
]


def _page_bomb(_: str) -> Reply:
    return Reply(
        200,
        gzip.compress(bytes(60_000_000), 9),
        {"Content-Type": "text/html", "Content-Encoding": "gzip"},
    )


def _page_pdf(_: str) -> Reply:
    return Reply(200, b"%PDF-1.7\n" + bytes(3000), {"Content-Type": "application/pdf"})


PAGE_CASES = [
    Case("page-gzip-bomb", _page_bomb, "summary", ("larger than max_bytes",)),
    Case("page-slow-drip", _drip, "summary", ("deadline",)),
    Case("page-redirect-to-private", _to_private, "summary", ("refused", "127.0.0.2")),
    Case("page-pdf", _page_pdf, "summary", ("application/pdf",)),
    Case("page-redirect-loop", _loop, "summary", ("too many redirects",)),
]
