"""Several real `newsmon run` processes on one database share 200 feeds from a local site
through row leases: each feed is polled once a round, every alert reaches a real webhook
exactly once, and when one instance is killed (SIGKILL) in the middle of a cycle, the
others take over the feeds and deliveries it held once their leases expire.

The test drives the clock through the database rather than waiting for it: a round starts
when it changes the feeds and makes them due (as an hour passing would), and the killed
instance's leases expire when it moves them into the past (as the lease passing would).
The leases themselves are long, so a survivor that a loaded machine starves for seconds
keeps what it holds, and the waits end on what the test observes; their bound is only a
safety net. Three instances and 200 feeds on PostgreSQL (the setup this is for); two and
60 on SQLite, whose write transactions serialise the claims instead of row locks.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from helpers.config import ALLOW_LOCAL, hook_url
from helpers.wait import wait_until
from monitor.demo.server import Receiver, Reply, Site
from monitor.model import utcnow
from monitor.store.db import Database, connect
from monitor.store.tables import Alert, Delivery, Entry, Feed

# leases no survivor can lose by being starved of the CPU: the killed instance's are
# expired by the test (expire_leases); the waits' bound, only for a hang
LEASE = 600
PATIENCE = 300.0


def alerting(i: int) -> bool:
    """A quarter of the feeds' new entries mention NATO."""
    return i % 4 == 0


class Feeds:
    """The 200 feeds: in round r, feed i carries entries 0..r; round 0 is the backlog."""

    def __init__(self, site: Site, count: int) -> None:
        self.site, self.count, self.round, self.delay = site, count, 0, 0.0
        self.polled: list[Counter[int]] = [Counter(), Counter()]  # requests in each round
        self.lock = threading.Lock()
        for i in range(count):
            site.routes[f"/f/{i}.xml"] = lambda i=i: self.reply(i)
        pulse = '<rss version="2.0"><channel><title>Pulse</title></channel></rss>'
        site.routes["/pulse.xml"] = Reply(200, pulse.encode(), {"Content-Type": "text/xml"})

    def reply(self, i: int) -> Reply:
        with self.lock:
            now, delay = self.round, self.delay
            self.polled[now][i] += 1
        time.sleep(delay)
        items = "".join(
            f"<item><title>Report {i}-{k}</title><guid>g-{i}-{k}</guid>"
            f"<link>{self.site.base}/a/{i}/{k}</link><description>"
            f"{'NATO ministers met' if alerting(i) and k else 'Harbour news'} {i}-{k}"
            "</description></item>"
            for k in range(now, -1, -1)
        )
        body = f'<rss version="2.0"><channel><title>Feed {i}</title>{items}</channel></rss>'
        return Reply(200, body.encode(), {"Content-Type": "application/rss+xml"})

    def next_round(self, db_url: str, delay: float = 0.0) -> None:
        """New entries in every feed, and every feed due now."""
        with self.lock:
            self.round += 1
            self.delay = delay
        db = connect(db_url)
        with db.session() as s:
            s.execute(update(Feed).where(Feed.name != "pulse").values(next_check_at=utcnow()))
        db.close()


def config(path: Path, db_url: str, site: Site, hook: Receiver, count: int) -> Path:
    lines = [
        f'[database]\nurl = "{db_url}"\n',
        f"[http]\nallow_networks = {ALLOW_LOCAL}\nconcurrency = 4\n",
        '[defaults]\ninterval = "1h"\nalert_backlog = false\nfetch_articles = false\n',
        f'[delivery]\ninterval = "1s"\nlease = "{LEASE}s"\nretry_base = "2s"\nretry_max = "2s"\n'
        "max_attempts = 100\n",
        "[stories]\ngroup = false\nevents = false\n",  # each alert its own story, however alike
        f'[scale]\nworkers = 1\nlease = "{LEASE}s"\n',
        f'[channel.hook]\nurls = ["{hook_url(hook)}"]\n',
        '[watchlist.nato]\nterms = ["NATO"]\nchannels = ["hook"]\n',
    ]
    lines += [f'[[feed]]\nname = "f{i}"\nurl = "{site.base}/f/{i}.xml"\n' for i in range(count)]
    # its interval sets the daemons' tick to a second: the next round starts at once
    lines.append(f'[[feed]]\nname = "pulse"\nurl = "{site.base}/pulse.xml"\ninterval = "1s"\n')
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def expire_leases(db_url: str, pid: int) -> None:
    """The leases of the instance with this process id on feeds and deliveries, expired
    (as their length passing would)."""
    past = utcnow() - timedelta(seconds=2 * LEASE)
    owner = f"%:{pid}:%"
    db = connect(db_url)
    with db.session() as s:
        s.execute(update(Feed).where(Feed.lease_owner.like(owner)).values(lease_until=past))
        s.execute(update(Delivery).where(Delivery.claimed_by.like(owner)).values(claimed_at=past))
    db.close()


def start(config: Path, tmp_path: Path, name: str) -> tuple[subprocess.Popen[bytes], socket.socket]:
    """A daemon, and the socket it will say READY=1 on."""
    address = str(tmp_path / f"{name}.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    env = {**os.environ, "NOTIFY_SOCKET": address, "NEWSMON_CONFIG": str(config)}
    with (tmp_path / f"{name}.log").open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "run"], env=env, stderr=log)
    return proc, sock


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:  # the process is gone
        return found
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:  # a thread that ended since the folder was listed
            continue
        for child in children:
            found |= {int(child)} | descendants(int(child))
    return found


def is_gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def rows(db: Database, table: type[Alert | Entry]) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def held_by(db: Database, pid: int) -> set[int]:
    """The feeds (by index) whose lease this process holds."""
    query = select(Feed.name).where(Feed.lease_owner.like(f"%:{pid}:%"), Feed.name != "pulse")
    with db.session() as s:
        return {int(name[1:]) for name in s.scalars(query)}


def polled_in_round(db: Database, n: int) -> set[int]:
    """The feeds (by index) whose entry of round ``n`` is stored."""
    with db.session() as s:
        return {int(k.split("-")[1]) for k in s.scalars(select(Entry.key)) if k.endswith(f"-{n}")}


def delivered(hook: Receiver) -> Counter[str]:
    """Titles of the alerts the webhook received, counted."""
    with hook.lock:
        bodies = [json.loads(body)["message"] for _, _, body in hook.received]
    return Counter(m for b in bodies for m in re.findall(r"Report \d+-\d+", b))


def test_instances_share_feeds_and_deliveries_and_take_over_from_a_killed_one(
    db_url: str, site: Site, hook: Receiver, tmp_path: Path
) -> None:
    # PostgreSQL: the setup this is for; SQLite: a smaller run, to keep the suite quick
    instances, count = (3, 200) if db_url.startswith("postgresql") else (2, 60)
    feeds = Feeds(site, count)
    path = config(tmp_path / "newsmon.toml", db_url, site, hook, count)
    procs: list[subprocess.Popen[bytes]] = []
    db = connect(db_url, is_read_only=True)
    try:
        started = [start(path, tmp_path, f"instance-{n}") for n in range(instances)]
        procs += [proc for proc, _ in started]  # stopped below, whatever happens
        for _, sock in started:
            sock.settimeout(60)
            with sock:
                while b"READY=1" not in sock.recv(4096):
                    pass

        def entries() -> int:
            return rows(db, Entry)

        # round 0: every feed's backlog, recorded silently; each feed polled exactly once
        wait_until(lambda: entries() == count, "every feed's backlog is recorded", PATIENCE)
        assert feeds.polled[0] == Counter(range(count))

        # round 1: a new entry in every feed (a quarter alert), slowly served, and a
        # refusing webhook; one instance is killed while it holds leases
        hook.status = 500
        feeds.next_round(db_url, delay=0.05)
        victim = procs[0]
        wait_until(
            lambda: bool(held_by(db, victim.pid) and descendants(victim.pid)),
            "the victim holds leases and parses in its worker process",
            PATIENCE,
        )
        workers = descendants(victim.pid)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        orphaned = held_by(db, victim.pid)  # what it died holding: nobody will release it
        unfinished = orphaned - polled_in_round(db, 1)  # held and not done
        assert unfinished
        expire_leases(db_url, victim.pid)
        wait_until(lambda: entries() == 2 * count, "round 1 is polled by the others", PATIENCE)
        assert set(feeds.polled[1]) == set(range(count))
        twice = {i for i, n in feeds.polled[1].items() if n > 1}
        # polled again only what the victim held: what it fetched and lost, and what it
        # finished but died before recording the poll of (its entries were stored)
        assert twice <= orphaned
        assert not held_by(db, victim.pid) & unfinished  # the others took those over
        hook.status = 200  # the survivors send every alert (and the victim's), each once
        expected = {f"Report {i}-1" for i in range(count) if alerting(i)}
        wait_until(lambda: set(delivered(hook)) == expected, "every alert is sent", PATIENCE)
        time.sleep(1.0)  # a repeated send would arrive now
        wait_until(lambda: all(is_gone(p) for p in workers), "the victim's worker exits", PATIENCE)
        survivors = {p for proc in procs[1:] for p in descendants(proc.pid)}
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        db_alerts = rows(db, Alert)
        db.close()

    assert all(is_gone(p) for p in survivors)  # a stopped daemon stops its workers
    assert delivered(hook) == Counter(expected)  # every alert exactly once
    assert db_alerts == len(expected)
    for n in range(1, instances):
        log = (tmp_path / f"instance-{n}.log").read_text()
        assert "polled feed=f" in log  # each survivor did its share
        assert "Traceback" not in log and "level=error" not in log
