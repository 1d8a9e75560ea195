"""lxml behind one module: a feed read strictly as XML, and the text of an HTML fragment.

``prune`` reads a document strictly (no entities, no DTD, no network) and removes the
elements a caller does not want, each judged by its serialized bytes
(monitor.sources.known keeps a digest of each feed item that way). ``html_text`` reads a
feed summary's HTML leniently, as a browser would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import lxml.html
from lxml import etree

__all__ = ["Pruned", "html_text", "prune"]

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
