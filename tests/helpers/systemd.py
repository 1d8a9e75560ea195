"""The socket systemd listens on for a service's notifications (sd_notify)."""

from __future__ import annotations

import contextlib
import socket
import time
from pathlib import Path

import pytest


class Notifications:
    """The socket systemd would listen on, and every message the daemon sent to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.messages: list[tuple[float, str]] = []  # (monotonic time received, text)

    def _read(self, until: float) -> None:
        self.sock.settimeout(max(0.01, until - time.monotonic()))
        with contextlib.suppress(TimeoutError):
            self.messages.append((time.monotonic(), self.sock.recv(4096).decode()))

    def carrying(self, field: str) -> list[str]:
        return [text for _, text in self.messages if field in text.split("\n")]

    def wait_for(self, field: str, *, count: int = 1, timeout: float = 30.0) -> str:
        """The ``count``-th message carrying ``field``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(found := self.carrying(field)) >= count:
                return found[count - 1]
            self._read(deadline)
        pytest.fail(f"no {field} from the daemon; got {[m for _, m in self.messages]}")

    def wait_for_next(self, field: str, timeout: float = 30.0) -> str:
        return self.wait_for(field, count=len(self.carrying(field)) + 1, timeout=timeout)

    def listen(self, seconds: float) -> list[str]:
        """Every message sent in the next ``seconds`` (those sent before are read first)."""
        self.sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            while True:
                self.messages.append((time.monotonic(), self.sock.recv(4096).decode()))
        start = time.monotonic()
        while time.monotonic() < start + seconds:
            self._read(start + seconds)
        return [text for at, text in self.messages if at >= start]

    def states(self) -> list[str]:
        """The lifecycle fields, in order (READY, RELOADING, STOPPING)."""
        wanted = ("READY=1", "RELOADING=1", "STOPPING=1")
        return [f for _, text in self.messages for f in text.split("\n") if f in wanted]
