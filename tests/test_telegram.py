"""The Telegram preview reader on a captured t.me/s/ page (tests/fixtures/telegram)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime

import pytest

from helpers.telegram_pages import CHANNEL, LINK_PREVIEW, NUMBERS, PAGE, ROUND_VIDEO, newest, view
from monitor.errors import LayoutError, ParseError
from monitor.extract.article import html_to_text
from monitor.model import Entry
from monitor.sources import telegram
from monitor.sources.feeds import ParsedFeed

URL = "http://127.0.0.1:8000/s/topwar_official"


def _times(page: bytes) -> dict[int, datetime]:
    """Each message's <time datetime>, read from the page with a regex, not the parser."""
    found: dict[int, datetime] = {}
    for block in page.split(b"data-post=")[1:]:
        number = int(re.match(rb'"[^/]+/(\d+)"', block).group(1))  # type: ignore[union-attr]
        stamp = re.search(rb'<time\s+datetime="([^"]+)"', block).group(1)  # type: ignore[union-attr]
        found[number] = datetime.fromisoformat(stamp.decode())
    return found


def test_each_message_with_text_is_an_entry_with_its_link_and_date() -> None:
    page = telegram.parse_preview(PAGE, url=URL, content_type="text/html; charset=utf-8")
    assert page.title == "Военное обозрение"
    assert page.items == len(NUMBERS) == len(page.entries)
    assert [e.link for e in page.entries] == [f"https://t.me/{CHANNEL}/{n}" for n in NUMBERS]
    times = _times(PAGE)
    assert [e.published for e in page.entries] == [times[n] for n in NUMBERS]
    assert telegram.oldest(page.entries) == min(NUMBERS)
    assert len({e.key for e in page.entries}) == len(NUMBERS)


def test_text_keeps_line_breaks_but_not_the_source_indentation() -> None:
    entry = telegram.parse_preview(PAGE, url=URL).entries[0]
    text = html_to_text(entry.summary)
    first, _, rest = text.partition("\n")
    # the source wraps the first sentence over two lines: one line in the text
    assert first == entry.title
    assert "Пулково не принимает самолеты" in first
    assert rest.startswith("Судя по сервису Flightradar")


def test_album_text_in_nested_blocks_is_read_once() -> None:
    entries = {e.link: e for e in telegram.parse_preview(PAGE, url=URL).entries}
    text = html_to_text(entries[f"https://t.me/{CHANNEL}/70992"].summary)
    assert text.count("Сегодня ночью в Республике Адыгея") == 1


def test_forwarded_message_names_its_origin_and_links_are_resolved() -> None:
    entries = {e.link: e for e in telegram.parse_preview(PAGE, url=URL).entries}
    entry = entries[f"https://t.me/{CHANNEL}/70996"]
    text = html_to_text(entry.summary)
    assert text.startswith("Forwarded from Военкор Ярем (https://t.me/yaremshooter/1066)\n")
    assert not entry.title.startswith("Forwarded")
    # the words "180 метров" link to another channel's message: its address follows them
    assert "180 метров (https://t.me/infantmilitario/93419)" in text
    forwarded = [e for e in entries.values() if "Forwarded from" in e.summary]
    assert len(forwarded) == PAGE.count(b"tgme_widget_message_forwarded_from_name")


def test_long_first_line_is_cut_for_the_title() -> None:
    entries = {e.link: e for e in telegram.parse_preview(PAGE, url=URL).entries}
    entry = entries[f"https://t.me/{CHANNEL}/71007"]
    assert entry.title.endswith("…")
    assert len(entry.title) <= 201
    assert html_to_text(entry.summary).split("\n")[1].startswith(entry.title[:-1])


def test_media_only_message_is_skipped_and_counted() -> None:
    body = view(lambda n: True, insert={70990: ROUND_VIDEO})
    page = telegram.parse_preview(body, url=URL)
    assert page.items == len(NUMBERS) + 1
    assert page.dropped == 1
    assert all("bolshiepushki" not in (e.link or "") for e in page.entries)
    assert len(page.entries) == len(NUMBERS)


def test_empty_channel_is_no_error() -> None:
    page = telegram.parse_preview(view(lambda n: False), url=URL)
    assert (page.entries, page.items, page.dropped) == ([], 0, 0)


@pytest.mark.parametrize(
    "body",
    [
        PAGE.replace(b"tgme_widget_message", b"tgme_post"),
        PAGE.replace(b"data-post=", b"data-item="),
        PAGE.replace(b"tgme_channel_history", b"tgme_history").replace(
            b"tgme_widget_message", b"tgme_post"
        ),
    ],
    ids=["classes-renamed", "data-post-renamed", "no-history-section"],
)
def test_a_layout_newsmon_does_not_know_raises_layout_error(body: bytes) -> None:
    with pytest.raises(LayoutError) as caught:
        telegram.parse_preview(body, url=URL)
    assert "no messages found in a Telegram preview page" in str(caught.value)
    assert "layout" in caught.value.hint


def test_a_feed_read_as_a_channel_says_its_layout_is_unknown() -> None:
    """An RSS body (with its XML declaration) where a preview was expected: no lxml
    complaint about encoding declarations, but the layout error that health reports."""
    body = b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title>'
    body += b"<item><title>a</title><link>http://127.0.0.1/a</link></item></channel></rss>"
    with pytest.raises(LayoutError) as caught:
        telegram.parse_preview(body, url=URL)
    assert "encoding declaration" not in str(caught.value)


def test_a_page_without_preview_says_so() -> None:
    head = PAGE[: PAGE.index(b"<body")]
    body = head + b'<body><div class="tgme_page"><div class="tgme_page_title">x</div></div></body>'
    with pytest.raises(ParseError) as caught:
        telegram.parse_preview(body, url=URL)
    assert not isinstance(caught.value, LayoutError)
    assert "private" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://t.me/s/MID_Russia", "MID_Russia"),
        ("https://t.me/MID_Russia", "MID_Russia"),
        ("https://t.me/MID_Russia/12345", "MID_Russia"),
        ("http://telegram.me/s/durov?before=10", "durov"),
        ("https://t.me/joinchat/AAAAAE", None),
        ("https://t.me/+AbCdEf", None),
        ("https://t.me/s/", None),
        ("https://example.com/s/MID_Russia", None),
        ("tg://resolve?domain=durov", None),
    ],
)
def test_channel_of(url: str, name: str | None) -> None:
    assert telegram.channel_of(url) == name


def test_older_url_replaces_before() -> None:
    assert telegram.older_url(URL, 70989) == URL + "?before=70989"
    assert telegram.older_url(URL + "?before=71009", 10) == URL + "?before=10"


def _known(numbers: set[int]) -> Callable[[Sequence[Entry]], bool]:
    def reaches_known(entries: Sequence[Entry]) -> bool:
        return any(int((e.link or "0").rsplit("/", 1)[1]) in numbers for e in entries)

    return reaches_known


def _load(url: str) -> ParsedFeed:
    before = int(url.rsplit("before=", 1)[1])
    return telegram.parse_preview(newest(4, before=before), url=url)


def _numbers(entries: Sequence[Entry]) -> list[int]:
    return [int((e.link or "").rsplit("/", 1)[1]) for e in entries]


def test_gather_pages_back_to_a_known_message() -> None:
    first = telegram.parse_preview(newest(4), url=URL)
    got = telegram.gather(first, url=URL, load=_load, reaches_known=_known({70990}), max_pages=5)
    numbers = _numbers(got.parsed.entries)
    assert numbers == sorted(numbers)
    assert numbers[0] <= 70990 and numbers[-1] == NUMBERS[-1]
    assert set(numbers) == {n for n in NUMBERS if n >= numbers[0]}
    assert got.pages == 3 and not got.is_gap
    assert got.parsed.items == 12


def test_gather_stops_at_max_pages_and_says_so() -> None:
    first = telegram.parse_preview(newest(2), url=URL)
    got = telegram.gather(first, url=URL, load=_load, reaches_known=_known({70989}), max_pages=2)
    assert got.pages == 2 and got.is_gap
    assert _numbers(got.parsed.entries) == NUMBERS[-6:]


def test_gather_reads_one_page_when_it_holds_a_known_message() -> None:
    first = telegram.parse_preview(PAGE, url=URL)
    asked: list[str] = []

    def load(url: str) -> ParsedFeed:
        asked.append(url)
        return _load(url)

    got = telegram.gather(first, url=URL, load=load, reaches_known=_known({71000}), max_pages=5)
    assert asked == [] and got.pages == 1 and not got.is_gap


def test_gather_stops_at_the_first_message() -> None:
    first = telegram.parse_preview(newest(4), url=URL)
    got = telegram.gather(first, url=URL, load=_load, reaches_known=_known(set()), max_pages=9)
    assert _numbers(got.parsed.entries) == NUMBERS
    assert got.pages == 4 and not got.is_gap  # the fourth page brought nothing older


def test_a_link_message_shows_its_full_address() -> None:
    page = telegram.parse_preview(view(lambda n: n == 70989, insert={70989: LINK_PREVIEW}), url=URL)
    entry = page.entries[-1]
    assert entry.link == "https://t.me/oper_goblin/22360"
    # the text is the link; the preview of the linked article under it is not the text
    assert html_to_text(entry.summary) == "https://vnnews.ru/georgiy-zotov-okkupaciya-volosatym-kr/"
    assert 'href="https://vnnews.ru/georgiy-zotov-okkupaciya-volosatym-kr/"' in entry.summary
