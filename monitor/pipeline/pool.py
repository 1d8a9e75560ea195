"""Worker processes for the CPU-heavy stages, so that they use every core: parsing feeds
(feedparser) and extracting article text (trafilatura).

``Workers(n)`` keeps up to ``n`` processes (``python -m monitor.pipeline.jobs``, started when
first needed), ``Workers(0)`` runs the same functions in the calling thread. A call is
sent to an idle worker as a pickle over its stdin and the answer read from its stdout;
the workers import only the parsers, never the daemon's database or channels.

``Workers(n, inline_backlog=k)`` (``poll --once``: one pass, then exit) parses
documents in the calling threads, one at a time, until ``k`` parses are waiting or
running there once parsing there has cost ``INLINE_SECONDS`` of CPU: then parsing is
what holds the poll up, and from then on every parse goes to the workers, started as
needed. A poll where few feeds changed starts none: a worker costs its start-up (about
0.15 s of CPU, more than parsing 50 changed feeds) and tens of MB, and parses that only
queue up behind storing and sending gain nothing from it. A long one spreads its
parsing over the cores as before. Extraction (trafilatura, heavier) always goes to a
worker.

A worker that dies on a call (a crash in a C library, the kernel's out-of-memory killer)
or takes longer than ``timeout`` (it is killed) costs only that call: a WorkerError that
names the feed or page, and a fresh worker for the next call. Exceptions the function
raises come back as they are. After ``RECYCLE_AFTER`` calls a worker is replaced, so
memory a parser kept does not stay for months. ``close()`` stops them all; a worker
whose daemon was killed reads the end of its input and exits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from monitor.errors import WorkerError
from monitor.model import Entry

if TYPE_CHECKING:
    from monitor.extract.article import PageText
    from monitor.sources.feeds import ParsedFeed

__all__ = ["RECYCLE_AFTER", "Workers", "kill_all"]

log = logging.getLogger("newsmon.workers")

P = ParamSpec("P")
T = TypeVar("T")

RECYCLE_AFTER = 2000  # calls before a worker is replaced
INLINE_SECONDS = 0.5  # CPU spent parsing inline before a pile-up starts workers
START_TIMEOUT = 120.0  # for a worker to import the parsers, on a busy machine


_LIVE: set[_Worker] = set()  # every worker process not stopped yet, for kill_all
_LIVE_LOCK = threading.Lock()


class _Died(Exception):
    pass


def kill_all() -> None:
    """Kill every worker process at once, busy or idle (a stop that ran out of time)."""
    with _LIVE_LOCK:
        workers = list(_LIVE)
    for worker in workers:
        with contextlib.suppress(OSError):
            worker.proc.kill()


class _Worker:
    """One worker process and its two pipes."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor.pipeline.jobs"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,  # Ctrl-C in a terminal is for the daemon, not for us
        )
        with _LIVE_LOCK:
            _LIVE.add(self)
        self.calls = 0
        try:
            if _read(self._out, 1, time.monotonic() + START_TIMEOUT) != b"R":
                raise _Died("no ready signal")
        except BaseException:
            self.stop(is_killing=True)
            raise

    @property
    def _out(self) -> IO[bytes]:
        assert self.proc.stdout is not None
        return self.proc.stdout

    def call(self, fn: Callable[..., Any], args: Any, kwargs: Any, timeout: float) -> Any:
        """Send one call; return ``(is_ok, result or exception)``."""
        self.calls += 1
        data = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(len(data).to_bytes(8, "big") + data)
            self.proc.stdin.flush()
        except OSError as exc:  # BrokenPipeError: it is gone
            raise _Died(str(exc)) from None
        deadline = time.monotonic() + timeout
        size = int.from_bytes(_read(self._out, 8, deadline), "big")
        answer = _read(self._out, size, deadline)
        try:
            return pickle.loads(answer)
        except Exception as exc:  # an exception type that cannot be rebuilt here
            return False, WorkerError(f"unreadable answer: {type(exc).__name__}: {exc}")

    def stop(self, *, is_killing: bool = False) -> str:
        """End the process; how it ended, for messages."""
        with _LIVE_LOCK:
            _LIVE.discard(self)
        if is_killing:
            self.proc.kill()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):  # a worker that died: a broken pipe
                    pipe.close()
        try:
            code = self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        if code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exit code {code}"


def _read(pipe: IO[bytes], size: int, deadline: float) -> bytes:
    """Exactly ``size`` bytes, by ``deadline`` (TimeoutError) or before the end (_Died)."""
    fd, chunks, left = pipe.fileno(), [], size
    while left:
        wait = deadline - time.monotonic()
        if wait <= 0 or not select.select([fd], [], [], wait)[0]:
            raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise _Died("end of output")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class Workers:
    """Up to ``processes`` worker processes (0: run in the calling thread)."""

    def __init__(
        self,
        processes: int,
        timeout: float = 60.0,
        *,
        inline_backlog: int = 0,
        inline_seconds: float = INLINE_SECONDS,
    ) -> None:
        self.processes = processes
        self.timeout = timeout
        self.inline_backlog = inline_backlog  # 0: never parse in the calling threads
        self.inline_seconds = inline_seconds
        self._lock = threading.Lock()
        self._free = threading.BoundedSemaphore(max(processes, 1))  # workers not in a call
        self._idle: list[_Worker] = []
        self._is_closed = False
        self._inline = threading.Lock()  # one parse at a time in the calling threads
        self._inline_backlog = 0  # parses waiting for it or running under it
        self._inline_cost = 0.0  # CPU seconds of the parses run under it
        self._has_started = False  # a worker was started: no more parsing inline

    def parse_feed(
        self, body: bytes, *, url: str, content_type: str = "", max_entries: int | None = None
    ) -> tuple[str, list[Entry]]:
        """monitor.sources.feeds.parse_feed, in a worker."""
        from monitor.sources import feeds  # the parsers: imported once a document changed

        return self._parse(
            f"parsing {url}",
            feeds.parse_feed,
            body,
            url=url,
            content_type=content_type,
            max_entries=max_entries,
        )

    def read_document(
        self,
        kind: str | None,
        body: bytes,
        *,
        url: str,
        content_type: str = "",
        max_entries: int | None = None,
        known: bytes | None = None,
    ) -> ParsedFeed:
        """monitor.sources.read.read_document (the reader of ``kind``), in a worker."""
        from monitor.sources import read  # the parsers: imported once a document changed

        return self._parse(
            f"parsing {url}",
            read.read_document,
            kind,
            body,
            url=url,
            content_type=content_type,
            max_entries=max_entries,
            known=known,
        )

    def extract_page(self, page: bytes, *, url: str, content_type: str = "") -> PageText:
        """monitor.extract.article.extract_page, in a worker."""
        from monitor.extract import article  # lxml and the extractor: once a page is read

        return self.run(
            f"extracting {url}", article.extract_page, page, url=url, content_type=content_type
        )

    def _parse(self, task: str, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``run``, or in the calling thread while parsing inline (see the module)."""
        with self._lock:
            is_inline = (
                self.processes > 0  # else ``run`` parses in the calling thread anyway
                and not (self._has_started or self._is_closed)
                and self.inline_backlog > 0
                and (
                    self._inline_backlog < self.inline_backlog
                    or self._inline_cost < self.inline_seconds
                )
            )
            self._inline_backlog += is_inline
        if not is_inline:
            return self.run(task, fn, *args, **kwargs)
        cost = 0.0
        try:
            with self._inline:
                began = time.thread_time()
                try:
                    return fn(*args, **kwargs)
                finally:
                    cost = time.thread_time() - began
        finally:
            with self._lock:
                self._inline_backlog -= 1
                self._inline_cost += cost

    def run(self, task: str, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` in a worker; ``task`` says what it does, for errors.

        ``fn`` must be a module-level function, its arguments and result picklable."""
        if not self.processes:
            return fn(*args, **kwargs)
        with self._free:
            worker = self._take(task)
            try:
                is_ok, value = worker.call(fn, args, kwargs, self.timeout)
            except _Died:
                how = worker.stop()
                raise WorkerError(f"the worker process died ({how}) while {task}") from None
            except TimeoutError:
                worker.stop(is_killing=True)
                raise WorkerError(
                    f"{task} took longer than {self.timeout:g}s; its worker was stopped"
                ) from None
            self._give_back(worker)
        if not is_ok:
            raise cast(BaseException, value)
        return cast(T, value)

    def close(self) -> None:
        """Stop the idle workers now, and each busy one when its call is done."""
        with self._lock:
            self._is_closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()

    def _take(self, task: str) -> _Worker:
        with self._lock:
            if self._is_closed:
                raise WorkerError("the worker processes are stopped", "newsmon is shutting down")
            if self._idle:
                return self._idle.pop()
            self._has_started = True
        try:
            return _Worker()
        except (OSError, _Died, TimeoutError) as exc:
            raise WorkerError(
                f"cannot start a worker process for {task}: {exc or type(exc).__name__}",
                "check the log for the worker's error; [scale] workers = 0 works without them",
            ) from None

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if not self._is_closed and worker.calls < RECYCLE_AFTER:
                self._idle.append(worker)
                return
        worker.stop()
