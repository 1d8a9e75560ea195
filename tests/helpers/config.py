"""Configs for tests: the sample site's feeds and watchlists, with the channels a test
gives, and the local test servers allowed past the address guard."""

from __future__ import annotations

from pathlib import Path

from monitor.demo.server import Receiver, Site

# The local test servers listen on 127.0.0.1, which the SSRF guard refuses unless allowed.
ALLOW_LOCAL = '["127.0.0.1/32"]'


def hook_url(receiver: Receiver, secret: str = "") -> str:
    """The apprise json:// URL of a webhook receiver, with a secret password if given."""
    auth = f"bot:{secret}@" if secret else ""
    return f"json://{auth}{receiver.base[7:]}/hook"


def write_config(
    path: Path,
    db_url: str,
    site: Site,
    channels: dict[str, list[str]],
    extra: str = "",
    alert_backlog: bool = True,
    http: str = "",
    channel_options: dict[str, str] | None = None,
    watchlist_options: dict[str, str] | None = None,
    scale: str = "workers = 0",
) -> Path:
    """A config for the sample site: its three feeds, four watchlists, given channels.

    Parsing and extraction run in-process unless ``scale`` asks for workers: worker
    processes cost a second of start-up each; test_workers.py and test_instances.py
    test them."""
    names = list(channels)
    lines = [
        f'[database]\nurl = "{db_url}"\n',
        f"[scale]\n{scale}\n",
        f"[http]\nallow_networks = {ALLOW_LOCAL}\n{http}\n",
        f"[defaults]\nalert_backlog = {str(alert_backlog).lower()}\n",
        '[delivery]\nretry_base = "1s"\nretry_max = "2s"\nmax_attempts = 3\n',
        f'[[feed]]\nname = "world"\nurl = "{site.base}/feeds/world.xml"\n',
        f'[[feed]]\nname = "nachrichten"\nurl = "{site.base}/feeds/nachrichten.xml"\n',
        f'[[feed]]\nname = "novosti"\nurl = "{site.base}/feeds/novosti.xml"\n',
    ]
    for name, urls in channels.items():
        quoted = ", ".join(f'"{u}"' for u in urls)
        options = (channel_options or {}).get(name, "")
        lines.append(f"[channel.{name}]\nurls = [{quoted}]\n{options}\n")
    watchlists = {
        "ukraine": ["Ukraine", "Ukrainian", "Україна", "України", "Украина", "ukrainische"],
        "nato": ["NATO", "НАТО", "OTAN"],
        "osce": ["OSCE", "OSZE", "ОБСЕ", "ОБСЄ"],
        "ryabkov": ["Ryabkov", "Riabkov", "Rjabkow", "Рябков"],
    }
    for name, terms in watchlists.items():
        t = ", ".join(f'"{x}"' for x in terms)
        c = ", ".join(f'"{x}"' for x in names)
        options = (watchlist_options or {}).get(name, "")
        lines.append(f"[watchlist.{name}]\nterms = [{t}]\nchannels = [{c}]\n{options}\n")
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def route_only(config: Path, watchlist: str, channels: list[str]) -> None:
    """In a config written with no channels, send only ``watchlist``'s alerts, to these."""
    head, tail = config.read_text(encoding="utf-8").split(f"[watchlist.{watchlist}]")
    routed = ", ".join(f'"{name}"' for name in channels)
    tail = tail.replace("channels = []", f"channels = [{routed}]", 1)
    config.write_text(f"{head}[watchlist.{watchlist}]{tail}", encoding="utf-8")
