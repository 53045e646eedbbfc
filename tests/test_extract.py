"""extract_article on saved real pages: Zyte benchmark article bodies and newspaper4k metadata."""

from __future__ import annotations

import gzip
import json
import logging
import re
from collections import Counter
from functools import cache

import pytest
from conftest import require_shared

from shadowmatch_kb.errors import InputError
from shadowmatch_kb.extract.html import MIN_ARTICLE_WORDS, ExtractedArticle, extract_article
from shadowmatch_kb.fetch.decode import decode_body

# Five pages from different publishers; each scores well above the floor with the chosen settings,
# so a drop below it means extraction really got worse.
ZYTE_PAGES = [
    "04a6711caa7c687592777718866e781e976e0fe684faebe8b3cedcef8cd0ea34",  # New York Times opinion
    "06e5123e4ef7cfb4533250dc45d1e03d0838fc66223f45c583c4d12f48b4da85",  # VentureBeat
    "16c30add7e96315e9cc957d85aa876ccb6b70055f0ddab51547a586117cc1f56",  # Vox
    "374ac9a59a85196cdacc1679fb8993521a7b7d9d6533720f102300be1c7face4",  # CNBC
    "57d46c9d751e3fd3ffaf3ede7ac20cebd30eacb5ea78e1a6aa0a72059244e7ca",  # Reuters
]
F1_FLOOR = 0.8
_TOKEN = re.compile(r"\w+")


def shingle_f1(truth: str, predicted: str, n: int = 4) -> float:
    """F1 over multisets of n-token shingles, the Zyte benchmark's per-page measure."""

    def shingles(text: str) -> Counter[tuple[str, ...]]:
        tokens = _TOKEN.findall(text)
        return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))

    true_counts, predicted_counts = shingles(truth), shingles(predicted)
    overlap = sum((true_counts & predicted_counts).values())
    if overlap == 0:
        return 0.0
    precision = overlap / sum(predicted_counts.values())
    recall = overlap / sum(true_counts.values())
    return 2 * precision * recall / (precision + recall)


def test_shingle_f1_is_a_real_measure() -> None:
    text = "one two three four five six seven eight"
    assert shingle_f1(text, text) == 1.0
    assert shingle_f1(text, "nothing in common at all here") == 0.0
    assert 0.5 < shingle_f1(text, text + " menu login subscribe now") < 1.0


@cache
def _zyte_truth() -> dict[str, dict[str, str]]:
    path = require_shared("extraction", "zyte", "ground-truth.json")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page_id", ZYTE_PAGES, ids=[page[:8] for page in ZYTE_PAGES])
def test_zyte_article_body(page_id: str) -> None:
    truth = _zyte_truth()[page_id]
    html_path = require_shared("extraction", "zyte", "html", f"{page_id}.html.gz")
    html = gzip.decompress(html_path.read_bytes()).decode("utf-8")

    article = extract_article(html, url=truth["url"])

    score = shingle_f1(truth["articleBody"], article.text)
    assert score >= F1_FLOOR, f"F1 {score:.3f} on {truth['url']}"
    assert article.title and 10 < len(article.title) < 300
    assert article.title not in ("", article.text)
    assert article.url and article.url.startswith("http")


def _newspaper_page(name: str) -> tuple[str, dict]:
    html_path = require_shared("extraction", "newspaper4k", "html", f"{name}.html.gz")
    meta_path = require_shared("extraction", "newspaper4k", "metadata", f"{name}.json")
    html = decode_body(gzip.decompress(html_path.read_bytes()), None)
    return html, json.loads(meta_path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["cnn_article", "fox13now_001", "wired_001", "cleveland.com1", "japanese_article2"])
def test_newspaper4k_title_date_language(name: str) -> None:
    html, expected = _newspaper_page(name)

    article = extract_article(html, url=expected["url"])

    assert article.title == expected["title"].strip()
    assert article.published == expected["publish_date"][:10]
    if expected.get("meta_lang"):
        assert article.language is not None
        assert article.language.split("-")[0] == expected["meta_lang"]
    first_paragraph = next(line for line in expected["text"].splitlines() if len(line) > 80)
    assert first_paragraph[:60] in article.text


def test_cnn_article_in_full() -> None:
    html, expected = _newspaper_page("cnn_article")

    article = extract_article(html, url=expected["url"])

    assert isinstance(article, ExtractedArticle)
    assert article.site == "CNN"
    assert article.author and "Dana A Ford" in article.author
    assert article.description == expected["meta_description"]
    assert article.url == expected["canonical_link"]
    assert shingle_f1(expected["text"], article.text) >= 0.9


def test_metadata_from_a_small_page() -> None:
    html = """<html lang="pt-BR"><head><title>Robôs no escritório</title>
    <meta name="author" content="Ana Souza"><meta name="description" content="Como a IA muda o trabalho.">
    <meta property="article:published_time" content="2024-03-05T09:00:00Z"></head>
    <body><article><h1>Robôs no escritório</h1>
    <p>A automação chega às tarefas administrativas e muda o dia a dia de quem trabalha em escritórios.</p>
    <p>Empresas relatam que a revisão de documentos leva metade do tempo com ferramentas de IA.</p>
    </article></body></html>"""

    article = extract_article(html, url="https://example.com/robos")

    assert article.title == "Robôs no escritório"
    assert article.author == "Ana Souza"
    assert article.published == "2024-03-05"
    assert article.language == "pt-br"
    assert article.description == "Como a IA muda o trabalho."
    assert "revisão de documentos" in article.text


@pytest.mark.parametrize(
    "html",
    ["", "   \n", "<html><head><title>x</title></head><body></body></html>", "\x00\x01garbage\x02", "<<<>>>"],
)
def test_no_article_is_an_input_error(html: str) -> None:
    with pytest.raises(InputError, match="no article text found") as caught:
        extract_article(html)
    assert caught.value.source == "html"


def test_input_error_names_the_url() -> None:
    with pytest.raises(InputError) as caught:
        extract_article("<html><body></body></html>", url="https://example.com/empty")
    assert caught.value.source == "https://example.com/empty"


def test_extraction_is_quiet(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(InputError):
        extract_article("<html><body></body></html>")
    extract_article("<html><body><p>" + "Clerical work is changing with AI tools. " * 5 + "</p></body></html>")
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")
    noisy = [r for r in caplog.records if r.name.split(".")[0] in ("trafilatura", "htmldate", "courlan")]
    assert [r for r in noisy if r.levelno >= logging.WARNING] == []
    assert logging.getLogger("trafilatura").level == logging.NOTSET  # restored after the call


@pytest.mark.parametrize(
    ("title", "site", "expected"),
    [
        ("Takeaways from the civil fraud trial | CNN Politics", "CNN", "Takeaways from the civil fraud trial"),
        ("Court files expose a spy operation -- Sott.net", "Sott.net", "Court files expose a spy operation"),
        ("Madrid decides on the appeal » Local » Noticias » Ultima Hora Mallorca", "UHmallorca",
         "Madrid decides on the appeal"),
        ("LinkNaija | Nigeria's news: Actress looks stunning in new photos", "LinkNaija | Nigeria's news",
         "Actress looks stunning in new photos"),
        ("Nurses: a new role on the ward", "Nurses Weekly", "Nurses: a new role on the ward"),
        ("Bank clerks - what changes next", "Reuters", "Bank clerks - what changes next"),
        ("Yahoo UK", "Yahoo", "Yahoo UK"),
        ("Robots | WIRED", "WIRED", "Robots | WIRED"),  # too little headline would be left
        ("A headline without a site", None, "A headline without a site"),
    ],
)  # fmt: skip
def test_site_name_is_stripped_from_titles(title, site, expected):
    from shadowmatch_kb.extract.html import strip_site_name

    assert strip_site_name(title, site) == expected


# --- issue 17: a precision text under the article minimum falls back to the default preset --------

# Barron's: the precision preset keeps only the 39-word reprint notice, the default preset the article.
BARRONS = "f8ff621a0b9b7646cc0d57d37416feabba2bf78ef5dd0bfc5b080f9f97bbe584"


def test_a_short_precision_text_falls_back_to_the_default_preset() -> None:
    truth = _zyte_truth()[BARRONS]
    html_path = require_shared("extraction", "zyte", "html", f"{BARRONS}.html.gz")
    html = gzip.decompress(html_path.read_bytes()).decode("utf-8")

    article = extract_article(html, url=truth["url"])

    assert len(_TOKEN.findall(article.text)) >= MIN_ARTICLE_WORDS  # the crawler no longer skips it as short
    assert "cut full-year sales growth guidance" in article.text
    assert shingle_f1(truth["articleBody"], article.text) >= F1_FLOOR
    from shadowmatch_kb.crawl.pages import analyse_page

    page = analyse_page(html.encode(), "utf-8", truth["url"], "text/html", want_links=False)
    assert page.skip_reason is None, page.skip_reason


def _fake_presets(monkeypatch: pytest.MonkeyPatch, precise_words: int, default_words: int) -> list[bool]:
    """Make trafilatura's presets return texts of these lengths; the list records the presets asked for."""
    import trafilatura
    from trafilatura.settings import Document

    asked: list[bool] = []

    def bare_extraction(tree, *, favor_precision: bool, **kwargs):
        asked.append(favor_precision)
        document = Document()
        words = precise_words if favor_precision else default_words
        document.text = " ".join(["precise" if favor_precision else "default"] * words)
        return document

    monkeypatch.setattr(trafilatura, "bare_extraction", bare_extraction)
    return asked


@pytest.mark.parametrize(
    ("precise_words", "default_words", "chosen", "asked"),
    [
        (3, 619, "default", [True, False]),  # the page: 3 words against 619
        (49, 50, "default", [True, False]),
        (50, 619, "precise", [True]),  # at the minimum the precision text stands, as before
        (0, 60, "default", [True, False]),  # an empty precision text, as before
        (30, 20, "precise", [True, False]),  # the default preset finds less
        (20, 45, "precise", [True, False]),  # both short: skipped either way, the precision text is cleaner
    ],
)
def test_which_preset_is_kept(monkeypatch: pytest.MonkeyPatch, precise_words, default_words, chosen, asked) -> None:
    presets = _fake_presets(monkeypatch, precise_words, default_words)
    article = extract_article("<html><body><p>anything</p></body></html>")
    assert article.text.split()[0] == chosen
    assert presets == asked


def test_the_fallback_does_not_bring_back_a_list_of_links() -> None:
    # The precision preset keeps only the heading of a headline list; the default preset's text is
    # mostly the links' own text, so the short text stands and the crawler skips the page as before.
    links = "".join(
        f'<li><a href="/story/{i}">Story number {i} about work</a> - a teaser line.</li>' for i in range(30)
    )
    html = f"<html><body><h1>All stories</h1><ul>{links}</ul></body></html>"
    assert extract_article(html, url="https://news.example/all").text == "All stories"
