"""systemd's notify protocol: a datagram to $NOTIFY_SOCKET. No-op outside systemd."""

from __future__ import annotations

import os
import socket
import time

__all__ = ["monotonic_usec", "notify", "watchdog_interval"]


def notify(*fields: str) -> bool:
    """Send e.g. ``READY=1`` (several fields go in one message); return whether a socket
    was there to hear it."""
    state = "\n".join(fields)
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError:
        return False
    return True


def watchdog_interval() -> float | None:
    """Half of WatchdogSec, in seconds, when systemd asked for pings."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec.isdigit() or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000


def monotonic_usec() -> int:
    """CLOCK_MONOTONIC in microseconds, as MONOTONIC_USEC= wants it beside RELOADING=1."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
