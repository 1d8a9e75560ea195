"""trafilatura behind one module: HTML -> main text and metadata.

trafilatura is imported on first use: a daemon with worker processes (monitor.pipeline.pool)
never needs it itself, and a worker that only parses feeds starts sooner without it."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from monitor.errors import ExtractError
from monitor.extract.markup import html_text
from monitor.fetch import charset

__all__ = ["PageText", "extract_page", "html_to_text"]

_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")  # PostgreSQL refuses NUL
_LANG = re.compile(rb"<html[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)


@dataclass(frozen=True)
class PageText:
    title: str
    text: str
    language: str | None
    sitename: str | None
    published: datetime | None
    canonical_url: str | None
    encoding: str = ""  # the encoding the page was read in, and why (monitor.fetch.charset)


# htmldate's extensive search reads the page's free text with dateparser: in a worker,
# a few words that look like a date ("Report 1995-50") load its locale tables, 35 MB
# and 2 s, and each page then costs 2 ms more. Without it, the date still comes from
# the page's metadata, <time> elements and URL, and the feed's own date comes first.
_DATES = {"original_date": True, "extensive_search": False}


def extract_page(page: bytes, *, url: str, content_type: str = "") -> PageText:
    """Main text of an article page, comments and page chrome left out."""
    import trafilatura  # see the module's docstring

    decoded = charset.decode(page, content_type, is_html=True)
    try:
        doc: Any = trafilatura.bare_extraction(
            decoded.text,
            url=url,
            include_comments=False,
            include_tables=True,
            with_metadata=True,
            deduplicate=False,
            date_extraction_params=_DATES,
        )
    except Exception as exc:  # trafilatura raises from deep in lxml on broken input
        raise ExtractError(f"cannot extract {url}: {type(exc).__name__}") from None
    if doc is None:
        raise ExtractError(f"no main text found on {url}")
    data: dict[str, Any] = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    text = _UNSAFE.sub("", str(data.get("text") or "")).strip()
    if not text:
        raise ExtractError(f"no main text found on {url}")
    match = _LANG.search(page[:4096])
    return PageText(
        title=_UNSAFE.sub("", str(data.get("title") or "")).strip()[:1000],
        text=text,
        language=(data.get("language") or (match.group(1).decode().lower() if match else None)),
        sitename=_UNSAFE.sub("", str(data.get("sitename") or ""))[:200] or None,
        published=_date(data.get("date")),
        canonical_url=data.get("url") or None,
        encoding=str(decoded),
    )


def html_to_text(fragment: str) -> str:
    """Plain text of a feed summary, which may be HTML or already text."""
    if "<" not in fragment:
        return " ".join(html.unescape(fragment).split())
    text = html_text(fragment)
    if text is None:
        return " ".join(re.sub(r"<[^>]*>", " ", fragment).split())
    return "\n".join(" ".join(line.split()) for line in text.splitlines()).strip()


def _date(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
