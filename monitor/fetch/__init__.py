"""Fetching: the one HTTP client (httpx), the address guard, per-host limits and the
charset of fetched bytes.

httpx imports its command-line tool (``httpx._main``) when it is imported, and that
imports rich and pygments whenever they are installed (rich is, for newsmon's tables):
a tenth of a second at every start of ``newsmon``, for a tool newsmon never runs. Marked
as absent here, before the first ``import httpx``, httpx falls back to its stub.
"""

import sys

sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
