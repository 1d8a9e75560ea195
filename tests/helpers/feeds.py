"""Feeds made for a test, served by the local site."""

from __future__ import annotations

from monitor.demo.server import Reply, Site


def serve_linked_page(site: Site, page: bytes, content_type: str, feed_path: str) -> None:
    """``page`` at /a.html, and at ``feed_path`` an RSS feed whose one item links to it."""
    site.routes["/a.html"] = Reply(200, page, {"Content-Type": content_type})
    site.routes[feed_path] = Reply(
        200,
        (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
            f"<item><title>Заявление</title><link>{site.base}/a.html</link></item>"
            "</channel></rss>"
        ).encode(),
        {"Content-Type": "application/rss+xml"},
    )
