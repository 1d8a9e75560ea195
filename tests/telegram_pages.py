"""Views of the captured Telegram preview (tests/fixtures/telegram): the same page with
whole message blocks kept or left out, as the channel looked earlier or as an older
page (``?before=N``) looks. The blocks themselves are served byte for byte."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "telegram"
PAGE = (FIXTURES / "topwar_official.html").read_bytes()
ROUND_VIDEO = (FIXTURES / "round_video.html").read_bytes()
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


def view(keep: Callable[[int], bool], *, media_after: int | None = None) -> bytes:
    """The page with only the messages whose number ``keep`` accepts; with
    ``media_after``, the media-only round-video block placed after that message."""
    head, blocks, tail = _split(PAGE)
    kept: list[bytes] = []
    for block in blocks:
        found = re.search(rb'data-post="[^"/]+/(\d+)"', block)
        assert found is not None
        number = int(found.group(1))
        if keep(number):
            kept.append(block)
        if number == media_after:
            kept.append(ROUND_VIDEO + b"\n")
    return head + b"".join(kept) + tail


def newest(count: int, *, before: int | None = None, media_after: int | None = None) -> bytes:
    """The page as t.me shows it: the ``count`` newest messages (before ``before``)."""
    numbers = [n for n in NUMBERS if before is None or n < before][-count:]
    return view(numbers.__contains__, media_after=media_after)
