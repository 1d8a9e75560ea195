"""A stop that always ends, within ``[daemon] stop_timeout``.

Python runs signal handlers in the main thread between bytecodes, so a main thread held
in a long C call would leave SIGTERM unanswered. Here the C-level handler also writes
the signal to a pipe (``signal.set_wakeup_fd``), which a watcher thread reads whatever
the main thread does. From the first SIGTERM or SIGINT, the orderly stop has
``grace`` seconds; past them the watcher logs, kills the worker processes and exits
the process hard (``os._exit``). faulthandler's timer, a C thread that needs no GIL,
does the same (with the threads' tracebacks) a few seconds later, for the case where
even the watcher cannot run.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable

__all__ = ["HardStop"]

log = logging.getLogger("newsmon.daemon")

_BACKSTOP = 5.0  # seconds after the grace, for faulthandler's timer
EXIT_CODE = 1


class HardStop:
    def __init__(self, grace: float, on_expiry: Callable[[], None] = lambda: None) -> None:
        self.grace = grace
        self._on_expiry = on_expiry  # e.g. kill the worker processes
        self._done = threading.Event()
        self._armed = threading.Lock()
        self._is_armed = False
        self._read_fd = self._write_fd = -1
        self._old_fd = -1

    def install(self) -> None:
        """Call from the main thread, after the Python signal handlers are set."""
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        self._old_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        threading.Thread(target=self._watch, name="newsmon-stop", daemon=True).start()

    def arm(self) -> None:
        """The stop began: from now on it has ``grace`` seconds (once; idempotent)."""
        with self._armed:
            if self._is_armed:
                return
            self._is_armed = True
        with contextlib.suppress(RuntimeError, ValueError, OSError):  # no usable stderr
            faulthandler.dump_traceback_later(self.grace + _BACKSTOP, exit=True, file=sys.stderr)
        threading.Thread(target=self._expire, name="newsmon-stop-timer", daemon=True).start()

    def finished(self) -> None:
        """The orderly stop is done: nothing more to enforce. From the main thread."""
        self._done.set()
        with contextlib.suppress(RuntimeError, ValueError, OSError):
            faulthandler.cancel_dump_traceback_later()
        if self._write_fd >= 0:
            with contextlib.suppress(ValueError, OSError):
                signal.set_wakeup_fd(self._old_fd)
            os.close(self._write_fd)  # the watcher reads the end and returns
            self._write_fd = -1

    def _watch(self) -> None:
        stopping = {signal.SIGTERM.value, signal.SIGINT.value}
        while not self._done.is_set():
            try:
                data = os.read(self._read_fd, 64)
            except OSError:
                return
            if not data:
                break
            if stopping & set(data):
                self.arm()
        with contextlib.suppress(OSError):
            os.close(self._read_fd)

    def _expire(self) -> None:
        if self._done.wait(self.grace):
            return
        log.error(
            "stop took longer than stop_timeout, exiting now timeout=%gs; work in flight "
            "is repeated at the next start",
            self.grace,
        )
        with contextlib.suppress(Exception):
            self._on_expiry()
        for handler in logging.getLogger().handlers:
            with contextlib.suppress(Exception):
                handler.flush()
        os._exit(EXIT_CODE)
