"""Alerts exported as Atom, CSV or JSON, streamed row by row, to a file replaced
atomically (readers of the file see the old export or the new one, never half of one).

CSV goes through the one CSV writer (``monitor.history.csvsafe``): a headline from a feed must
not become a formula on an analyst's machine.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from monitor.display import clean_data
from monitor.errors import ExportError
from monitor.history.atom import FeedInfo, clean, write_atom
from monitor.history.csvsafe import CsvWriter
from monitor.model import ALERT_COLUMNS
from monitor.store.export import ExportRow

__all__ = ["FORMATS", "atomic_file", "row_dict", "write_export"]

FORMATS = ("atom", "csv", "json")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def row_dict(row: ExportRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": _iso(row.created_at),
        "kind": row.kind,
        "watchlists": list(row.watchlists),
        "terms": list(row.terms),
        "title": clean(row.title),
        "url": row.url,
        "source": clean(row.source),
        "feed": row.feed,
        "published_at": _iso(row.published_at),
        "story_id": row.story_id,
        "snippet": clean(row.snippet),
    }


def _write_csv(rows: Iterable[ExportRow], out: TextIO) -> int:
    writer = CsvWriter(out)
    writer.row(ALERT_COLUMNS)
    count = 0
    for row in rows:
        data = row_dict(row)
        writer.row(data[c] for c in ALERT_COLUMNS)
        count += 1
    return count


def _write_json(rows: Iterable[ExportRow], out: TextIO) -> int:
    """A JSON array, one alert per line, written as the rows come."""
    count = 0
    for row in rows:
        out.write("[\n" if count == 0 else ",\n")
        out.write(json.dumps(clean_data(row_dict(row)), ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "[]\n")
    return count


def write_export(
    fmt: str, rows: Iterable[ExportRow], out: TextIO, info: FeedInfo, updated: datetime
) -> int:
    """Write ``rows`` to ``out`` in ``fmt``; returns how many were written."""
    if fmt == "atom":
        return write_atom(rows, out, info, updated)
    if fmt == "csv":
        return _write_csv(rows, out)
    if fmt == "json":
        return _write_json(rows, out)
    raise ValueError(f"unknown export format {fmt!r}")


@contextmanager
def atomic_file(path: Path) -> Iterator[TextIO]:
    """A text file that replaces ``path`` only when the block finishes without error;
    on error ``path`` keeps its old content and the temporary file is removed."""
    folder = path.parent
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ExportError(f"cannot write in {folder}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, _mode_for(path))
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    """The mode the file has, else what a new file gets under the umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask
