"""The real reports of tests/fixtures/events/basil served as outlets' feeds and pages.

Each outlet's reports become an RSS feed ``/feeds/<source>.xml`` and each article a
page ``/pages/<file>.html`` with the outlet's ``og:site_name``; the data set dates by
day, so each report is dated 12:00 UTC on its day, ten minutes apart in file order."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

from helpers.paths import REPO
from monitor.demo.server import Reply, Site

FIXTURES = REPO / "tests" / "fixtures" / "events" / "basil"
OUTLETS = {"fox": "Fox News", "nyt": "The New York Times", "hpo": "HuffPost"}
SHUTDOWN = "1e41e98b-9ac1-441d-b2c2-19d8f730c74a"  # the shutdown ends, 25 Jan 2019
STONE = "aab91277-8d56-4844-a581-45630f873f49"  # Roger Stone indicted and arrested, that day
EARLIER = "0d10341a-9dba-4374-a524-814c300d1611"  # the shutdown three weeks before
HTML = "text/html; charset=utf-8"
XML = "application/rss+xml; charset=utf-8"


@dataclass(frozen=True)
class Report:
    event: str  # the data set's triplet-uuid: its editors' "same event"
    source: str  # fox, nyt, hpo; or the name of a site that republished it
    title: str
    paragraphs: list[str]
    published: datetime
    path: str  # where the test server serves its page

    @classmethod
    def read(cls, file: Path, order: int) -> Report:
        data = json.loads(file.read_text(encoding="utf-8"))
        day = datetime.fromisoformat(data["date"]).replace(hour=12, tzinfo=UTC)
        return cls(
            event=data["triplet-uuid"],
            source=data["source"].lower(),
            title=data["title"].strip(),
            paragraphs=[" ".join(p).strip() for p in data["body-paragraphs"]],
            published=day + timedelta(minutes=10 * order),
            path=f"/pages/{file.stem}.html",
        )

    @property
    def site_name(self) -> str:
        return OUTLETS.get(self.source, self.source)

    def republished(self, site_name: str, slug: str) -> Report:
        """This report as another site carries it, an hour later (syndication)."""
        return replace(
            self,
            source=site_name,
            published=self.published + timedelta(hours=1),
            path=f"/{slug}{self.path}",
        )

    def page(self) -> bytes:
        body = "\n".join(f"<p>{escape(p)}</p>" for p in self.paragraphs if p)
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(self.title)}</title>
<meta property="og:site_name" content="{escape(self.site_name)}">
<meta property="article:published_time" content="{self.published.isoformat()}">
</head><body><article><h1>{escape(self.title)}</h1>
{body}
</article></body></html>
""".encode()


def reports() -> list[Report]:
    return [Report.read(f, i) for i, f in enumerate(sorted(FIXTURES.glob("*.json")))]


def feed(title: str, items: list[Report], base: str) -> bytes:
    entries = "".join(
        f"<item><title>{escape(r.title)}</title><link>{base}{r.path}</link>"
        f"<guid>{base}{r.path}</guid><pubDate>{format_datetime(r.published)}</pubDate>"
        f"<description>{escape(r.paragraphs[0])}</description></item>\n"
        for r in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{base}/</link>\n{entries}</channel></rss>\n"
    ).encode()


def serve(site: Site, name: str, items: list[Report]) -> str:
    """Serve ``items`` as the feed ``/feeds/<name>.xml`` and their pages; its URL."""
    site.routes[f"/feeds/{name}.xml"] = Reply(
        200, feed(items[0].site_name if items else name, items, site.base), {"Content-Type": XML}
    )
    for r in items:
        site.routes[r.path] = Reply(200, r.page(), {"Content-Type": HTML})
    return f"{site.base}/feeds/{name}.xml"


def serve_outlets(site: Site, found: list[Report] | None = None) -> dict[str, str]:
    """Each outlet's reports as its feed: outlet -> feed URL."""
    found = reports() if found is None else found
    return {s: serve(site, s, [r for r in found if r.source == s]) for s in OUTLETS}
