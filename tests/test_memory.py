"""The daemon's threads share two malloc arenas (glibc), unless MALLOC_ARENA_MAX says
otherwise; each case runs in a fresh interpreter, where no thread has an arena yet."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpers.paths import REPO
from monitor import memory

pytestmark = pytest.mark.skipif(memory._LIBC is None, reason="glibc's malloc only")

# eight threads allocate at once (blocks over pymalloc's 512 bytes go to malloc), then
# glibc lists its arenas on stderr
THREADS = """
import ctypes, sys, threading
from monitor import memory
if sys.argv[1] == "limit":
    memory.limit_arenas()
barrier = threading.Barrier(8)
def work():
    barrier.wait()
    kept = [bytes(4096 + i) for i in range(2000)]
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
memory.trim()
ctypes.CDLL(None).malloc_stats()
"""


def _arenas(mode: str, **env: str) -> int:
    environ = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", THREADS, mode],
        env={**environ, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return sum(line.startswith("Arena ") for line in done.stderr.splitlines())


def test_threads_share_two_arenas() -> None:
    assert _arenas("free") > memory.ARENAS  # glibc alone gives the threads more
    assert 1 <= _arenas("limit") <= memory.ARENAS


def test_the_environment_sets_the_limit() -> None:
    assert _arenas("limit", MALLOC_ARENA_MAX="4") > memory.ARENAS
