"""Near-duplicate quality on a labelled corpus: pair precision and recall.

    .venv/bin/python bench/neardup_quality.py ../shared/corpus/neardup
    .venv/bin/python bench/neardup_quality.py ../shared/corpus/neardup --orders 5 --verbose

CORPUS_DIR holds ``texts/<id>.txt`` (line 1 the title, a blank line, the text) and
``pairs.tsv`` (a, b, label SAME|DIFFERENT, kind, notes). Every text is stored, one after
the other, through the daemon's own path (stories.fingerprint, then record_entry on a
fresh SQLite database), so it joins a story or founds one exactly as a fetched article
would. A pair is predicted SAME when both texts end in the same story.

Precision = SAME pairs predicted SAME / pairs predicted SAME; recall = SAME pairs
predicted SAME / SAME pairs; the recall on natural pairs leaves out the constructed
"extraction-variant" ones (an extract against its own full page). With ``--orders N``
the texts are also stored in N shuffled orders (grouping is incremental, so order could
matter). Only ids and kinds are printed, never corpus text.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.model import Article, Entry, TextSource  # noqa: E402
from monitor.pipeline.entry import index_words  # noqa: E402
from monitor.store import entries as entry_store  # noqa: E402
from monitor.store.db import connect  # noqa: E402
from monitor.store.entries import Outcome  # noqa: E402
from monitor.store.feeds import add_feed  # noqa: E402
from monitor.store.stories import Identity  # noqa: E402
from monitor.store.tables import Article as ArticleRow  # noqa: E402
from monitor.stories.copies import fingerprint, story_picker  # noqa: E402


def load(corpus: Path) -> tuple[dict[str, tuple[str, str]], list[list[str]]]:
    texts = {}
    for path in sorted((corpus / "texts").glob("*.txt")):
        title, _, body = path.read_text(encoding="utf-8").partition("\n")
        texts[path.stem] = (title.strip(), body.strip())
    lines = (corpus / "pairs.tsv").read_text(encoding="utf-8").splitlines()
    pairs = [line.split("\t") for line in lines[1:] if line.strip()]
    return texts, pairs


def group(texts: dict[str, tuple[str, str]], order: list[str], folder: Path) -> dict[str, int]:
    """Store every text in ``order``; the story each one ends in."""
    db = connect(f"sqlite:///{folder / 'quality.db'}")
    db.migrate()
    now = datetime.now(UTC)
    feed_id = add_feed(db, "corpus", "http://corpus.invalid/feed", now)
    for n, text_id in enumerate(order):
        title, body = texts[text_id]
        url = f"http://corpus.invalid/{text_id}"
        found = fingerprint(body)
        mine = found.shingles
        outcome = Outcome(
            entry=Entry(text_id, url, title, "", None),
            url_key=url,
            article=(article := Article(url, title, body, TextSource.PAGE)),
            words=index_words(article),
            identity=Identity(
                None,
                found.keys,
                story_picker(mine),
                now - timedelta(days=3),
            ),
        )
        entry_store.record_entry(db, feed_id=feed_id, outcome=outcome, now=now)
        if (n + 1) % 50 == 0:
            print(f"  stored {n + 1}/{len(order)}", file=sys.stderr, flush=True)
    with db.session() as s:
        rows = s.execute(select(ArticleRow.url_key, ArticleRow.story_id)).all()
    db.close()
    return {key.rsplit("/", 1)[1]: int(story or 0) for key, story in rows}


def score(pairs: list[list[str]], story: dict[str, int]) -> tuple[float, float, list[str]]:
    tp = fp = fn = 0
    wrong = []
    for a, b, label, kind, *_ in pairs:
        is_predicted = story[a] == story[b]
        is_same = label == "SAME"
        tp += is_predicted and is_same
        fp += is_predicted and not is_same
        fn += is_same and not is_predicted
        if is_predicted != is_same:
            wrong.append(
                f"{label:<9} predicted {'SAME' if is_predicted else 'DIFFERENT':<9} "
                f"{kind:<32} {a} {b}"
            )
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path, help="CORPUS_DIR with texts/ and pairs.tsv")
    parser.add_argument("--orders", type=int, default=0, help="also N shuffled orders")
    parser.add_argument("--verbose", action="store_true", help="list the misjudged pairs")
    args = parser.parse_args()
    if not (args.corpus / "pairs.tsv").is_file():
        sys.exit(f"{args.corpus}: no pairs.tsv here; give the corpus folder")
    texts, pairs = load(args.corpus)
    labels = Counter(p[2] for p in pairs)
    print(
        f"corpus: {len(texts)} texts, {len(pairs)} pairs ({labels['SAME']} SAME, "
        f"{labels['DIFFERENT']} DIFFERENT)"
    )
    orders = [("sorted", sorted(texts))]
    for seed in range(1, args.orders + 1):
        shuffled = sorted(texts)
        random.Random(seed).shuffle(shuffled)
        orders.append((f"shuffle {seed}", shuffled))
    for name, order in orders:
        with tempfile.TemporaryDirectory(prefix="newsmon-quality-") as folder:
            story = group(texts, order, Path(folder))
        precision, recall, wrong = score(pairs, story)
        natural = [p for p in pairs if p[3] != "extraction-variant"]
        _, natural_recall, _ = score(natural, story)
        print(
            f"{name:<10} precision {precision:.3f}  recall {recall:.3f}  "
            f"(natural SAME pairs only: {natural_recall:.3f})  misjudged {len(wrong)}"
        )
        if args.verbose:
            for line in wrong:
                print(f"    {line}")


if __name__ == "__main__":
    main()
