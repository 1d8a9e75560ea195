"""What the C allocator keeps of the daemon's memory (glibc only; elsewhere nothing).

glibc gives each thread that allocates its own arena, up to eight per core, and an
arena keeps the memory freed in it for that thread's next allocations. The daemon's
fetching threads (``[http] concurrency``) each build and drop a feed's worth of objects
per poll, so every one of them came to hold its own high-water mark: at 20,000 sources
the daemon's RSS was tens of MB over what it used. Two arenas serve eight threads
with no measurable cost here, and trimming after a cycle hands the free pages back.
``MALLOC_ARENA_MAX`` in the environment still wins: the limit is left alone then.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

__all__ = ["ARENAS", "limit_arenas", "trim"]

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
ARENAS = 2


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    # musl and others have mallopt without arenas; malloc_trim is glibc's own
    if not hasattr(libc, "malloc_trim") or not hasattr(libc, "mallopt"):
        return None
    return libc


_LIBC = _glibc()


def limit_arenas() -> None:
    """At most ``ARENAS`` malloc arenas for the threads this process starts from now."""
    if _LIBC is None or "MALLOC_ARENA_MAX" in os.environ:
        return
    if not _LIBC.mallopt(M_ARENA_MAX, ARENAS):
        log.debug("mallopt(M_ARENA_MAX) refused")


def trim() -> None:
    """Hand the allocator's free pages back to the system (after a cycle)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
