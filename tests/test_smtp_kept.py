"""A drain pass keeps its SMTP connections (monitor/deliver/notify.py): messages to one
mail target go over one connection, logged in once, against a real aiosmtpd server
(plain, STARTTLS and implicit TLS with login); a connection the server dropped, or one
over which a message failed, is not used again, and leaving the pass closes them."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator

import pytest

from helpers.servers import MAIL_USER, MailServer
from monitor.deliver import notify
from monitor.deliver.render import Message

# aiosmtpd says so of the implicit-TLS server (the TLS is outside its view)
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def _send(url: str, n: int) -> list[bool]:
    return [
        r.is_ok
        for i in range(n)
        for r in notify.send([url], Message(f"Budget vote {i}", "The budget passed.", "text"))
    ]


def test_messages_in_a_pass_share_one_connection(mail: MailServer) -> None:
    with notify.kept_connections():
        assert _send(mail.url(), 5) == [True] * 5
        assert mail.quits == 0  # kept open for the next message
    assert mail.subjects() == [f"Budget vote {i}" for i in range(5)]
    assert mail.sessions() == 1
    assert mail.logins == ([] if mail.security == "none" else [MAIL_USER])
    assert mail.quits == 1  # closed when the pass ended


def test_outside_a_pass_each_message_has_its_own_connection(mail: MailServer) -> None:
    assert _send(mail.url(), 3) == [True] * 3
    assert mail.sessions() == 3
    assert mail.quits == 3


def test_a_connection_the_server_dropped_is_replaced(mail: MailServer) -> None:
    with notify.kept_connections():
        assert _send(mail.url(), 2) == [True, True]
        mail.stop()  # the kept connection goes with it
        mail.start()
        assert _send(mail.url(), 2) == [True, True]
    assert len(mail.subjects()) == 4
    assert mail.sessions() == 2


def test_stopping_the_server_closes_the_connections_it_still_holds(mail: MailServer) -> None:
    """Else the collector reports their sockets later, in whatever test then runs."""
    with notify.kept_connections():
        assert _send(mail.url(), 1) == [True]
        mail.stop()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            gc.collect()
        mail.start()  # for the fixture to stop
    unclosed = [str(w.message) for w in seen if issubclass(w.category, ResourceWarning)]
    assert unclosed == []


class Busy(MailServer):
    """Answers the first message with a temporary failure, then accepts."""

    refusals = 1

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        if self.refusals:
            self.refusals -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        return await super().handle_DATA(server, session, envelope)


def test_a_connection_over_which_a_message_failed_is_not_kept() -> None:
    busy = Busy("none", None)
    busy.start()
    try:
        with notify.kept_connections():
            assert _send(busy.url(), 3) == [False, True, True]
    finally:
        busy.stop()
    assert len(busy.subjects()) == 2
    assert busy.quits == 2  # the failed one's at once, the next one's at the end
    assert busy.sessions() == 1  # the two accepted messages: one fresh connection


def test_a_connection_carries_at_most_keep_messages(
    smtp_plain: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notify, "KEEP_MESSAGES", 2)
    with notify.kept_connections():
        assert _send(smtp_plain.url(), 5) == [True] * 5
    assert smtp_plain.sessions() == 3  # 2 + 2 + 1
    assert smtp_plain.quits == 3


@pytest.fixture
def smtp_plain() -> Iterator[MailServer]:
    server = MailServer("none", None)
    server.start()
    try:
        yield server
    finally:
        server.stop()
