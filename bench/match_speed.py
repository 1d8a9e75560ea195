"""Matching throughput at 10, 1,000 and 10,000 terms, beside a naive one-regex-per-term loop.

    .venv/bin/python bench/match_speed.py [CORPUS_DIR] [--mb 4] [--sizes 10,1000,10000] [--plain]

The text is the corpus' items (``CORPUS_DIR/items/*.txt``, e.g. ../shared/corpus/matching)
repeated up to ``--mb`` megabytes, or generated words when no folder is given (a harsher
case: its made-up names recur in many texts, so nearly every article matches). The terms
are the shipped watchlists' words plus made-up names, with one term in fifty taken from the
text itself so that there are hits to report; one in ten is a phrase, one in twenty a
prefix wildcard. The watchlists have inflection and transliteration on, as the shipped
ones do (``--plain``: off), and each article is matched under the default
``match_timeout`` guard, as the daemon matches it. Both matchers run on one core over the
same articles; MB/s counts the UTF-8 bytes of title and text per second of this process's
CPU time (so that other load on the machine does not skew the figures; wall-clock MB/s is
printed beside it). The naive loop is timed on a slice when it would take long.

Each article first gets its language as the daemon gives it, once, where the article is
read (``monitor.extract.language.with_language``); that step is timed on its own and
printed above the table, and the matcher's figures are for articles that have it.
``--rounds N`` times each matcher N times and prints the median.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from pathlib import Path

from rich.progress import Progress

from monitor.config.settings import Settings
from monitor.extract.language import with_language
from monitor.match.watchlists import compile_watchlists, find_matches
from monitor.model import Article, TextSource

TEXT_SYLLABLES = [
    "a",
    "be",
    "ce",
    "de",
    "e",
    "fe",
    "ge",
    "he",
    "i",
    "je",
    "le",
    "me",
    "ne",
    "o",
    "pe",
    "re",
    "se",
    "te",
    "u",
    "we",
]
SYLLABLES = [
    "ka",
    "ro",
    "mi",
    "sel",
    "van",
    "dor",
    "tu",
    "lin",
    "bre",
    "os",
    "gar",
    "ni",
    "che",
    "vo",
    "lak",
    "zu",
    "mer",
    "tan",
    "pol",
    "fi",
    "dra",
]


def load_text(corpus: Path | None, megabytes: float, rng: random.Random) -> list[str]:
    if corpus is not None:
        docs = [p.read_text(encoding="utf-8") for p in sorted((corpus / "items").glob("*.txt"))]
        if not any(docs):
            raise SystemExit(
                f"no text in {corpus / 'items'}/*.txt: give the matching corpus' folder"
            )
    else:
        words = ["".join(rng.choices(TEXT_SYLLABLES, k=rng.randint(1, 3))) for _ in range(20000)]
        words += [w.capitalize() for w in words[:200]]
        docs = [" ".join(rng.choices(words, k=800)) + "." for _ in range(200)]
    out: list[str] = []
    size = 0
    while size < megabytes * 1e6:
        for doc in docs:
            out.append(doc)
            size += len(doc.encode())
            if size >= megabytes * 1e6:
                break
    return out


def make_terms(count: int, docs: list[str], rng: random.Random) -> list[str]:
    shipped = ["NATO", "OSCE", "Ukraine", "Рябков", "OSZE", "НАТО", "Україна"]
    # names from the text that few articles mention, as watchlist terms usually are
    seen: dict[str, int] = {}
    for doc in dict.fromkeys(docs):
        for word in set(re.findall(r"\b[^\W\d_][^\W\d_]{4,}\b", doc)):
            if word[0].isupper():
                seen[word] = seen.get(word, 0) + 1
    vocabulary = sorted(w for w, n in seen.items() if n <= 3)
    terms = shipped[: min(count, len(shipped))]
    while len(terms) < count:
        n = len(terms)
        if n % 50 == 0 and vocabulary:
            terms.append(rng.choice(vocabulary))
        else:
            name = "".join(rng.choices(SYLLABLES, k=3)).capitalize()
            if n % 10 == 1:
                name += " " + "".join(rng.choices(SYLLABLES, k=2)).capitalize()
            terms.append(name)
    return terms


def settings_for(terms: list[str], *, plain: bool = False) -> Settings:
    queries = [f"{t}*" if i % 20 == 3 and " " not in t else t for i, t in enumerate(terms)]
    quoted = [f'"{q}"' if " " in q else q for q in queries]
    chunks = [quoted[i : i + 500] for i in range(0, len(quoted), 500)]
    lists = {
        f"w{i}": {"queries": [" OR ".join(c)], "inflect": not plain, "translit": not plain}
        for i, c in enumerate(chunks)
    }
    return Settings.model_validate({"watchlist": lists})


def naive(terms: list[str]) -> list[re.Pattern[str]]:
    return [
        re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, t.split())) + r"(?!\w)", re.IGNORECASE)
        for t in terms
    ]


def run_index(watchlists: object, articles: list[Article]) -> int:
    budget = Settings().scale.match_timeout  # as the daemon matches
    hits = 0
    for article in articles:
        hits += len(find_matches(watchlists, article, budget=budget))  # type: ignore[arg-type]
    return hits


def run_naive(patterns: list[re.Pattern[str]], articles: list[Article]) -> int:
    hits = 0
    for article in articles:
        for pattern in patterns:
            if pattern.search(article.title) or pattern.search(article.text):
                hits += 1
    return hits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, nargs="?", help="a folder with items/*.txt")
    parser.add_argument("--mb", type=float, default=4.0, help="megabytes of text per run")
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--plain", action="store_true", help="inflection and transliteration off")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per size (median)")
    args = parser.parse_args()
    rng = random.Random(7)
    docs = load_text(args.corpus, args.mb, rng)
    articles = []
    for doc in docs:
        title, _, text = doc.partition("\n")
        articles.append(Article(None, title, text, TextSource.PAGE))
    megabytes = sum(len(d.encode()) for d in docs) / 1e6
    options = "off" if args.plain else "on"
    print(f"text: {megabytes:.1f} MB in {len(articles)} articles; inflection, translit {options}")
    with_language(articles[0])  # the model's loading is not the articles'
    started = time.process_time()
    articles = [with_language(article) for article in articles]
    detect_rate = megabytes / (time.process_time() - started)
    print(f"language of each article, where it is read: {detect_rate:.1f} MB/s")
    print(
        f"{'terms':>7} {'index MB/s':>11} {'(wall)':>8} {'naive MB/s':>11} {'speed-up':>9} "
        f"{'compile s':>10}"
    )
    with Progress(transient=True) as progress:
        for size in (int(s) for s in args.sizes.split(",")):
            task = progress.add_task(f"{size} terms", total=2)  # the index, then the naive loop
            terms = make_terms(size, docs, rng)
            started = time.perf_counter()
            watchlists = compile_watchlists(settings_for(terms, plain=args.plain))
            compile_s = time.perf_counter() - started
            run_index(watchlists, articles[:20])  # warm-up: caches
            rates = []
            for _ in range(args.rounds):
                started, wall = time.process_time(), time.perf_counter()
                run_index(watchlists, articles)
                cpu_s, wall_s = time.process_time() - started, time.perf_counter() - wall
                rates.append((megabytes / cpu_s, megabytes / wall_s))
            index_rate = statistics.median(cpu for cpu, _ in rates)
            wall_rate = statistics.median(wall for _, wall in rates)
            progress.advance(task)
            patterns = naive(terms)
            share = max(1, int(len(articles) * min(1.0, 200 / size)))
            sample = articles[:share]
            sample_mb = sum(len((a.title + a.text).encode()) for a in sample) / 1e6
            started = time.process_time()
            run_naive(patterns, sample)
            naive_rate = sample_mb / (time.process_time() - started)
            progress.advance(task)
            print(
                f"{size:>7} {index_rate:>11.1f} {wall_rate:>8.1f} {naive_rate:>11.3g} "
                f"{index_rate / naive_rate:>8.1f}x {compile_s:>10.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
