"""What one poll of a Telegram channel preview costs: time and bytes.

    .venv/bin/python bench/telegram_cost.py tests/fixtures/telegram/topwar_official.html
    .venv/bin/python bench/telegram_cost.py PAGE.html --polls 200 --pages 3

A local server (127.0.0.1, a thread of this process) serves the captured preview page
given, as https://t.me/s/CHANNEL would, and as its older pages (``?before=N``) too.
Each poll is what the pipeline does for a telegram source before matching:

- fetch: a GET through newsmon's fetcher (monitor.fetch.client: address guard, size
  cap, deadline), the body read whole;
- parse: monitor.sources.telegram.parse_preview, the messages to entries;
- with ``--pages N``: N pages in all, as when a busy channel pushed messages off the
  first page since the last poll (monitor.sources.telegram.gather reads older pages
  until one holds a known message, at most [defaults] telegram_pages).

Printed: the median and 90th percentile of the whole poll, of the fetches and of the
parsing, in milliseconds; bytes fetched per poll; messages and entries per page.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.config.settings import HttpSettings  # noqa: E402
from monitor.demo.server import Reply, Site  # noqa: E402
from monitor.fetch.client import fetch, make_client  # noqa: E402
from monitor.sources import telegram  # noqa: E402
from monitor.sources.feeds import ParsedFeed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("page", type=Path, help="a captured t.me/s/ preview page")
    parser.add_argument("--polls", type=int, default=100)
    parser.add_argument("--pages", type=int, default=1, help="pages read per poll")
    args = parser.parse_args()
    body = args.page.read_bytes()
    http = HttpSettings(allow_networks=["127.0.0.1/32"])
    with Site() as site, make_client(http) as client:
        site.routes["/s/channel"] = Reply(
            200, body, {"Content-Type": "text/html; charset=utf-8"}, etag=False
        )
        url = f"{site.base}/s/channel"
        fetched: list[int] = []
        fetch_ms: list[float] = []
        parse_ms: list[float] = []
        total_ms: list[float] = []

        def load(target: str) -> ParsedFeed:
            started = time.perf_counter()
            got = fetch(client, target, max_bytes=http.max_bytes, accept="text/html")
            middle = time.perf_counter()
            parsed = telegram.parse_preview(got.body, url=got.url, content_type=got.content_type)
            fetch_ms.append((middle - started) * 1000)
            parse_ms.append((time.perf_counter() - middle) * 1000)
            fetched[-1] += len(got.body)
            return parsed

        first: ParsedFeed | None = None
        for _ in range(args.polls):
            fetched.append(0)
            started = time.perf_counter()
            first = load(url)
            for _page in range(1, args.pages):  # the older pages gather() would read
                before = telegram.oldest(first.entries) or 2
                load(telegram.older_url(url, before))
            total_ms.append((time.perf_counter() - started) * 1000)
    assert first is not None
    print(f"page: {args.page} ({len(body):,} bytes)")
    print(f"messages per page: {first.items}, entries (with text): {len(first.entries)}")
    print(f"polls: {args.polls}, pages per poll: {args.pages}")
    for name, values in (("poll", total_ms), ("fetch", fetch_ms), ("parse", parse_ms)):
        print(
            f"{name + ' ms:':11} median {statistics.median(values):7.2f}  "
            f"p90 {_p90(values):7.2f}  (per {'poll' if name == 'poll' else 'page'})"
        )
    print(f"bytes fetched per poll: median {statistics.median(fetched):,.0f}")


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


if __name__ == "__main__":
    main()
