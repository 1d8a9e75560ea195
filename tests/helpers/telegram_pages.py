"""Views of the captured Telegram preview (tests/fixtures/telegram): the same page with
whole message blocks kept or left out, as the channel looked earlier or as an older
page (``?before=N``) looks. The blocks themselves are served byte for byte."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram"
PAGE = (FIXTURES / "topwar_official.html").read_bytes()
ROUND_VIDEO = (FIXTURES / "round_video.html").read_bytes()  # media only: no text
LINK_PREVIEW = (FIXTURES / "link_preview.html").read_bytes()  # a link to an article
CHANNEL = "topwar_official"
NUMBERS = [int(n) for n in re.findall(rb'data-post="topwar_official/(\d+)"', PAGE)]
_WRAP = b'<div class="tgme_widget_message_wrap'


def _split(page: bytes) -> tuple[bytes, list[bytes], bytes]:
    """The page before the first message block, the blocks, and the rest."""
    start = page.index(_WRAP)
    end = page.index(b"</section>", start)
    cuts = [m.start() for m in re.finditer(re.escape(_WRAP), page[:end])] + [end]
    blocks = [page[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]
    return page[:start], blocks, page[end:]


def view(keep: Callable[[int], bool], *, insert: Mapping[int, bytes] | None = None) -> bytes:
    """The page with only the messages whose number ``keep`` accepts; ``insert``: blocks
    (ROUND_VIDEO, LINK_PREVIEW) placed after the message of that number."""
    head, blocks, tail = _split(PAGE)
    kept: list[bytes] = []
    for block in blocks:
        found = re.search(rb'data-post="[^"/]+/(\d+)"', block)
        assert found is not None
        number = int(found.group(1))
        if keep(number):
            kept.append(block)
        if insert and number in insert and keep(number):
            kept.append(insert[number] + b"\n")
    return head + b"".join(kept) + tail


def newest(
    count: int, *, before: int | None = None, insert: Mapping[int, bytes] | None = None
) -> bytes:
    """The page as t.me shows it: the ``count`` newest messages (before ``before``)."""
    numbers = [n for n in NUMBERS if before is None or n < before][-count:]
    return view(numbers.__contains__, insert=insert)
