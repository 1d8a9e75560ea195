"""One worker process, started by monitor.pipeline.pool as ``python -m monitor.pipeline.jobs``.

It imports the parsers, says it is ready (``R`` on stdout), then answers calls until its
input ends (the daemon closed it, or died): each call is a length-prefixed pickle of
``(function, args, kwargs)`` on stdin, each answer a length-prefixed pickle of
``(True, result)`` or ``(False, exception)`` on stdout. Anything else written to the
standard output goes to stderr, so it cannot garble an answer.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import traceback

from monitor.errors import NewsmonError, WorkerError
from monitor.extract import article  # noqa: F401  (imported before the first call)
from monitor.log import setup_logging
from monitor.sources import feeds, read  # noqa: F401  (the readers of every kind, likewise)

__all__ = ["main"]


def main() -> None:
    # the daemon decides when workers stop (Ctrl-C or SIGTERM reach the whole group)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # trafilatura imports py3langid (and numpy, ~12 MB) only for filtering by language,
    # which newsmon does not ask for; the daemon detects languages itself
    sys.modules.setdefault("py3langid", None)  # type: ignore[arg-type]
    feeds.load_parser()  # before the first call, which its time limit counts
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    calls = sys.stdin.buffer
    setup_logging()
    answers.write(b"R")
    answers.flush()
    while True:
        header = calls.read(8)
        if len(header) < 8:  # the daemon is done with us: no teardown needed
            answers.close()
            os._exit(0)
        fn, args, kwargs = pickle.loads(calls.read(int.from_bytes(header, "big")))
        try:
            reply = (True, fn(*args, **kwargs))
        except Exception as exc:
            if not isinstance(exc, NewsmonError):  # a bug: keep where it happened
                exc.add_note("in the worker process: " + traceback.format_exc())
            reply = (False, exc)
        try:
            data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            error = WorkerError(f"cannot send the answer back: {type(exc).__name__}: {exc}")
            data = pickle.dumps((False, error), protocol=pickle.HIGHEST_PROTOCOL)
        answers.write(len(data).to_bytes(8, "big") + data)
        answers.flush()


if __name__ == "__main__":
    main()
