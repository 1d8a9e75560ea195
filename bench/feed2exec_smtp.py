"""A feed2exec output plugin for bench/peers.py: mails each new item over SMTP.

feed2exec ships no SMTP output (its mail plugins write to a Maildir or an mbox), so
this one builds the message with feed2exec's own ``make_message``, as its maildir
plugin does, and sends it to ``PEERS_SMTP`` (host:port) on one connection per
message, as rss2email does. In catch-up mode (``fetch --catchup``) it sends nothing.
It runs inside feed2exec's environment, not newsmon's: standard library and
feed2exec only.
"""

from __future__ import annotations

import os
import smtplib
from typing import Any


def output(*args: str, feed: Any = None, item: Any = None, **kwargs: Any) -> bool:
    if feed.get("catchup"):
        return True
    import mailbox

    from feed2exec.email import make_message  # type: ignore[import-not-found]  # its own venv

    to = args[0] if args else "feed2exec@example.org"
    # a mailbox message class, as the maildir plugin passes: make_message's default
    # (email.message.Message) takes the message for a policy and fails
    message, _ = make_message(feed=feed, item=item, to_addr=to, cls=mailbox.Message)
    host, port = os.environ["PEERS_SMTP"].rsplit(":", 1)
    with smtplib.SMTP(host, int(port)) as smtp:
        smtp.send_message(message, "feed2exec@example.org", [to])
    return True
