"""lxml behind one module: a feed read strictly as XML, and the text of an HTML fragment;
a sitemap read safely (``xml_root``), and the anchors of an HTML page (``page_anchors``).

``prune`` reads a document strictly (no entities, no DTD, no network) and removes the
elements a caller does not want, each judged by its serialized bytes
(monitor.sources.known keeps a digest of each feed item that way). ``html_text`` reads a
feed summary's HTML leniently, as a browser would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import lxml.html
from lxml import etree

__all__ = [
    "Anchor",
    "Page",
    "Pruned",
    "html_root",
    "html_text",
    "page_anchors",
    "prune",
    "xml_root",
]

_BREAKS = ("br", "p", "li", "div")  # elements whose text starts on a new line


@dataclass(frozen=True)
class Pruned:
    document: bytes  # without the removed elements (as given when none was removed)
    found: int  # elements with one of the tags, in the whole document
    removed: int


def prune(data: bytes, tags: Sequence[str], is_removed: Callable[[bytes], bool]) -> Pruned | None:
    """``data`` without the elements named in ``tags`` for which ``is_removed`` (given each
    one serialized, in document order) says so; the root element is never removed.

    None when lxml cannot read the document strictly: not well-formed, an entity, a
    DOCTYPE."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, strip_cdata=False
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    tree = root.getroottree()
    if tree.docinfo.doctype or parser.error_log:
        return None
    found = removed = 0
    for element in list(root.iter(*tags)):
        found += 1
        parent = element.getparent()
        if is_removed(etree.tostring(element, with_tail=False)) and parent is not None:
            _remove(parent, element)
            removed += 1
    if removed:
        data = etree.tostring(tree, xml_declaration=True, encoding="utf-8")
    return Pruned(data, found, removed)


def _remove(parent: etree._Element, element: etree._Element) -> None:
    """Remove ``element`` but keep its tail text (in the parent's text, or the previous
    sibling's tail), so the text around it reads as before."""
    tail = element.tail
    previous = element.getprevious()
    parent.remove(element)
    if tail and tail.strip():
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


def html_text(fragment: str) -> str | None:
    """The text of an HTML fragment, a line starting at each <br>, <p>, <li> and <div>;
    None when lxml cannot read it."""
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return None
    for element in root.iter(*_BREAKS):
        element.tail = ("\n" + element.tail) if element.tail else "\n"
    text: str = root.text_content()
    return text


_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")


def html_root(text: str) -> Any:
    """The root element of an HTML document read leniently, as a browser would (for
    XPath over its elements: a Telegram preview, a site's page). Raises ValueError,
    saying why, when lxml cannot read it."""
    # lxml refuses a str that declares its encoding (XHTML pages, an XML body): the text
    # is decoded already, so the declaration goes
    text = _XML_DECLARATION.sub("", text, count=1)
    try:
        return lxml.html.document_fromstring(text or "<html></html>")
    except (etree.ParserError, ValueError) as exc:
        raise ValueError(str(exc) or "no HTML") from None


def xml_root(data: bytes) -> Any:
    """The root element of an XML document read safely (no entities, no DTD, no
    network) and leniently (a stray ``&`` costs the element, not the document); None
    when there is none. Raises ValueError, saying why, when lxml cannot read it at all."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, recover=True, huge_tree=False
    )
    try:
        return etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise ValueError(str(exc)) from None


@dataclass(frozen=True)
class Anchor:
    href: str  # as written
    text: str  # its text, else its title attribute, whitespace collapsed
    # its ancestors, nearest first: (tag, role, "class id")
    ancestors: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class Page:
    title: str
    base: str | None  # <base href>, as written
    anchors: list[Anchor]


def page_anchors(html: bytes) -> Page:
    """An HTML page's title, base and ``<a href>`` elements, in document order. Raises
    ValueError when lxml cannot read it."""
    try:
        doc = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise ValueError(str(exc) or "no HTML") from None
    base = next((b.get("href", "").strip() for b in doc.iterfind(".//base[@href]")), None)
    anchors = []
    for anchor in doc.iterfind(".//a[@href]"):
        text = " ".join(anchor.text_content().split())
        text = text or " ".join((anchor.get("title") or "").split())
        ancestors = tuple(
            (
                node.tag if isinstance(node.tag, str) else "",
                (node.get("role") or "").lower(),
                f"{node.get('class') or ''} {node.get('id') or ''}".strip(),
            )
            for node in anchor.iterancestors()
        )
        anchors.append(Anchor(anchor.get("href", "").strip(), text, ancestors))
    return Page(" ".join((doc.findtext(".//title") or "").split()), base, anchors)
