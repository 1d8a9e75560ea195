"""Telegram channels through their public web preview, ``https://t.me/s/CHANNEL``.

The preview is an HTML page of the channel's latest messages (about twenty), oldest
first, with a "more" link to ``?before=ID`` for older ones. Each message with text
becomes an entry:

- link ``https://t.me/CHANNEL/ID``, from the message's ``data-post``; date from its ``<time>``;
- summary: the message text as small HTML (line breaks as ``<br>``, links with their
  full target), which monitor.extract turns into text; a forwarded message names its
  origin first; the title is the text's first line;
- media-only messages (photos, videos, stickers, polls without text) and service
  messages are skipped and counted.

A page without the markup newsmon reads raises LayoutError, so that feed health shows
it instead of the channel going silent. Private channels, groups, comments and reactions
are not in the preview at all.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from monitor.errors import LayoutError, ParseError
from monitor.extract.markup import html_root
from monitor.fetch import charset
from monitor.model import Entry
from monitor.sources.feeds import ParsedFeed
from monitor.tme import HOSTS, channel_of

__all__ = [
    "Gathered",
    "channel_of",
    "first_link",
    "is_preview",
    "gather",
    "older_url",
    "oldest",
    "parse_preview",
    "preview_url",
]

_MAX_TITLE = 200
_UNSAFE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_POST = re.compile(r"^([A-Za-z][A-Za-z0-9_]{2,31})/(\d{1,12})$")
_NUMBER = re.compile(r"^https://t\.me/[A-Za-z0-9_]+/(\d+)$")
_MESSAGE = "//div[contains(concat(' ', normalize-space(@class), ' '), ' tgme_widget_message ')]"
_TEXT = (
    ".//div[contains(concat(' ', normalize-space(@class), ' '), ' tgme_widget_message_text ')]"
    "[not(ancestor::div[contains(concat(' ', normalize-space(@class), ' '),"
    " ' tgme_widget_message_text ')])]"
    "[not(ancestor::*[contains(@class, 'tgme_widget_message_reply')])]"
    "[not(ancestor::*[contains(@class, 'link_preview')])]"
)
_HISTORY = "//section[contains(@class, 'tgme_channel_history')]"
_NO_LAYOUT = "no messages found in a Telegram preview page: the page layout may have changed"


@dataclass(frozen=True)
class Gathered:
    """The pages of one poll, merged: entries oldest first, each once."""

    parsed: ParsedFeed
    pages: int  # pages read
    is_gap: bool  # paging stopped before reaching a known message: some may be missed


def preview_url(channel: str) -> str:
    return f"https://t.me/s/{channel}"


def older_url(url: str, before: int) -> str:
    """The page of the messages before ``before``: ``url`` with ``?before=``."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "before"]
    query.append(("before", str(before)))
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


def is_preview(body: bytes) -> bool:
    """An HTML page with the message history of a Telegram channel preview."""
    return b"tgme_channel_history" in body[:300_000]


def first_link(summary: str) -> str | None:
    """The first link of a message (its summary's first ``<a href>``) that leads out
    of Telegram, for ``follow_links``."""
    for href in re.findall(r'<a href="([^"]+)">', summary):
        target = html.unescape(href)
        host = (urlsplit(target).hostname or "").lower()
        if host not in HOSTS and not host.endswith(".telegram.org") and host != "telegram.org":
            return target
    return None


def parse_preview(
    body: bytes,
    *,
    url: str,
    content_type: str = "",
    max_entries: int | None = None,
    known: bytes | None = None,
) -> ParsedFeed:
    """The messages with text of one preview page, oldest first; ``items`` counts every
    message, ``dropped`` those without text. Raises LayoutError when none can be found.
    (``max_entries`` and ``known`` are for the readers' common signature: a page holds
    some twenty messages, and its view counters change on every poll.)"""
    decoded = charset.decode(body, content_type, is_html=True)
    try:
        root = html_root(decoded.text)
    except ValueError as exc:
        raise ParseError(f"{_shown(url)} is not an HTML page: {exc}") from None
    nodes = root.xpath(_MESSAGE)
    if not nodes:
        _check_empty(root, url)
    entries: list[Entry] = []
    for node in nodes:
        post = _POST.match(str(node.get("data-post") or "").strip())
        if post is None:
            raise LayoutError(f"{_shown(url)}: a message without a usable data-post; {_NO_LAYOUT}")
        entry = _entry(node, post.group(1), int(post.group(2)), url)
        if entry is not None:
            entries.append(entry)
    return ParsedFeed(
        title=_title(root),
        entries=entries,
        items=len(nodes),
        dropped=len(nodes) - len(entries),
        encoding=decoded.encoding,
        encoding_reason=decoded.reason,
        kind="telegram",
    )


def oldest(entries: Sequence[Entry]) -> int | None:
    """The number of the oldest message among ``entries`` (t.me/CHANNEL/NUMBER links)."""
    numbers = [int(m.group(1)) for e in entries if (m := _NUMBER.search(e.link or ""))]
    return min(numbers) if numbers else None


def gather(
    first: ParsedFeed,
    *,
    url: str,
    load: Callable[[str], ParsedFeed],
    reaches_known: Callable[[Sequence[Entry]], bool],
    max_pages: int,
) -> Gathered:
    """The first page, and older pages (``load(older_url(url, n))``) until one holds a
    message this source has seen (``reaches_known``), none are left, or ``max_pages``
    were read."""
    pages = [first]
    page = first
    while not reaches_known(page.entries):
        before = oldest(page.entries)
        if before is None or before <= 1:
            break  # the channel's first message, or a page of media only
        if len(pages) >= max_pages:
            return _merged(pages, is_gap=True)
        page = load(older_url(url, before))
        pages.append(page)
        if (oldest(page.entries) or before) >= before:
            break  # nothing older came back
    return _merged(pages, is_gap=False)


def _merged(pages: list[ParsedFeed], *, is_gap: bool) -> Gathered:
    seen: set[str] = set()
    entries: list[Entry] = []
    for page in reversed(pages):  # the oldest page first
        for entry in page.entries:
            if entry.key not in seen:
                seen.add(entry.key)
                entries.append(entry)
    merged = dataclasses.replace(
        pages[0],
        entries=entries,
        items=sum(p.items for p in pages),
        dropped=sum(p.dropped for p in pages),
    )
    return Gathered(merged, len(pages), is_gap)


def _check_empty(root: Any, url: str) -> None:
    """No message on the page: an empty channel is fine, anything else is not."""
    history = root.xpath(_HISTORY)
    if history:
        children = [c for c in history[0].iter() if "messages_more" not in str(c.get("class"))]
        if all(c.tag in ("section", "div") and not (c.text or "").strip() for c in children):
            return  # the channel has no messages yet
        raise LayoutError(f"{_shown(url)}: {_NO_LAYOUT}")
    if root.xpath("//*[contains(concat(' ', normalize-space(@class), ' '), ' tgme_page ')]"):
        raise ParseError(
            f"{_shown(url)} shows no message preview: the channel is private, is not a "
            "channel (a user, a bot or a group), or has disabled its preview",
            "only public channels have a web preview; check the name at https://t.me/s/NAME",
        )
    raise LayoutError(f"{_shown(url)}: {_NO_LAYOUT}")


def _entry(node: Any, channel: str, number: int, url: str) -> Entry | None:
    texts = node.xpath(_TEXT)
    if not texts:
        return None  # media only, a sticker, a poll, a service message
    body = _render(texts[0], url).strip()
    plain = _plain(body)
    if not plain:
        return None
    link = f"https://t.me/{channel}/{number}"
    origin = _origin(node, url)
    summary = f"{origin}<br>{body}" if origin else body
    return Entry(
        key=f"link:{link}",
        link=link,
        title=_first_line(plain),
        summary=_clean(summary),
        published=_date(node),
    )


def _render(node: Any, base: str) -> str:
    """A message's text as small, safe HTML: escaped text, ``<br>``, full link targets."""
    out: list[str] = [_space(node.text)]
    for child in node:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in ("script", "style", "template"):
            pass
        elif tag == "br":
            out.append("<br>")
        elif tag == "a":
            out.append(_link(child, base))
        elif tag:
            out.append(_render(child, base))
        out.append(_space(child.tail))
    return "".join(out)


def _link(anchor: Any, base: str) -> str:
    """A link as its full target when it shows a (shortened) address, else its text
    with the target after it; hashtags and @mentions stay plain text."""
    text = " ".join(anchor.text_content().split())
    href = str(anchor.get("href") or "").strip()
    target = urljoin(base, href) if href else ""
    if not target.startswith(("http://", "https://")) or href.startswith("?"):
        return html.escape(text)
    if text.startswith(("#", "@")) or channel_of(target) == text.lstrip("@"):
        return html.escape(text)
    shown = text.rstrip("…").rstrip(".")
    bare = re.sub(r"^https?://(www\.)?", "", target)
    is_address = bool(shown) and (
        bare.startswith(re.sub(r"^https?://(www\.)?", "", shown)) or shown == target
    )
    quoted = html.escape(target, quote=True)
    if is_address or not text:
        return f'<a href="{quoted}">{html.escape(target)}</a>'
    return f'<a href="{quoted}">{html.escape(text)}</a> ({html.escape(target)})'


def _origin(node: Any, base: str) -> str:
    """The line "Forwarded from NAME (link)" for a forwarded message."""
    found = node.xpath(".//*[contains(@class, 'tgme_widget_message_forwarded_from_name')]")
    if not found:
        found = node.xpath(".//*[contains(@class, 'tgme_widget_message_forwarded_from')]")
        if not found:
            return ""
        text = " ".join(found[0].text_content().split())
        return html.escape(text)
    name = " ".join(found[0].text_content().split())
    href = str(found[0].get("href") or "")
    target = urljoin(base, href) if href else ""
    if target.startswith(("http://", "https://")):
        return f"Forwarded from {html.escape(name)} ({html.escape(target)})"
    return f"Forwarded from {html.escape(name)}"


def _plain(fragment: str) -> str:
    lines = re.sub(r"<[^>]*>", "", fragment.replace("<br>", "\n"))
    return "\n".join(" ".join(html.unescape(line).split()) for line in lines.split("\n")).strip()


def _first_line(text: str) -> str:
    line = next((ln for ln in text.split("\n") if ln.strip()), "")
    if len(line) <= _MAX_TITLE:
        return line
    cut = line[:_MAX_TITLE].rsplit(" ", 1)[0] or line[:_MAX_TITLE]
    return cut.rstrip(" ,;:-") + "…"


def _date(node: Any) -> datetime | None:
    found = node.xpath(".//a[contains(@class, 'tgme_widget_message_date')]//time/@datetime")
    found = found or node.xpath(".//*[contains(@class, 'message_footer')]//time/@datetime")
    for value in found:
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _title(root: Any) -> str:
    found = root.xpath("//meta[@property='og:title']/@content")
    found = found or root.xpath("//*[contains(@class, 'tgme_channel_info_header_title')]//text()")
    return _clean(" ".join(" ".join(str(t) for t in found).split()))[:_MAX_TITLE]


def _space(text: str | None) -> str:
    """Text as HTML shows it: runs of white space (newlines too) are one space."""
    return html.escape(re.sub(r"\s+", " ", text)) if text else ""


def _clean(text: str) -> str:
    return _UNSAFE_TEXT.sub("", text)


def _shown(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    netloc = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname or ""
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
