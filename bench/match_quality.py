"""Precision and recall of the shipped watchlists on a labelled corpus.

    .venv/bin/python bench/match_quality.py ../shared/corpus/matching [--config config/newsmon.toml]
        [--show-errors]

The corpus folder holds ``labels.tsv`` (id, lang, ..., one 0/1 column per watchlist) and
``items/<id>.txt`` (line 1 the title, line 2 empty, then the main text). Each item is
matched as a page whose language is told from its text, as in the daemon. An item
counts as a hit for a watchlist when any match of that watchlist is found. Nothing from the
corpus is written anywhere.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from rich.progress import Progress

from monitor.config.settings import load
from monitor.extract.language import with_language
from monitor.match.watchlists import compile_watchlists, find_matches
from monitor.model import Article, TextSource

TARGETS = {"precision": 0.98, "recall": 0.95}


def read_item(path: Path) -> Article:
    raw = path.read_text(encoding="utf-8")
    title, _, text = raw.partition("\n")
    page = Article(url=None, title=title.strip(), text=text.strip(), text_source=TextSource.PAGE)
    return with_language(page)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="folder with labels.tsv and items/")
    parser.add_argument("--config", type=Path, default=Path("config/newsmon.toml"))
    parser.add_argument("--show-errors", action="store_true", help="list misses and false hits")
    args = parser.parse_args()
    labels_file = args.corpus / "labels.tsv"
    if not labels_file.is_file():
        print(f"no labels.tsv in {args.corpus}", file=sys.stderr)
        return 2
    with labels_file.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    settings = load(args.config)
    watchlists = compile_watchlists(settings)
    names = [w.name for w in watchlists if w.name in rows[0]]
    counts = {n: {"tp": 0, "fp": 0, "fn": 0, "tn": 0} for n in names}
    errors: list[str] = []
    started = time.perf_counter()
    with Progress(transient=True) as progress:
        task = progress.add_task("matching", total=len(rows))
        for row in rows:
            article = read_item(args.corpus / "items" / f"{row['id']}.txt")
            found = find_matches(watchlists, article)
            hit = {m.watchlist for m in found}
            for name in names:
                is_labelled, is_found = row[name] == "1", name in hit
                key = {(1, 1): "tp", (0, 1): "fp", (1, 0): "fn", (0, 0): "tn"}[
                    (int(is_labelled), int(is_found))
                ]
                counts[name][key] += 1
                if key in ("fp", "fn"):
                    why = ", ".join(f"{m.found!r}" for m in found if m.watchlist == name)
                    errors.append(f"{key} {name:8} {row['id']} ({row['lang']}) {why}")
            progress.advance(task)
    elapsed = time.perf_counter() - started
    print(f"{len(rows)} items, {elapsed:.1f} s, config {args.config}")
    print(
        f"{'watchlist':10} {'pos':>4} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7}"
    )
    is_ok = True
    for name in names:
        c = counts[name]
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        mark = "ok" if precision >= TARGETS["precision"] and recall >= TARGETS["recall"] else "LOW"
        is_ok &= mark == "ok"
        print(
            f"{name:10} {c['tp'] + c['fn']:>4} {c['tp']:>4} {c['fp']:>4} {c['fn']:>4} "
            f"{precision:>9.3f} {recall:>7.3f}  {mark}"
        )
    if args.show_errors:
        print("\n".join(sorted(errors)))
    return 0 if is_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
