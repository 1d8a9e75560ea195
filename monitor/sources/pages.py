"""An HTML section or front page as a source: the links that lead to articles.

A link becomes an entry when it stays on the page's site, passes courlan's filters
(``check_url`` in strict mode: no navigation, tag, category, author, pagination, login,
legal or feed pages, no files; ``is_not_crawlable``, ``is_navigation_page``), has a path
shaped like an article's (``_is_article_path``: a slug of words, or a long number), is
not inside the page's navigation, header, footer or menus, and carries some text.
Its anchor text (the longest, when several anchors lead to it) is the entry's title.

Entries come in page order, which is the order of prominence; the pipeline caps how
many new links one poll may take (``[defaults] max_new_links``). Each link is known by
a digest (monitor.sources.sitemaps.url_digest): with ``known``, the links the last poll
read are left out.

courlan is imported on first use, like trafilatura (monitor.extract.article): a worker
that only reads feeds starts sooner without it.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from monitor.errors import ParseError
from monitor.extract.markup import Anchor, page_anchors
from monitor.fetch import charset
from monitor.model import Entry
from monitor.sources.entries import MAX_TITLE, bounded_key, clean_text, http_link, shown_url
from monitor.sources.feeds import ParsedFeed
from monitor.sources.sitemaps import known_digests, url_digest

__all__ = ["article_links", "parse_page"]

_MIN_TITLE = 12  # characters of anchor text: "More", "Video", "1" are not headlines
_SKIPPED_TAGS = {"nav", "footer", "menu", "form", "select"}
_SKIPPED_ROLES = {"navigation", "banner", "contentinfo", "menu", "menubar", "search"}
_SKIPPED_NAMES = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navigation|menu|footer|breadcrumbs?|pagination|pager|"
    r"share|sharing|social|skip|sitemap|subnav|topnav|masthead)(?:$|[\s_-])",
    re.IGNORECASE,
)
_NOT_ARTICLES = re.compile(
    r"/(?:tags?|topics?|authors?|category|categories|section|sections|page|search|login|"
    r"signin|sign-in|register|subscribe|subscription|account|privacy|terms|cookies?|"
    r"about|about-us|contact|contact-us|impressum|imprint|legal|feed|rss|newsletters?|"
    r"profiles?|people|help|faq|jobs|careers|advertis\w*|shop|store|series|shows)(?:/|$|\.)",
    re.IGNORECASE,
)
_SLUG = re.compile(r"[^\W\d_]{2,}(?:[-_][^\W_]+){2,}")  # three words or more: a headline's slug
_NUMBER = re.compile(r"\d{5,}")  # an article id
_DATED = re.compile(r"/(?:19|20)\d\d/[01]?\d/")  # /2024/05/ in the path


def parse_page(
    body: bytes,
    *,
    url: str,
    content_type: str = "",
    max_entries: int | None = None,
    known: bytes | None = None,
) -> ParsedFeed:
    """The page's title and the links to its articles, in page order."""
    shown = shown_url(url)
    decoded = charset.decode(body, content_type or "text/html")
    title, links = article_links(decoded.text, url, shown)
    if not links:
        raise ParseError(
            f"no article links were found in the page {shown}: the page layout may have "
            "changed, or it is not a section page",
            "open the page in a browser; a site with a feed or a news sitemap is better "
            "watched through those (set `kind` to force one)",
        )
    seen = known_digests(known) if known else set()
    digests = [url_digest(link) for link, _ in links]
    entries = [
        Entry(bounded_key("link:" + link), link, text, "", None)
        for (link, text), digest in zip(links, digests, strict=True)
        if digest not in seen
    ]
    if max_entries is not None:
        entries = entries[:max_entries]
    return ParsedFeed(
        title,
        entries,
        digests=b"".join(digests),
        items=len(links),
        encoding=decoded.encoding,
        encoding_reason=decoded.reason,
        kind="page",
    )


def article_links(html: str, url: str, shown: str = "") -> tuple[str, list[tuple[str, str]]]:
    """The page's title, and its article links with their anchor text, in page order."""
    try:
        page = page_anchors(html.encode("utf-8", "replace"))
    except ValueError as exc:
        raise ParseError(f"{shown or shown_url(url)} is not an HTML page: {exc}") from None
    base = urljoin(url, page.base) if page.base else url
    texts: dict[str, str] = {}
    forms: dict[str, str] = {}  # the first form of each link, with or without its last "/"
    for anchor in page.anchors:
        link = _article_url(urljoin(base, anchor.href), url)
        if link is None or _is_in_skipped(anchor):
            continue
        link = forms.setdefault(link.rstrip("/"), link)
        text = clean_text(anchor.text)[:MAX_TITLE]
        if len(text) > len(texts.get(link, "")) or link not in texts:
            texts[link] = text
    links = [(link, text) for link, text in texts.items() if len(text) >= _MIN_TITLE]
    return clean_text(page.title)[:MAX_TITLE], links


def _article_url(link: str, page: str) -> str | None:
    """``link`` normalised when it may lead to an article of ``page``'s site, else None.

    courlan's ``check_url`` steps, in strict mode, except that the host is checked
    without its port (``check_url`` refuses ``host:port``)."""
    from courlan import clean, filters, is_external

    link = link.split("#", 1)[0]
    if http_link(link) is None or not filters.basic_filter(link):
        return None
    if filters.is_not_crawlable(link) or filters.is_navigation_page(link):
        return None
    link = clean.scrub_url(link)
    if not filters.type_filter(link, strict=True):
        return None
    parts = urlsplit(link)
    if not parts.hostname or not filters.domain_filter(parts.hostname):
        return None
    if not filters.extension_filter(parts.path) or not filters.path_filter(parts.path, parts.query):
        return None
    link = clean.normalize_url(parts, strict=True)
    if is_external(link, page, ignore_suffix=True) or _NOT_ARTICLES.search(link):
        return None
    return link if _is_article_path(urlsplit(link).path) else None


def _is_article_path(path: str) -> bool:
    """A headline's slug, a long number or a dated path: what article addresses look like."""
    segments = [s for s in path.split("/") if s]
    if not segments:
        return False
    last = re.sub(r"\.(?:s?html?|php|aspx?|cms|stm)$", "", segments[-1], flags=re.IGNORECASE)
    return bool(_SLUG.search(last) or _NUMBER.search(path) or _DATED.search(path + "/"))


def _is_in_skipped(anchor: Anchor) -> bool:
    """Whether the anchor sits in navigation, a menu, the page header or footer."""
    is_in_article = any(tag == "article" for tag, _, _ in anchor.ancestors)
    for tag, role, names in anchor.ancestors:
        if tag in ("body", "html", "main", "article"):
            continue  # their classes describe the whole page ("site-navigation-variant")
        if tag in _SKIPPED_TAGS or (tag == "header" and not is_in_article):
            return True
        if role in _SKIPPED_ROLES or (names and _SKIPPED_NAMES.search(names)):
            return True
    return False
