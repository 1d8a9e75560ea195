"""What became of a drain pass's deliveries, written by one thread in as few transactions
as the sends allow.

Senders hand over outcomes and go on; the recorder takes everything handed over since its
last write and stores it in one transaction (``outbox.record``), so a busy pass writes in
groups and a quiet one at once. At a crash, what was handed over but not yet written is
lost with the claims, which expire after ``[delivery] lease``: only the sends of that last
moment repeat, as do the ones in flight. The same thread renews every claim still in hand
every third of the lease, so a slow server or a long batch never lets another instance
take a delivery that is being sent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from types import TracebackType

from monitor.errors import NewsmonError
from monitor.model import DeliveryStatus
from monitor.store import outbox
from monitor.store.db import Database
from monitor.store.outbox import Outcome

__all__ = ["Recorder"]

log = logging.getLogger("newsmon.delivery")

# called on the recorder's thread once the outcomes are written, with the ids still held
Then = Callable[[set[int]], None]


class Recorder:
    def __init__(
        self, db: Database, lease: float, owner: str, clock: Callable[[], datetime]
    ) -> None:
        self._db, self._every, self._owner, self._clock = db, lease / 3, owner, clock
        self._changed = threading.Condition()
        self._queue: list[tuple[Sequence[Outcome], Then | None]] = []
        self._in_hand: set[int] = set()
        self._handed = self._written = 0  # how many hand-overs so far, and written
        self._is_closing = False
        self.error: NewsmonError | None = None  # the write that failed; the pass stops
        self._thread = threading.Thread(target=self._run, name="newsmon-record", daemon=True)

    def __enter__(self) -> Recorder:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._changed:
            self._is_closing = True
            self._changed.notify_all()
        self._thread.join()
        if self.error is not None and exc is None:
            raise self.error

    def hold(self, ids: Iterable[int]) -> None:
        """Renew these claims until their outcome is written."""
        with self._changed:
            self._in_hand.update(ids)

    def put(self, outcomes: Sequence[Outcome], then: Then | None = None) -> None:
        with self._changed:
            self._queue.append((outcomes, then))
            self._handed += 1
            self._changed.notify_all()

    def flush(self) -> None:
        """Wait until everything handed over so far is written (or a write failed)."""
        with self._changed:
            target = self._handed
            self._changed.wait_for(lambda: self._written >= target or self.error is not None)
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        renewed = time.monotonic()
        while True:
            with self._changed:
                self._changed.wait_for(
                    lambda: bool(self._queue) or self._is_closing,
                    timeout=max(0.0, renewed + self._every - time.monotonic()),
                )
                batch, self._queue = self._queue, []
                handed, is_closing, in_hand = self._handed, self._is_closing, set(self._in_hand)
            outcomes = [o for done, _ in batch for o in done]
            is_renewing = time.monotonic() - renewed >= self._every
            if is_renewing:
                mentioned = {o.id for o in outcomes}
                outcomes += [Outcome(i, DeliveryStatus.SENDING) for i in in_hand - mentioned]
                renewed = time.monotonic()
            held = self._write(outcomes)
            finished = {o.id for o in outcomes if o.status is not DeliveryStatus.SENDING}
            with self._changed:
                self._in_hand -= finished
                self._written = handed
                self._changed.notify_all()
            if held is not None:
                for _, then in batch:
                    if then is not None:
                        then(held)
            if is_closing and not batch:
                return

    def _write(self, outcomes: Sequence[Outcome]) -> set[int] | None:
        try:
            return outbox.record(self._db, outcomes, self._clock(), owner=self._owner)
        except NewsmonError as exc:
            if all(o.status is DeliveryStatus.SENDING for o in outcomes):
                log.warning("cannot renew a claim error=%r", str(exc))
                return set()
            self.error = exc
            return None
