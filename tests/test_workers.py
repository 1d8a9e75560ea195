"""Worker processes (monitor/pipeline/pool.py): the same results as in-process; errors come back
with their class and hint; a worker that dies or hangs costs one call a clear error,
never the pool, the cycle or the other feeds."""

from __future__ import annotations

import operator
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.config import write_config
from helpers.paths import SAMPLE_SITE
from monitor.config.settings import load
from monitor.demo.hostile import CASES
from monitor.demo.server import Reply, Site
from monitor.errors import ParseError, WorkerError
from monitor.pipeline.assembly import close_context, open_context, poll_once
from monitor.pipeline.pool import Workers
from monitor.store.feeds import list_feeds

BASE = "http://news.example"


def children() -> set[int]:
    """Process ids of this process's live worker processes."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            found.update(int(p) for p in (task / "children").read_text().split())
        except FileNotFoundError:  # a thread that ended since the folder was listed
            continue
    return {p for p in found if is_alive(p) and b"monitor.pipeline.jobs" in _cmdline(p)}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.fixture
def workers() -> Iterator[Workers]:
    pool = Workers(2, timeout=30)
    yield pool
    pool.close()


def test_parsing_and_extraction_in_workers_equal_in_process(workers: Workers) -> None:
    feed = (SAMPLE_SITE / "feeds" / "world.xml").read_bytes().replace(b"{base}", BASE.encode())
    page = (SAMPLE_SITE / "articles" / "nato-ministers.html").read_bytes()
    here = Workers(0)
    url, kind = f"{BASE}/feeds/world.xml", "application/xml; charset=utf-8"
    title, entries = workers.parse_feed(feed, url=url, content_type=kind)
    assert (title, entries) == here.parse_feed(feed, url=url, content_type=kind)
    assert len(entries) >= 3
    article = f"{BASE}/articles/nato-ministers.html"
    text = workers.extract_page(page, url=article, content_type="text/html")
    assert text == here.extract_page(page, url=article, content_type="text/html")
    assert "NATO" in text.text


def _pile_up(pool: Workers, seconds: float) -> set[int]:
    """Six parses at once that each hold the calling threads ``seconds`` (asleep, so
    costing no CPU); the worker processes there were while they ran."""
    threads = [
        threading.Thread(target=pool._parse, args=("napping", time.sleep, seconds))
        for _ in range(4 + 2)
    ]
    for t in threads:
        t.start()
    seen: set[int] = set()
    while any(t.is_alive() for t in threads):
        seen |= children()
        time.sleep(0.05)
    for t in threads:
        t.join(60)
    return seen | children()


def test_a_one_shot_pool_parses_in_process_until_parses_pile_up() -> None:
    """poll --once: a few parses run in the calling threads and start no process; once
    ``inline_backlog`` of them wait there, the rest go to workers, started then."""
    feed = (SAMPLE_SITE / "feeds" / "world.xml").read_bytes().replace(b"{base}", BASE.encode())
    url, kind = f"{BASE}/feeds/world.xml", "application/xml; charset=utf-8"
    pool = Workers(2, timeout=30, inline_backlog=4, inline_seconds=0)
    try:
        found = [pool.parse_feed(feed, url=url, content_type=kind) for _ in range(3)]
        assert found == [Workers(0).parse_feed(feed, url=url, content_type=kind)] * 3
        assert children() == set()
        # parses that hold the calling threads: the fifth at once must go to a worker
        assert 1 <= len(_pile_up(pool, 1.0)) <= 2
        pool.parse_feed(feed, url=url, content_type=kind)  # from now on in a worker
        assert children()
    finally:
        pool.close()


def test_a_pile_up_starts_workers_only_once_parsing_inline_has_cost_enough() -> None:
    """Parses that wait behind others, but have cost little CPU so far, stay inline: a
    worker would cost more to start than they do."""
    pool = Workers(2, timeout=30, inline_backlog=4, inline_seconds=0.05)
    try:
        assert _pile_up(pool, 0.3) == set()  # asleep: no CPU spent
        # one parse that costs more CPU than the pool allows for inline parsing
        assert pool._parse("summing", sum, range(20_000_000)) == sum(range(20_000_000))
        assert children() == set()
        assert 1 <= len(_pile_up(pool, 1.0)) <= 2
    finally:
        pool.close()


def test_errors_come_back_with_their_class_hint_and_origin(workers: Workers) -> None:
    laughs = next(c for c in CASES if c.name == "billion-laughs").reply(BASE).body
    with pytest.raises(ParseError) as remote:
        workers.parse_feed(laughs, url=f"{BASE}/laughs.xml")
    with pytest.raises(ParseError) as local:
        Workers(0).parse_feed(laughs, url=f"{BASE}/laughs.xml")
    assert str(remote.value) == str(local.value)
    assert remote.value.hint == local.value.hint and "attack" in remote.value.hint
    with pytest.raises(ZeroDivisionError) as bug:  # a bug keeps the worker's traceback
        workers.run("dividing", operator.truediv, 1, 0)
    assert "in the worker process" in "".join(bug.value.__notes__)


def test_a_worker_that_dies_costs_only_its_own_call(workers: Workers) -> None:
    feed = (SAMPLE_SITE / "feeds" / "novosti.xml").read_bytes()
    results: list[object] = []

    def parse_many() -> None:
        for _ in range(20):
            results.append(workers.parse_feed(feed, url=f"{BASE}/novosti.xml")[0])

    other = threading.Thread(target=parse_many)
    other.start()
    with pytest.raises(WorkerError, match=r"died \(exit code 3\) while parsing http://x/f"):
        workers.run("parsing http://x/f", os._exit, 3)
    other.join(60)
    assert len(results) == 20  # the other worker was not disturbed
    assert workers.run("adding", operator.add, 2, 3) == 5  # a fresh worker took its place


def test_a_worker_killed_mid_call_or_over_its_time_costs_that_call_a_clear_error() -> None:
    pool = Workers(1, timeout=30)
    try:
        assert pool.run("warming up", operator.add, 1, 1) == 2
        (pid,) = children()
        errors: list[WorkerError] = []

        def call() -> None:
            try:
                pool.run("extracting http://x/page", time.sleep, 30)
            except WorkerError as exc:
                errors.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.3)
        os.kill(pid, signal.SIGKILL)  # as the out-of-memory killer would
        caller.join(10)
        assert [str(e) for e in errors] == [
            "worker: the worker process died (killed by SIGKILL) while extracting http://x/page"
        ]
        assert pool.run("adding", operator.add, 2, 3) == 5  # a fresh worker
        (pid,) = children()
        pool.timeout = 1.0
        started = time.monotonic()
        with pytest.raises(WorkerError, match=r"parsing http://x/f took longer than 1s"):
            pool.run("parsing http://x/f", time.sleep, 30)
        assert time.monotonic() - started < 10
        assert not is_alive(pid)
        assert pool.run("adding", operator.add, 2, 3) == 5
    finally:
        pool.close()


def test_close_stops_every_worker(workers: Workers) -> None:
    threads = [threading.Thread(target=workers.run, args=("napping", time.sleep, 0.3))]
    threads.append(threading.Thread(target=workers.run, args=("napping", time.sleep, 0.3)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    pids = children()
    assert len(pids) == 2
    workers.close()
    assert not any(is_alive(p) for p in pids)
    with pytest.raises(WorkerError, match="stopped"):
        workers.run("adding", operator.add, 2, 3)


def test_a_feed_that_overruns_its_worker_fails_alone(site: Site, tmp_path: Path) -> None:
    entries = "".join(
        f"<item><title>Item {i}</title><link>{site.base}/item/{i}</link><description>"
        f"&lt;p&gt;Text &lt;b&gt;{i}&lt;/b&gt; {'&lt;i&gt;w&lt;/i&gt; ' * 20}&lt;/p&gt;"
        "</description></item>"
        for i in range(8000)
    )  # 4.5 MB (under [http] max_bytes) of markup that feedparser takes 3.5 s or more to
    # sanitise on a fast machine, 13 s on a slow one
    body = f'<rss version="2.0"><channel><title>Huge</title>{entries}</channel></rss>'
    site.routes["/feeds/huge.xml"] = Reply(200, body.encode(), {"Content-Type": "text/xml"})
    extra = f'[[feed]]\nname = "huge"\nurl = "{site.base}/feeds/huge.xml"\n'
    # at most 2/3 of the huge parse on a fast machine, and far more than a small feed's
    # parse takes in a fresh worker on a loaded one (0.5 s was not, under a full CI run)
    scale = 'workers = 1\nworker_timeout = "2s"'

    db_url = f"sqlite:///{tmp_path / 'n.db'}"
    config = write_config(tmp_path / "n.toml", db_url, site, {}, extra, scale=scale)
    ctx = open_context(load(config))
    try:
        status = {r.feed: (r.status, r.error) for r in poll_once(ctx).feeds}
        feeds = {f.name: f for f in list_feeds(ctx.db)}
    finally:
        close_context(ctx)
    url = f"{site.base}/feeds/huge.xml"
    error = f"worker: parsing {url} took longer than 2s; its worker was stopped"
    assert status.pop("huge") == ("error", error)
    assert feeds["huge"].last_error == error
    assert status == dict.fromkeys(["world", "nachrichten", "novosti"], ("ok", None))
