"""A feed's items, each known by a digest of its XML: the items that the last
poll already handled are not parsed again.

A news feed that changed has usually gained one entry, and still carries the forty-nine
it carried before (or only its <lastBuildDate> changed). feedparser spends nearly all of
its time on those. ``split`` reads the document strictly (monitor.extract.markup: no
entities, no DTD, no network), takes a digest of each item (RSS <item>, Atom <entry>)
as serialized, and removes the items whose digest the last poll recorded. What is left
is the same document, channel and all, holding only the new and edited items.

A document that cannot be read strictly (not well-formed, an entity, a DOCTYPE) gives
None: it is parsed whole, as before, and no digests are kept for it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from monitor.extract import markup

__all__ = ["DIGEST", "Split", "split"]

DIGEST = 8  # bytes of blake2b per item: ``digests`` is DIGEST x items long

_ITEMS = (
    "item",  # RSS 0.9x and 2.0
    "{http://purl.org/rss/1.0/}item",
    "{http://my.netscape.com/rdf/simple/0.9/}item",
    "{http://www.w3.org/2005/Atom}entry",
    "{http://purl.org/atom/ns#}entry",  # Atom 0.3
)


@dataclass(frozen=True)
class Split:
    document: bytes  # the document to parse: without the items already known
    digests: bytes  # of every item of the whole document, in order: the next ``known``
    items: int  # in the whole document
    kept: int  # in ``document``


def split(data: bytes, known: bytes | None) -> Split | None:
    """The document without the items whose digests are in ``known`` (None: keep all).

    ``data`` is UTF-8 (monitor.sources.feeds converts it first)."""
    seen = _chunks(known) if known else set()
    digests: list[bytes] = []

    def is_known(item: bytes) -> bool:
        digests.append(hashlib.blake2b(item, digest_size=DIGEST).digest())
        return digests[-1] in seen

    pruned = markup.prune(data, _ITEMS, is_known)
    if pruned is None:
        return None
    return Split(pruned.document, b"".join(digests), pruned.found, pruned.found - pruned.removed)


def _chunks(known: bytes) -> set[bytes]:
    return {known[i : i + DIGEST] for i in range(0, len(known) - DIGEST + 1, DIGEST)}
