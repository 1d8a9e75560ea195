"""Event stories on a labelled corpus: pair precision and recall, alerts per event.

    .venv/bin/python bench/events.py ../shared/corpus/events
    .venv/bin/python bench/events.py ../shared/corpus/events --threshold 0.2 --window 2d

CORPUS_DIR holds ``items.tsv`` (id, cluster, lang, published, source, url) and
``items/<id>.txt`` (line 1 the title, then the lead). Every item runs through the
clusterer (monitor/stories/events.py) in publication order, with document frequencies
counted as they arrive, as the daemon counts them in ``term_counts``; the candidate
events are every event with a member within the window of the item's time, as the
store finds them.

The corpus gives all members of a cluster the same time (the roundup's). Each item's
time is spread deterministically over the preceding day (from a hash of its id), so the
timestamp alone cannot do the work and reports of different events interleave.

Printed: pair precision and recall (pairs of items in one predicted event that share /
do not share a gold cluster), wrong merges (items that joined an event holding none of
their gold cluster), and alerts per gold event (distinct predicted events among its
items), for events and for copies alone (monitor/stories/copies.py). Only figures are
printed, never corpus text.
"""

from __future__ import annotations

import argparse
import csv
import sys
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.config.values import parse_duration  # noqa: E402
from monitor.stories import copies, events  # noqa: E402

DAY = 86400


@dataclass(frozen=True)
class Item:
    id: str
    cluster: str
    language: str
    at: datetime
    title: str
    text: str


def load(corpus: Path) -> list[Item]:
    items = []
    with (corpus / "items.tsv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            title, _, text = (
                (corpus / "items" / f"{row['id']}.txt").read_text("utf-8").partition("\n")
            )
            roundup = datetime.fromisoformat(row["published"].replace("Z", "+00:00"))
            spread = zlib.crc32(row["id"].encode()) % DAY
            at = roundup - timedelta(seconds=spread)
            items.append(Item(row["id"], row["cluster"], row["lang"], at, title, text))
    return sorted(items, key=lambda i: (i.at, i.id))


def cluster_events(items: list[Item], threshold: float, window: float) -> dict[str, int]:
    documents: Counter[int] = Counter()
    members: dict[int, list[events.Profile]] = defaultdict(list)
    placed: dict[str, int] = {}
    for n, item in enumerate(items):
        counts = events.terms(item.title, item.text, item.language)
        mine = events.profile(counts, documents, n, item.at)
        reach = timedelta(seconds=window)
        keys = set(events.index_keys(mine))
        candidates = [  # as the store finds them: a recent member shares an index key
            events.Candidate(event, [m for m in found if abs(m.at - item.at) <= reach])
            for event, found in members.items()
            if any(
                abs(m.at - item.at) <= reach and keys.intersection(events.index_keys(m))
                for m in found
            )
        ]
        event = events.pick_event(mine, candidates, threshold)
        event = len(members) if event is None else event
        members[event].append(mine)
        placed[item.id] = event
        documents.update(counts.keys())
    return placed


def cluster_copies(items: list[Item], window: float) -> dict[str, int]:
    placed: dict[str, int] = {}
    texts: list[tuple[Item, int]] = []
    for item in items:
        mine = copies.fingerprint(item.text)
        recent = [
            (story, other.text)
            for other, story in texts
            if item.at - other.at <= timedelta(seconds=window)
        ]
        story = copies.pick_story(mine.shingles, recent[::-1]) if mine.is_groupable else None
        story = len(texts) if story is None else story
        texts.append((item, story))
        placed[item.id] = story
    return placed


def score(items: list[Item], placed: dict[str, int]) -> dict[str, float]:
    gold = {i.id: i.cluster for i in items}
    together = same = gold_pairs = 0
    for a, b in combinations([i.id for i in items], 2):
        is_gold = gold[a] == gold[b]
        is_predicted = placed[a] == placed[b]
        gold_pairs += is_gold
        together += is_predicted
        same += is_gold and is_predicted
    seen: dict[int, set[str]] = defaultdict(set)
    wrong = 0
    for item in items:  # in arrival order
        earlier = seen[placed[item.id]]
        wrong += bool(earlier) and item.cluster not in earlier
        earlier.add(item.cluster)
    per_event: dict[str, set[int]] = defaultdict(set)
    for item in items:
        per_event[item.cluster].add(placed[item.id])
    return {
        "precision": same / together if together else 1.0,
        "recall": same / gold_pairs if gold_pairs else 1.0,
        "wrong merges": wrong,
        "alerts per event": sum(len(v) for v in per_event.values()) / len(per_event),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--threshold", type=float, default=0.225)
    parser.add_argument("--window", default="2d")
    args = parser.parse_args()
    window = parse_duration(args.window)
    items = load(args.corpus)
    events_n = len({i.cluster for i in items})
    print(f"{len(items)} items, {events_n} events")
    for name, placed in (
        ("events", cluster_events(items, args.threshold, window)),
        ("copies", cluster_copies(items, window)),
    ):
        figures = score(items, placed)
        print(
            f"{name:7} precision {figures['precision']:.3f}  recall {figures['recall']:.3f}  "
            f"wrong merges {figures['wrong merges']:.0f}  "
            f"alerts per event {figures['alerts per event']:.2f}"
        )


if __name__ == "__main__":
    main()
