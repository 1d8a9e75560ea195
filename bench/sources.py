"""What reading and polling a source of each kind costs: a feed, a news sitemap, a
large sitemap, a section page, a Telegram channel preview.

    .venv/bin/python bench/sources.py                     # the test fixtures
    .venv/bin/python bench/sources.py --urls 50000 --repeat 9
    .venv/bin/python bench/sources.py --sitemap my-sitemap.xml --page front.html --feed f.xml
    .venv/bin/python bench/sources.py --telegram preview.html   # a saved t.me/s/ page

Reading: the median time of ``monitor.sources.read.read_document`` (at the default
[defaults] max_entries = 500) over ``--repeat``
runs, on each document as it is (kind detected), and on a large sitemap of ``--urls``
URLs made from the news sitemap's own ``<url>`` structure (each copy with its own
address and date), once whole (a first poll) and once with every URL known but the
newest ten (a later poll: ``known`` digests leave the rest out).

Polling: each document served from 127.0.0.1 and polled through the whole pipeline
(``poll_once`` on a fresh SQLite database, [defaults] fetch_articles = false, so the
figures are the source's own cost, not its articles'): the first poll (fetch, read,
record the backlog), then a poll whose document changed by one new item, then an
unchanged poll (a 304). Median milliseconds over ``--repeat`` fresh databases, and the
bytes fetched per poll. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.config.settings import load  # noqa: E402
from monitor.demo.server import Reply, Site  # noqa: E402
from monitor.pipeline.assembly import close_context, open_context, poll_once  # noqa: E402
from monitor.sources.read import read_document  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "sources"
_URL = re.compile(rb"<url>.*?</url>", re.S)
MAX_ENTRIES = 500  # [defaults] max_entries: a sitemap yields its newest 500


def large_sitemap(news: bytes, count: int) -> bytes:
    """``count`` copies of the news sitemap's first <url>, each its own address and date."""
    found = _URL.search(news)
    if found is None:
        raise SystemExit("the --sitemap file has no <url> element to copy")
    item, start = found.group(0), datetime(2024, 1, 1, tzinfo=UTC)
    loc = re.compile(rb"<loc>([^<]*)</loc>")
    date = re.compile(rb"<(news:publication_date|lastmod)>[^<]*</")
    parts = []
    for i in range(count):
        when = (start + timedelta(minutes=i)).isoformat().encode()
        one = loc.sub(lambda m, i=i: b"<loc>" + m.group(1).rstrip(b"/") + b"-%d/</loc>" % i, item)
        parts.append(date.sub(lambda m, w=when: b"<" + m.group(1) + b">" + w + b"</", one))
    head, tail = news[: found.start()], news[news.rindex(b"</urlset>") :]
    return head + b"\n".join(parts) + b"\n" + tail


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def reading(docs: dict[str, tuple[bytes, str]], repeat: int) -> None:
    print(f"{'reading':<34} {'kind':<8} {'bytes':>10} {'entries':>8} {'median ms':>10}")
    for name, (body, url) in docs.items():
        parsed = read_document(None, body, url=url, max_entries=MAX_ENTRIES)
        ms = median_ms(
            lambda b=body, u=url: read_document(None, b, url=u, max_entries=MAX_ENTRIES), repeat
        )
        print(f"{name:<34} {parsed.kind:<8} {len(body):>10,} {len(parsed.entries):>8} {ms:>10.1f}")
        if parsed.digests and len(parsed.entries) > 10:
            known = (
                parsed.digests[: -10 * 8]
                if name.startswith("sitemap")
                else parsed.digests[10 * 8 :]
            )
            later = read_document(None, body, url=url, max_entries=MAX_ENTRIES, known=known)
            ms = median_ms(
                lambda b=body, u=url, k=known: read_document(
                    None, b, url=u, max_entries=MAX_ENTRIES, known=k
                ),
                repeat,
            )
            label = f"  {name}, all but 10 known"
            print(
                f"{label:<34} {parsed.kind:<8} {len(body):>10,} {len(later.entries):>8} {ms:>10.1f}"
            )


def polling(docs: dict[str, tuple[bytes, str]], repeat: int, tmp: Path) -> None:
    print(f"\n{'polling (median ms)':<34} {'first':>8} {'changed':>8} {'304':>8} {'bytes':>10}")
    for name, (body, url) in docs.items():
        folder = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        runs = [_poll_three_times(name, body, url, tmp / f"{folder}-{i}") for i in range(repeat)]
        first, changed, same = (statistics.median(r[i] for r in runs) for i in range(3))
        print(f"{name:<34} {first:>8.1f} {changed:>8.1f} {same:>8.1f} {len(body):>10,}")


def _poll_three_times(name: str, body: bytes, url: str, folder: Path) -> tuple[float, ...]:
    """A first poll of the document less its newest item, then the whole document (one
    new item), then the same again (a 304): milliseconds each."""
    folder.mkdir(parents=True, exist_ok=True)
    with Site() as site:
        origin = re.match(r"https?://[^/]+", url)
        served = body.replace(origin.group(0).encode(), site.base.encode()) if origin else body
        state = {"body": _without_newest(served)}
        site.routes["/doc"] = lambda: Reply(200, state["body"])
        config = folder / "newsmon.toml"
        config.write_text(
            f'[database]\nurl = "sqlite:///{folder / "newsmon.db"}"\n'
            '[scale]\nworkers = 0\n[http]\nallow_networks = ["127.0.0.1/32"]\n'
            "max_bytes = 67108864\n"
            "[defaults]\nfetch_articles = false\n"
            f'[[feed]]\nname = "source"\nurl = "{site.base}/doc"\n',
            encoding="utf-8",
        )
        ctx = open_context(load(config))
        times = []
        try:
            for step in ("first", "changed", "unchanged"):
                if step == "changed":
                    state["body"] = served
                started = time.perf_counter()
                report = poll_once(ctx)
                times.append((time.perf_counter() - started) * 1000)
                result = report.feeds[0]
                if result.status not in ("ok", "not-modified", "unchanged"):
                    raise SystemExit(f"{name}: the {step} poll failed: {result.error}")
        finally:
            close_context(ctx)
    print(f"  {name}: {', '.join(f'{t:.0f} ms' for t in times)}", file=sys.stderr)
    return tuple(times)


def _without_newest(body: bytes) -> bytes:
    """The document less its first item: a <url>, an <item>, an article link, or a
    Telegram preview's last (newest) message."""
    wrap = body.rfind(b'<div class="tgme_widget_message_wrap')
    if wrap >= 0:
        return body[:wrap] + body[body.index(b"</section>", wrap) :]
    for pattern in (_URL, re.compile(rb"<item>.*?</item>", re.S)):
        found = pattern.search(body)
        if found:
            return body[: found.start()] + body[found.end() :]
    link = re.search(rb'<a href="[^"]*/20\d\d/[^"]*"[^>]*>[^<]*</a>', body)
    return body[: link.start()] + body[link.end() :] if link else body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sitemap", type=Path, default=FIXTURES / "sitemaps/shinpaideshou-news-sitemap.xml"
    )
    parser.add_argument("--page", type=Path, default=FIXTURES / "pages/cnn_main_site.html")
    parser.add_argument("--feed", type=Path, default=ROOT / "monitor/demo/site/feeds/world.xml")
    parser.add_argument(
        "--telegram", type=Path, default=ROOT / "tests/fixtures/telegram/topwar_official.html"
    )
    parser.add_argument("--urls", type=int, default=20_000, help="URLs in the large sitemap")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    news = args.sitemap.read_bytes()
    feed = args.feed.read_bytes().replace(b"{base}", b"https://feed.example")
    docs = {
        "feed (RSS)": (feed, "https://feed.example/world.xml"),
        "sitemap (news)": (news, "https://shinpaideshou.wordpress.com/news-sitemap.xml"),
        f"sitemap ({args.urls:,} URLs)": (
            large_sitemap(news, args.urls),
            "https://shinpaideshou.wordpress.com/big.xml",
        ),
        "page (section)": (args.page.read_bytes(), "http://edition.cnn.com/"),
        "telegram (preview)": (args.telegram.read_bytes(), "https://t.me/s/topwar_official"),
    }
    reading(docs, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        polling(docs, args.repeat, Path(tmp))


if __name__ == "__main__":
    main()
