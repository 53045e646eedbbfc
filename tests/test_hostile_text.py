"""Hostile text: runs of 200,000 characters with no space, and sentences built to make patterns backtrack.

A crawled page or an imported file may hold one enormous token (trafilatura keeps 100 kB ones), and the web
server picks briefing sentences from stored text while it answers. Every analysis function must read such
text in about the time ordinary text takes. Each is timed against a budget far above what it needs (well under
a second on an idle core) and far below what a pattern backtracking over the run takes (minutes; hours for
"a@a@a@..."); a deadline stops a runaway call, so that a regression fails the test instead of hanging it.
The enrichment and the briefing run through their real code on cheap fake embedders.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from test_search_unit import WordsEmbedder

from shadowmatch_kb.brief.compose import build_briefing
from shadowmatch_kb.brief.readability import grade_level
from shadowmatch_kb.enrich.clauses import split_segments
from shadowmatch_kb.enrich.keywords import extract_keywords
from shadowmatch_kb.enrich.pipeline import Enricher
from shadowmatch_kb.enrich.sectors import SectorResolver
from shadowmatch_kb.enrich.signals import extract_signals
from shadowmatch_kb.enrich.summary import summarise
from shadowmatch_kb.enrich.yake import yake_keywords
from shadowmatch_kb.formats.signals_post import looks_like_signals_post, parse_signals_post
from shadowmatch_kb.index.flat import FlatIndex
from shadowmatch_kb.index.sync import sync_index
from shadowmatch_kb.model import Item, Signal
from shadowmatch_kb.search.searcher import Searcher
from shadowmatch_kb.store.sqlite import SqliteStore
from shadowmatch_kb.text.sentences import (
    MAX_TOKEN_CHARS,
    has_long_token,
    is_junk_sentence,
    split_sentences,
    without_long_tokens,
)

# Generous for a loaded two-core machine: the slowest call here takes about 0.3 s on an idle core.
BUDGET_S = 2.0
DEADLINE_S = 30.0
RUN = 200_000

HOSTILE = {
    "one 200k token": "x" * RUN,
    "a@a@a@": "a@" * (RUN // 2),
    "dots": "." * RUN,
    "a URL": "http://" + "x" * RUN,
    "address-like": "a@b." * (RUN // 4),
    "figures": "1," * (RUN // 2),
    "brackets": "(" * RUN,
    "spaces": " " * RUN,
    "initials": "A. " * (RUN // 3),
}
PROSE = "Banks will automate many clerical jobs by 2030, and workers could lose their roles to AI tools."
TAIL = "Nurses in hospitals now check drafts that AI scribes write, which saves them hours every week."


def _contexts(junk: str) -> dict[str, str]:
    """The junk alone, between two sentences, and glued inside a word of a sentence."""
    return {"alone": junk, "between": f"{PROSE} {junk} {TAIL}", "inside": f"{PROSE[:40]}{junk}{PROSE[40:]} {TAIL}"}


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise TimeoutError in the block after ``seconds`` (the regex engine checks for signals as it runs)."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _seconds(call: Callable[[], object]) -> float:
    with _deadline(DEADLINE_S):
        start = time.perf_counter()
        call()
        return time.perf_counter() - start


def _assert_fast(call: Callable[[str], object], junk: str) -> None:
    for where, text in _contexts(junk).items():
        taken = _seconds(lambda text=text: call(text))
        assert taken < BUDGET_S, f"{where}: {taken:.2f} s"


EMBEDDER = WordsEmbedder()
ANALYSES: dict[str, Callable[[str], object]] = {
    "split_sentences": split_sentences,
    "is_junk_sentence": is_junk_sentence,
    "summarise": lambda text: summarise(text, EMBEDDER),
    "extract_keywords": lambda text: extract_keywords(text, EMBEDDER, title=text),
    "yake_keywords": yake_keywords,
    "extract_signals": lambda text: extract_signals(text, EMBEDDER, title=text),
    "sectors": lambda text: SectorResolver().classify(text, title=text),
    "grade_level": grade_level,
    "parse_signals_post": lambda text: looks_like_signals_post(text) and parse_signals_post(text),
}


@pytest.mark.parametrize("junk", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("analysis", ANALYSES.values(), ids=ANALYSES.keys())
def test_each_analysis_reads_200k_characters_of_junk_fast(analysis, junk) -> None:
    _assert_fast(analysis, junk)


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher(WordsEmbedder())


@pytest.mark.parametrize("junk", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_enrichment_of_an_item_with_junk_is_fast_and_keeps_its_text(enricher, junk) -> None:
    for where, text in _contexts(junk).items():
        item = Item(id="0" * 32, title=f"AI changes clerical work {junk[:1000]}", text=text)
        found: list[Item] = []
        taken = _seconds(lambda item=item, found=found: found.append(enricher.enrich(item)))
        assert taken < BUDGET_S, f"{where}: {taken:.2f} s"
        enriched = found[0]
        assert enriched.text == text  # analysis skips the junk; the stored text keeps it
        assert not has_long_token(enriched.summary) and all(len(k) <= MAX_TOKEN_CHARS for k in enriched.keywords)
        assert all(row.evidence in text and not has_long_token(row.evidence) for row in enriched.signals)


def test_a_briefing_over_items_full_of_junk_is_fast(tmp_path) -> None:
    store = SqliteStore(":memory:")
    items = [
        Item(
            f"{n:032x}",
            "AI scribes change nursing work in hospitals",
            published="2024-05-01",
            sectors=["nursing"],
            summary=f"{TAIL} {junk} {PROSE}",
            text=f"{PROSE} Nursing roles will grow as hospitals hire more staff. {junk}{TAIL} {junk}",
            signals=[Signal("AI scribes draft clinical notes", "manual notes to AI drafts", "2025", "cost")],
        )
        for n, junk in enumerate(HOSTILE.values(), start=1)
    ]
    store.put_items((item, f"hash-{item.id}", item.id, None) for item in items)
    embedder = WordsEmbedder()
    index = FlatIndex(tmp_path / "flat", embedder.model_name, embedder.dimension)
    sync_index(store, index, lambda: embedder)
    parts = {"searcher": Searcher(store, index, lambda: embedder), "store": store, "embedder": embedder}
    question = "How will AI change nursing work in hospitals?"
    found = []
    taken = _seconds(
        lambda: found.append(build_briefing(question, **parts, resolver=SectorResolver(), today=date(2024, 6, 1)))
    )
    assert taken < BUDGET_S, f"{taken:.2f} s"
    assert found[0].evidence_count and not any(has_long_token(c.text) for c in found[0].overview)
    store.close()


@pytest.mark.parametrize(
    ("call", "text"),
    [
        # "by" and capitalised names: tried as every split of three 200-letter words into four names (seconds).
        (is_junk_sentence, "by " + ("A" * MAX_TOKEN_CHARS + " ") * 3 + "wrote it today."),
        # An aside of many list items: every way to share ", and x" among two patterns (exponential).
        (split_segments, "AI, which helps" + ", and x" * 26 + " end."),
        (split_segments, "AI, which helps" + (", " + " " * 30 + "x") * 8 + " end."),
        # Five "\s*" in a row after a post's date: every split of 160 spaces among them (30 s).
        (parse_signals_post, "# __T__, from ([20240102](https://e.org/p)" + " " * 160 + "x\n\n## Summary\n\nS.\n"),
        (parse_signals_post, "# T" + " " * RUN + "x\n\n## Summary\n\nS.\n\n## Closest\n\n* " + "[" * RUN + "\n"),
    ],
    ids=["byline", "aside of list items", "aside with runs of spaces", "post date", "post heading and links"],
)
def test_sentences_built_to_backtrack_are_read_fast(call, text) -> None:
    taken = _seconds(lambda: call(text))
    assert taken < BUDGET_S, f"{taken:.2f} s"


def test_long_tokens_are_dropped_for_analysis_and_words_kept() -> None:
    long = "x" * (MAX_TOKEN_CHARS + 1)
    assert without_long_tokens(f"AI {long} jobs") == "AI   jobs"
    assert without_long_tokens("x" * MAX_TOKEN_CHARS) == "x" * MAX_TOKEN_CHARS
    assert has_long_token(f"a {long}") and not has_long_token("a " + "x" * MAX_TOKEN_CHARS)
    assert is_junk_sentence(f"Banks will automate {long} many clerical jobs by 2030.")


def test_the_link_test_still_finds_web_and_mail_addresses() -> None:
    stem = "Banks will automate many clerical jobs, says the report at"
    for link in ("https://example.org/jobs", "www.example.org", "jobs@example.org.", "a@b.c"):
        assert is_junk_sentence(f"{stem} {link} today.")
    for not_link in ("@example.org", "a@b", "a@.b", "a.b@c"):
        assert not is_junk_sentence(f"{stem} {not_link} today."), not_link


def test_misread_utf8_is_read_again_and_good_text_left_alone() -> None:
    from shadowmatch_kb.text.mojibake import repair_mojibake

    # As in the ILO's published task statements: UTF-8 bytes once read as Mac Roman (or Windows-1252).
    assert repair_mojibake("Observing patients‚Äô condition") == "Observing patients’ condition"
    assert repair_mojibake("caf√© and caf\u00c3\u00a9") == "café and café"
    for good in ("naïve café résumé", "Zürich — “ok”", "日本語のテキスト", "Straße", "plain ASCII"):
        assert repair_mojibake(good) == good
