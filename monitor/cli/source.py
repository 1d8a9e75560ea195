"""One article for a dry run: from a URL (through monitor.fetch.client), a file or stdin."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from monitor.config.settings import Settings
from monitor.errors import ConfigError, FetchError
from monitor.extract.article import extract_page
from monitor.extract.language import with_language
from monitor.fetch.client import PAGE_ACCEPT, fetch, make_client
from monitor.model import Article, TextSource

__all__ = ["read_article_source"]

_HTML = re.compile(rb"^\s*(?:<!doctype\s+html|<html|<head|<body|<p[\s>]|<div|<article)", re.I)


def read_article_source(settings: Settings, source: str, title: str | None) -> tuple[Article, str]:
    """(the article, where it came from) for a URL, a file path or ``-``."""
    body, content_type, where = _read_source(settings, source)
    return with_language(_article(body, content_type, where, title)), where


def _read_source(settings: Settings, source: str) -> tuple[bytes, str, str]:
    """(body, content type, URL or path) of a URL, a file or ``-`` (standard input)."""
    if re.match(r"^https?://", source):
        try:
            with make_client(settings.http) as client:
                page = fetch(client, source, max_bytes=settings.http.max_bytes, accept=PAGE_ACCEPT)
        except FetchError as exc:
            if exc.hint == type(exc).default_hint and "newsmon" in exc.hint:  # retries, waits
                exc.hint = (
                    "a dry run fetches once and does not retry: check the URL in a browser, "
                    "or save the page and give its file"
                )
            raise
        return page.body, page.content_type, page.url
    if source == "-":
        return sys.stdin.buffer.read(), "", "-"
    path = Path(source)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read {source}: {exc.strerror}", "give a URL, a file path or - for stdin"
        ) from None
    is_html = path.suffix.lower() in (".html", ".htm", ".xhtml")
    return body, "text/html" if is_html else "", str(path)


def _article(body: bytes, content_type: str, where: str, title: str | None) -> Article:
    if "html" in content_type or _HTML.match(body[:2048]):
        page = extract_page(body, url=where if "://" in where else "file:" + where)
        return Article(
            url=where if "://" in where else None,
            title=title if title is not None else page.title,
            text=page.text,
            text_source=TextSource.PAGE,
            language=page.language,
            sitename=page.sitename,
        )
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff")
    head, sep, rest = text.partition("\n\n")
    if title is None and sep and "\n" not in head.strip() and len(head) < 300:
        title, text = head.strip(), rest  # a headline, a blank line, then the body
    return Article(
        url=where if "://" in where else None,
        title=title or "",
        text=text.strip(),
        text_source=TextSource.PAGE,
    )
