"""OPML feed lists: read one (nested folders, titles, xmlUrl) and write OPML 2.0.

An OPML file comes from elsewhere, so it is read like a feed: the entity guard of
monitor/sources/xmlsafety.py first (no billion laughs, no external entities), then expat, which
reports a broken file by line and column. Every outline with an ``xmlUrl`` is a feed;
one without is a folder whose title the feeds inside keep as their folders.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from xml.parsers import expat

from monitor.config.urlcheck import url_problem
from monitor.errors import OpmlError
from monitor.sources.kinds import KINDS
from monitor.sources.xmlsafety import entity_problem

__all__ = [
    "KIND_ATTRIBUTE",
    "MAX_BYTES",
    "MAX_DEPTH",
    "OpmlFeed",
    "OpmlList",
    "read_opml",
    "write_opml",
]

KIND_ATTRIBUTE = "newsmonKind"  # a source's configured kind, kept across export and import

MAX_BYTES = 20_000_000
MAX_DEPTH = 64
_ENCODING_DECL = re.compile(r"^(<\?xml[^>]*?)\s+encoding\s*=\s*[\"'][^\"']*[\"']")


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    text: str | None  # the outline's label
    title: str | None
    folders: tuple[str, ...]
    line: int
    kind: str | None = None  # newsmon's own attribute, newsmonKind: feed, sitemap, page ...


@dataclass
class OpmlList:
    title: str | None = None
    feeds: list[OpmlFeed] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "line 12: ..." for skipped outlines


def _as_utf8(data: bytes) -> bytes:
    """UTF-16 files become UTF-8, so the entity guard can read their prolog."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise OpmlError(f"not valid UTF-16 at byte {exc.start}") from None
        return _ENCODING_DECL.sub(r"\1", text.lstrip("\ufeff")).encode("utf-8")
    return data


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.found = OpmlList()
        self.parser = expat.ParserCreate()
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.chars
        self.path: list[str] = []  # open elements
        self.folders: list[str | None] = []  # per open outline: its folder title, or None
        self.head_title: list[str] | None = None

    def where(self) -> str:
        return f"{self.source}:{self.parser.CurrentLineNumber}"

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if not self.path and name != "opml":
            raise OpmlError(
                f"{self.where()}: the root element is <{name}>, not <opml>",
                "is this a feed rather than a feed list? `newsmon feeds add URL` adds one feed",
            )
        self.path.append(name)
        if len(self.path) > MAX_DEPTH:
            raise OpmlError(f"{self.where()}: outlines nested deeper than {MAX_DEPTH} levels")
        if name == "title" and self.path[-2:-1] == ["head"]:
            self.head_title = []
        if name != "outline":
            return
        url = (attrs.get("xmlUrl") or attrs.get("xmlurl") or "").strip()
        text, title = attrs.get("text"), attrs.get("title")
        if not url:
            self.folders.append((title or text or "").strip() or None)
            return
        self.folders.append(None)
        line = self.parser.CurrentLineNumber
        problem = url_problem(url)
        if problem is not None:
            self.found.problems.append(f"line {line}: {problem}")
            return
        folders = tuple(f for f in self.folders[:-1] if f)
        kind = (attrs.get(KIND_ATTRIBUTE) or "").strip().lower() or None
        if kind is not None and kind not in KINDS:
            self.found.problems.append(f"line {line}: unknown {KIND_ATTRIBUTE} {kind[:20]!r}")
            kind = None
        self.found.feeds.append(OpmlFeed(url, text, title, folders, line, kind))

    def end(self, name: str) -> None:
        self.path.pop()
        if name == "outline":
            self.folders.pop()
        elif name == "title" and self.head_title is not None:
            self.found.title = " ".join("".join(self.head_title).split()) or None
            self.head_title = None

    def chars(self, data: str) -> None:
        if self.head_title is not None:
            self.head_title.append(data)


def read_opml(data: bytes, source: str = "OPML") -> OpmlList:
    """The feeds of an OPML file, in document order, with the outlines skipped and why.

    Raises OpmlError, naming ``source`` and the line (and column), for a file that is not
    usable at all: too large, not XML, not OPML, or with refused entity declarations."""
    if len(data) > MAX_BYTES:
        raise OpmlError(f"{source}: {len(data)} bytes, over the {MAX_BYTES}-byte limit")
    data = _as_utf8(data)
    problem = entity_problem(data)
    if problem is not None:
        raise OpmlError(f"{source}: refused: the file {problem}")
    reader = _Reader(source)
    try:
        reader.parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise OpmlError(
            f"{source}:{exc.lineno}:{exc.offset + 1}: not well-formed XML: "
            f"{expat.ErrorString(exc.code)}"
        ) from None
    return reader.found


def write_opml(
    feeds: Sequence[tuple[str, str, str | None, str | None]], title: str, now: datetime
) -> bytes:
    """OPML 2.0 for ``(name, url, title, kind)`` rows: ``text`` is the name, so the file
    imports back to the same names and URLs; a configured kind is kept in ``newsmonKind``."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now)
    body = ET.SubElement(root, "body")
    for name, url, feed_title, kind in feeds:
        outline = ET.SubElement(
            body, "outline", type="rss", text=name, title=feed_title or name, xmlUrl=url
        )
        if kind:
            outline.set(KIND_ATTRIBUTE, kind)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
