"""A time budget for one piece of work, checked between its steps. The clock is the
monotonic one unless given: ``time.thread_time`` counts only this thread's CPU time."""

from __future__ import annotations

import time
from collections.abc import Callable

from monitor.errors import MatchTimeoutError

__all__ = ["EVERY", "Deadline"]

EVERY = 4


class Deadline:
    """``check()`` raises MatchTimeoutError once ``seconds`` have passed since creation
    (at the first check, or at most ``EVERY - 1`` checks later); with ``seconds=None``
    it never does.

    ``wall``: a cheaper clock that runs at least as fast as ``clock``, read first; then
    ``clock`` is read only once ``wall`` says that the time may be up. A thread's CPU
    time (``time.thread_time``, a system call) never runs ahead of the monotonic clock
    (``time.perf_counter``, read without one), so the answer is the same."""

    def __init__(
        self,
        seconds: float | None,
        clock: Callable[[], float] = time.monotonic,
        *,
        wall: Callable[[], float] | None = None,
    ) -> None:
        self.seconds = seconds
        self._clock = clock
        self._wall = wall
        self._until = None if seconds is None else clock() + seconds
        self._wall_until = None if seconds is None or wall is None else wall() + seconds
        self._steps = 0
        self.where = ""  # what was being done, for the error

    def check(self) -> None:
        if self._until is None:
            return
        steps, self._steps = self._steps, self._steps + 1
        if steps % EVERY or not self._may_be_up():
            return
        if self._clock() > self._until:
            where = f" (at {self.where})" if self.where else ""
            raise MatchTimeoutError(
                f"matching the article took longer than {self.seconds:g}s{where}; "
                "it was stored without alerts"
            )

    def _may_be_up(self) -> bool:
        """What the cheaper clock says: False only when the time is surely not up."""
        return self._wall is None or self._wall_until is None or self._wall() > self._wall_until
