"""An article's language is told once, where it is read: its text's, else the one its
page declares. Matching stems in it, and it is stored with the article."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from helpers.config import ALLOW_LOCAL
from helpers.feeds import serve_linked_page
from helpers.paths import SAMPLE_SITE
from monitor.config.settings import load
from monitor.demo.server import Site
from monitor.extract.language import with_language
from monitor.model import Article, TextSource
from monitor.pipeline.assembly import close_context, open_context, poll_once
from monitor.store.alerts import list_alerts

RUSSIAN = "Министр заявил, что переговоры с партнёрами продолжатся на следующей неделе."
GERMAN = "Der Minister sagte, die Gespräche mit den Partnern würden nächste Woche weitergehen."


def _article(body: str, language: str | None) -> Article:
    return Article(None, "", body, TextSource.PAGE, language=language)


@pytest.mark.parametrize(
    ("body", "declared", "told"),
    [
        (RUSSIAN, "en", "ru"),  # a site template's wrong default
        (GERMAN, None, "de"),  # nothing declared
        (GERMAN, "de-AT", "de-AT"),  # confirmed by the text: kept as declared
        ("Kurz.", "de-AT", "de-AT"),  # too short to tell: as declared
        ("Short.", None, None),
    ],
    ids=["wrong-declared", "undeclared", "confirmed", "short-declared", "short-unknown"],
)
def test_the_text_tells_the_language_and_a_confirmed_tag_is_kept(
    body: str, declared: str | None, told: str | None
) -> None:
    assert with_language(_article(body, declared)).language == told


def test_a_page_that_declares_the_wrong_language_is_matched_and_stored_in_its_own(
    db_url: str, site: Site, tmp_path: Path
) -> None:
    # the Russian page of the sample site, with the English a site template may declare,
    # and the name only in an inflected form ("Рябкова"): the Russian stemmer finds it
    page = (SAMPLE_SITE / "articles" / "ryabkov-ru.html").read_text(encoding="utf-8")
    assert '<html lang="ru">' in page and "Рябкова" in page
    page = re.sub(r"Рябков(?!\w)", "Министр", page.replace('<html lang="ru">', '<html lang="en">'))
    page = page.replace("{base}", site.base)
    serve_linked_page(site, page.encode(), "text/html", "/feed.xml")
    path = tmp_path / "n.toml"
    path.write_text(
        f'[database]\nurl = "{db_url}"\n[scale]\nworkers = 0\n'
        f"[http]\nallow_networks = {ALLOW_LOCAL}\n"
        f'[[feed]]\nname = "ru"\nurl = "{site.base}/feed.xml"\nalert_backlog = true\n'
        '[channel.none]\nurls = ["json://127.0.0.1:9/none"]\n'
        '[watchlist.ryabkov]\nterms = ["Рябков"]\ninflect = true\nchannels = ["none"]\n',
        encoding="utf-8",
    )
    ctx = open_context(load(path))
    try:
        poll_once(ctx)
        (alert,) = list_alerts(ctx.db, feed="ru")
        with ctx.db.connection() as conn:
            stored = conn.execute(text("SELECT language FROM articles")).scalars().all()
    finally:
        close_context(ctx)
    assert stored == ["ru"]
    assert {m.found for m in alert.matches} == {"Рябкова"}


def test_threads_that_detect_first_at_once_load_the_model_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from monitor.extract import language

    loads: list[object] = []

    def load() -> object:
        loads.append(object())
        time.sleep(0.05)  # the other threads arrive meanwhile
        return loads[-1]

    monkeypatch.setattr(language, "_model", None)
    monkeypatch.setattr(language, "_load", load)
    start = threading.Barrier(8)
    got: list[object] = []

    def detect() -> None:
        start.wait()
        got.append(language._identifier())

    threads = [threading.Thread(target=detect) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and got == loads * 8
