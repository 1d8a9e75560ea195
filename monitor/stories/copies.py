"""Content identity: which stored article tells the same story, and what changed in an edit.

A story is a group of articles: syndicated copies under other headlines and site
templates, re-posts wrapped in boilerplate, AMP and tracking variants, later edits.

* ``fingerprint(text)`` casefolds the text (NFKC), splits it into words and hashes every
  run of ``SHINGLE`` words (a shingle); ``minhash.sketch_keys`` turns the shingles into
  the index keys that find candidates.
* ``is_same_story(a, b)`` checks a candidate exactly, on the shingles of both texts: the
  smaller text must be mostly inside the larger one (``CONTAINMENT``), and so must each
  third of it (``PART``). Containment rather than Jaccard similarity, so a feed summary
  or clean extract still matches a page that carries menus, teasers and footers; the
  per-third rule, so two different articles that share a long site footer, a comment
  policy or an agency notice do not merge: their own leads do not match.
* Shingles shared with candidates of several different stories are boilerplate
  (``pick_story``): a site's comment policy or an agency notice stops counting once it
  has been seen on a few different stories.
* Texts shorter than ``MIN_SHINGLES`` shingles are never grouped by content (a headline
  alone says too little); the URL and the page's canonical link still group them.

docs/stories.md explains the choices and how they were measured.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
import zlib
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass

from monitor.stories.minhash import SHINGLE, shingle_hashes, sketch_keys

__all__ = [
    "BOILERPLATE_STORIES",
    "CONTAINMENT",
    "MIN_SHINGLES",
    "PART",
    "SHINGLE",
    "Fingerprint",
    "fingerprint",
    "is_same_story",
    "pick_story",
    "story_picker",
    "lead",
    "short_diff",
    "shingles",
]

MIN_SHINGLES = 20  # shorter texts are not grouped by content
CONTAINMENT = 0.6  # share of the smaller text's shingles found in the larger one
PART = 0.35  # ... and of each third of it
BOILERPLATE_STORIES = 3  # shingles shared with this many other stories are boilerplate
_PARTS = 3
_WORD = re.compile(r"\w+")
_LEAD_CHARS = 300
_LEAD_WORDS = 8  # shorter paragraphs are bylines, datelines, captions
_DIFF_CHARS = 400


@dataclass(frozen=True)
class Fingerprint:
    """A text's shingle hashes in text order, and its index keys."""

    shingles: tuple[int, ...]
    keys: tuple[int, ...]

    @property
    def is_groupable(self) -> bool:
        return len(self.shingles) >= MIN_SHINGLES


def shingles(text: str) -> list[int]:
    """32-bit hashes of every run of ``SHINGLE`` words, in text order."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    if len(words) < SHINGLE:
        return [zlib.crc32(" ".join(words).encode())] if words else []
    return shingle_hashes([zlib.crc32(w.encode()) for w in words])


def fingerprint(text: str) -> Fingerprint:
    found = shingles(text)
    keys = sketch_keys(sorted(set(found))) if len(found) >= MIN_SHINGLES else []
    return Fingerprint(tuple(found), tuple(keys))


def is_same_story(a: Sequence[int], b: Sequence[int], ignore: Set[int] = frozenset()) -> bool:
    """Whether two shingle sequences tell the same story (see the module docstring).

    Shingles in ``ignore`` (boilerplate) count for neither text; repeats count once.
    """
    first = [h for h in dict.fromkeys(a) if h not in ignore]
    second = [h for h in dict.fromkeys(b) if h not in ignore]
    if len(first) < MIN_SHINGLES or len(second) < MIN_SHINGLES:
        return False
    small, large = (first, set(second)) if len(first) <= len(second) else (second, set(first))
    if sum(h in large for h in small) < CONTAINMENT * len(small):
        return False
    n = len(small)
    for i in range(_PARTS):
        part = small[i * n // _PARTS : (i + 1) * n // _PARTS]
        if sum(h in large for h in part) < PART * len(part):
            return False
    return True


def pick_story(mine: Sequence[int], candidates: Sequence[tuple[int, str]]) -> int | None:
    """The story of the first candidate (story id, text) that tells the same story.

    Shingles that the candidates of ``BOILERPLATE_STORIES`` or more different stories
    share with this text are a site's boilerplate (a comment policy, a newsletter box,
    an agency notice), not content: they are ignored.
    """
    own = set(mine)
    texts = [(story, shingles(text)) for story, text in candidates]
    seen_in: dict[int, set[int]] = {}
    for story, found in texts:
        for h in own.intersection(found):
            seen_in.setdefault(h, set()).add(story)
    ignore = {h for h, where in seen_in.items() if len(where) >= BOILERPLATE_STORIES}
    return next((story for story, found in texts if is_same_story(mine, found, ignore)), None)


def story_picker(mine: Sequence[int]) -> Callable[[Sequence[tuple[int, str]]], int | None]:
    """``pick_story`` for this text, as the store asks for it."""
    return lambda candidates: pick_story(mine, candidates)


def lead(text: str, title: str = "") -> str:
    """The opening of a text: its first real paragraph (not the headline repeated, not a
    byline or dateline), at most about 300 characters."""
    heading = " ".join(title.split()).casefold()
    paragraphs = (" ".join(p.split()) for p in text.split("\n"))
    first = next(
        (p for p in paragraphs if len(p.split()) >= _LEAD_WORDS and p.casefold() != heading),
        "",
    )
    if len(first) <= _LEAD_CHARS:
        return first
    return first[:_LEAD_CHARS].rsplit(" ", 1)[0] + " …"


def short_diff(old_title: str, old_text: str, new_title: str, new_text: str) -> str | None:
    """What changed in the headline or the lead, in a few lines; None when neither did."""
    lines = []
    if " ".join(old_title.split()) != " ".join(new_title.split()):
        lines.append(f"headline: {_words_diff(old_title, new_title)}")
    old_lead, new_lead = lead(old_text, old_title), lead(new_text, new_title)
    if old_lead != new_lead:
        lines.append(f"lead: {_words_diff(old_lead, new_lead)}")
    return "\n".join(lines)[:_DIFF_CHARS] if lines else None


def _words_diff(old: str, new: str) -> str:
    """``… 3 arrested → 4 arrests …``: the changed words with a little context."""
    a, b = old.split(), new.split()
    parts = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        before = " ".join(a[max(0, i1 - 2) : i1])
        removed, added = " ".join(a[i1:i2]) or "∅", " ".join(b[j1:j2]) or "∅"
        after = " ".join(a[i2 : i2 + 2])
        parts.append(f"… {before} [{removed} → {added}] {after} …".replace("  ", " "))
    return " ".join(parts[:3]) + (" …" if len(parts) > 3 else "")
