"""newsmon beside rss2email and feed2exec: the same local feeds, mailed to one local SMTP server.

    .venv/bin/python bench/peers.py                            # 500 feeds, 3 rounds
    .venv/bin/python bench/peers.py --feeds 500 --rounds 3 --peers-venv /tmp/peers-venv

rss2email and feed2exec come from PyPI into a throwaway virtual environment of their
own (``--peers-venv``, made and filled with pip when it has no ``r2e`` yet), never into
newsmon's. A local site (bench/cycle.py's ``serve``, its own process, 127.0.0.1 only)
serves ``--feeds`` RSS feeds of ``--entries`` entries, each with an ETag, and answers
If-None-Match with 304. A local SMTP server (aiosmtpd, in this process) takes every
message and counts them per tool, by recipient.

Each round, in turn for each tool (the order rotates from round to round), from a fresh
state: the first poll (the backlog), then after a tenth of the feeds gained ``--new``
entries each, a poll that mails every new entry, then a poll with nothing changed (all
304). Every poll is a fresh process, as the peers are, newsmon included
(``newsmon poll --once`` with a config of its own; its modules byte-compiled first, as
pip leaves an installed package and the peers' own). For each poll: wall time, CPU time
of the process and its children (from wait4), peak RSS of the process tree (summed,
sampled from /proc every 0.05 s) and the messages received. Figures only: nothing is
asserted about them. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from cycle import OPENER, bar, memory_mb, tree  # noqa: E402

TOOLS = ("rss2email", "feed2exec", "newsmon")
POLLS = ("first", "changed", "unchanged")
FIRST = {  # what each tool does on its first poll, as run here
    "rss2email": "`r2e run --no-send`: records every entry as seen, mails none",
    "feed2exec": "`feed2exec fetch --catchup`: records every entry as seen, mails none",
    "newsmon": "`newsmon poll --once`: records the backlog without alerting "
    "([defaults] alert_backlog = false, the default)",
}


class Mail:
    """The local SMTP server: counts messages per recipient."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.count: dict[str, int] = {}
        self.lock = threading.Lock()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            for to in envelope.rcpt_tos:
                self.count[to] = self.count.get(to, 0) + 1
        return "250 OK"

    def received(self, tool: str) -> int:
        with self.lock:
            return self.count.get(f"{tool}@example.org", 0)


@dataclass
class Poll:
    tool: str
    poll: str
    seconds: float
    cpu: float
    rss: float
    mails: int
    status: int


def measure(tool: str, poll: str, argv: list[str], env: dict[str, str], mail: Mail) -> Poll:
    """Run one poll as its own process; wall, CPU (wait4) and peak RSS (/proc) of its tree."""
    sent0, peak, done = mail.received(tool), [0.0], threading.Event()
    log = open(env["PEERS_LOG"], "a")  # noqa: SIM115
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], memory_mb(tree(proc.pid))[0])
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    log.close()
    return Poll(
        tool,
        poll,
        seconds,
        usage.ru_utime + usage.ru_stime,
        max(peak[0], usage.ru_maxrss / 1024),
        mail.received(tool) - sent0,
        proc.returncode,
    )


# ------------------------------------------------------------------ each tool's setup
class Tool:
    name = ""

    def __init__(self, work: Path, base: str, args: argparse.Namespace, mail: Mail) -> None:
        self.dir, self.base, self.args, self.mail = work / self.name, base, args, mail
        self.env = {
            **os.environ,
            "PEERS_SMTP": f"127.0.0.1:{mail.port}",
            "PEERS_LOG": str(work / f"{self.name}.log"),
            "NO_PROXY": "127.0.0.1",
            "no_proxy": "127.0.0.1",
            "HOME": str(work / self.name),
        }

    def fresh(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.setup()

    def setup(self) -> None:
        raise NotImplementedError

    def argv(self, poll: str) -> list[str]:
        raise NotImplementedError

    def urls(self) -> list[str]:
        return [f"{self.base}/feed/{i}.xml" for i in range(self.args.feeds)]


class Rss2email(Tool):
    name = "rss2email"

    def setup(self) -> None:
        lines = [
            "[DEFAULT]",
            "from = rss2email@example.org",
            "to = rss2email@example.org",
            "email-protocol = smtp",
            f"smtp-server = 127.0.0.1:{self.mail.port}",
            "smtp-auth = False",
            "smtp-ssl = False",
        ]
        for i, url in enumerate(self.urls()):
            lines += [f"[feed.b{i}]", f"url = {url}"]
        (self.dir / "r2e.cfg").write_text("\n".join(lines) + "\n")

    def argv(self, poll: str) -> list[str]:
        r2e = str(self.args.peers_venv / "bin" / "r2e")
        cmd = [r2e, "-c", str(self.dir / "r2e.cfg"), "-d", str(self.dir / "r2e.json"), "run"]
        return cmd + (["--no-send"] if poll == "first" else [])


class Feed2exec(Tool):
    name = "feed2exec"

    def setup(self) -> None:
        lines = []
        for i, url in enumerate(self.urls()):
            lines += [f"[b{i}]", f"url = {url}", "output = feed2exec_smtp"]
            lines += ["args = feed2exec@example.org"]
        (self.dir / "feed2exec.ini").write_text("\n".join(lines) + "\n")
        self.env["PYTHONPATH"] = str(BENCH)  # for the plugin bench/feed2exec_smtp.py

    def argv(self, poll: str) -> list[str]:
        cmd = [str(self.args.peers_venv / "bin" / "feed2exec")]
        cmd += ["--config", str(self.dir / "feed2exec.ini")]
        cmd += ["--database", str(self.dir / "feed2exec.db"), "fetch"]
        return cmd + (["--catchup"] if poll == "first" else [])


class Newsmon(Tool):
    name = "newsmon"

    def setup(self) -> None:
        url = f"mailto://127.0.0.1:{self.mail.port}?from=newsmon@example.org&to=newsmon@example.org"
        lines = [
            f'[database]\nurl = "sqlite:///{self.dir / "newsmon.db"}"\n',
            # one local server stands in for 500 sites: without this the per-host limit
            # (politeness towards one server) would hold the poll to 2 requests at once
            '[http]\nallow_networks = ["127.0.0.1/32"]\nconcurrency = 8\nper_host = 8\n',
            # the peers mail the feed entry; they neither fetch the article nor group stories
            "[defaults]\nfetch_articles = false\nalert_backlog = false\n",
            "[stories]\ngroup = false\nevents = false\n",  # every entry mailed, as the peers do
            f'[channel.mail]\nurls = ["{url}"]\n',
            # every generated entry's title says "budget": every new entry alerts
            '[watchlist.budget]\nterms = ["budget"]\nchannels = ["mail"]\n',
        ]
        lines += [f'[[feed]]\nname = "b{i}"\nurl = "{u}"\n' for i, u in enumerate(self.urls())]
        (self.dir / "newsmon.toml").write_text("\n".join(lines))
        self.env["NEWSMON_CONFIG"] = str(self.dir / "newsmon.toml")
        self.env["PYTHONPATH"] = str(BENCH.parent)
        # byte-compiled, as pip leaves an installed package (and the peers' here): without
        # the caches each poll would compile newsmon's modules from source again
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        compile_all = [sys.executable, "-m", "compileall", "-q", str(BENCH.parent / "monitor")]
        subprocess.run(compile_all, env=self.env, check=True, stdout=subprocess.DEVNULL)

    def argv(self, poll: str) -> list[str]:
        script = Path(sys.executable).parent / "newsmon"  # the console script users run
        start = [str(script)] if script.exists() else [sys.executable, "-m", "monitor"]
        return [*start, "poll", "--once", "--format", "json"]


# ------------------------------------------------------------------ the run
def peers_venv(path: Path) -> list[str]:
    """Make the throwaway environment if needed; the tools' versions, or why not."""
    if not (path / "bin" / "r2e").exists() or not (path / "bin" / "feed2exec").exists():
        print(f"installing rss2email and feed2exec into {path}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        pip = [str(path / "bin" / "pip"), "install", "-q", "rss2email", "feed2exec"]
        subprocess.run(pip, check=False)
    versions = []
    for tool, module in (("rss2email", "rss2email"), ("feed2exec", "feed2exec")):
        ask = [str(path / "bin" / "python"), "-c", f"import {module}; print({module}.__version__)"]
        out = subprocess.run(ask, capture_output=True, text=True, check=False)
        versions.append(f"{tool} {out.stdout.strip()}" if out.returncode == 0 else "")
    return versions


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--entries", type=int, default=50, help="entries per feed")
    parser.add_argument("--changed", type=float, default=0.1, help="share of feeds changed")
    parser.add_argument("--new", type=int, default=5, help="new entries per changed feed")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peers-venv", type=Path, default=Path("/tmp/newsmon-peers-venv"))
    parser.add_argument("--tools", default=",".join(TOOLS), help="which of " + ",".join(TOOLS))
    args = parser.parse_args()
    every = max(1, round(1 / args.changed))
    signal.signal(signal.SIGTERM, _interrupt)
    versions = peers_venv(args.peers_venv)
    chosen = [t for t in args.tools.split(",") if t in TOOLS]
    absent = f"not installed in {args.peers_venv} (see the pip output above)"
    missing = {t: absent for t, v in zip(TOOLS[:2], versions, strict=True) if not v}
    chosen = [t for t in chosen if t not in missing]

    work = Path(tempfile.mkdtemp(prefix="newsmon-peers-"))
    cycle = str(BENCH / "cycle.py")
    server = subprocess.Popen(
        [sys.executable, cycle, "serve", str(args.feeds), str(args.entries), str(every)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    base = server.stdout.readline().strip()
    mail = Mail()
    kinds = {"rss2email": Rss2email, "feed2exec": Feed2exec, "newsmon": Newsmon}
    tools = [kinds[name](work, base, args, mail) for name in chosen]
    polls: list[Poll] = []
    try:
        for r in range(args.rounds):
            order = tools[r % len(tools) :] + tools[: r % len(tools)]
            for tool in order:
                tool.fresh()
            for poll in POLLS:
                if poll == "changed":
                    OPENER.open(f"{base}/next/{args.new}", timeout=30).read()
                for tool in order:
                    print(f"round {r + 1}/{args.rounds}: {tool.name}, {poll} poll", file=sys.stderr)
                    done = measure(tool.name, poll, tool.argv(poll), tool.env, mail)
                    polls.append(done)
                    print(
                        f"  {done.seconds:.1f} s, CPU {done.cpu:.1f} s, {done.mails} mails,"
                        f" peak RSS {done.rss:.0f} MB,"
                        f" exit {done.status}",
                        file=sys.stderr,
                    )
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the figures of the polls done so far
        print("interrupted: reporting the polls done so far", file=sys.stderr)
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(30)
        mail.controller.stop()
    report(polls, args, [v for v in versions if v], missing)
    print(f"(configs, state and logs in {work})")


def report(
    polls: list[Poll], args: argparse.Namespace, versions: list[str], missing: dict[str, str]
) -> None:
    tools = list(dict.fromkeys(p.tool for p in polls))
    changed = round(args.feeds * args.changed)
    done = [sum(p.tool == t and p.poll == "unchanged" for p in polls) for t in tools]
    complete = min(done, default=0)
    print(
        f"\n{args.feeds} local feeds x {args.entries} entries with ETags, one machine "
        f"({os.cpu_count()} cores), {complete} of {args.rounds} round(s) complete, "
        "order rotating each round."
    )
    print(
        f"changed poll: {changed} feeds gained {args.new} entries each "
        f"({changed * args.new} new entries, one mail each expected)"
    )
    print("peers: " + ", ".join(versions) + f" (PyPI, in {args.peers_venv})")
    for tool, why in missing.items():
        print(f"{tool}: not run ({why})")
    print(
        "newsmon: each poll a fresh `newsmon poll --once` process, as the peers' are; "
        "fetch_articles = false, [stories] group = false and events = false, "
        "one watchlist matching every entry"
    )
    for tool in tools:
        print(f"first poll, {tool}: {FIRST[tool]}")
    print("feed2exec mails through bench/feed2exec_smtp.py (it ships no SMTP output)\n")
    print(
        f"{'tool':10} {'poll':10} {'wall s':>7} {'CPU s':>7} {'peak RSS MB':>12} {'mails':>6}",
        end="",
    )
    print("  (medians of the rounds; exit codes)")
    rows = []
    for poll in POLLS:
        for tool in tools:
            mine = [p for p in polls if p.tool == tool and p.poll == poll]
            if not mine:
                continue
            figures = ("seconds", "cpu", "rss", "mails")
            row = (tool, poll, *(statistics.median(getattr(p, k) for p in mine) for k in figures))
            rows.append(row)
            exits = ",".join(str(p.status) for p in mine)
            line = f"{tool:10} {poll:10} {row[2]:7.1f} {row[3]:7.1f} {row[4]:12.0f} {row[5]:6.0f}"
            print(f"{line}  ({exits})")
    for poll in POLLS:
        print(f"\n{poll} poll, wall seconds:")
        top = max((r[2] for r in rows if r[1] == poll), default=0.0)
        for r in (r for r in rows if r[1] == poll):
            print(f"  {r[0]:10} {bar(r[2], top)} {r[2]:6.1f}")
    print("\nmarkdown (median wall / CPU seconds):")
    print("| poll | " + " | ".join(tools) + " |")
    print("|---|" + "---|" * len(tools))
    for poll in POLLS:
        cells = [f"{r[2]:.1f} / {r[3]:.1f} s" for r in rows if r[1] == poll]
        mails = [f"{r[5]:.0f}" for r in rows if r[1] == poll]
        print(f"| {poll} ({'/'.join(mails)} mails) | " + " | ".join(cells) + " |")
    peak = [f"{max(p.rss for p in polls if p.tool == t):.0f} MB" for t in tools]
    print("| peak RSS | " + " | ".join(peak) + " |")


if __name__ == "__main__":
    main()
