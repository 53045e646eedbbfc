"""The web page in a real browser: Debian's chromium driven by playwright, against `smkb serve` on loopback.

A mentor types a question on the home page, reads the briefing with its citations, follows one to the
item it cites, prints the briefing to PDF (one or two pages) and the page is photographed at phone and
laptop widths (kept under test-artefacts/). Skipped with the reason where chromium or playwright is
absent; CI installs both and sets SMKB_REQUIRE_BROWSER=1, so there a missing browser fails instead.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import DEMO, require_shared, smkb, smkb_serve

from shadowmatch_kb.brief.retrieve import FALLBACK_FLOOR

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = Path(__file__).resolve().parents[1] / "test-artefacts"
QUESTION = "I'm a nurse on a busy ward. How will AI change my job?"


def _browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is absent (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is absent (pip install playwright)"
    return None


@pytest.fixture(scope="module")
def server(demo_kb):
    missing = _browser_missing()
    if missing:
        if os.environ.get("SMKB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"the browser test must run here: {missing}")
        pytest.skip(missing)
    with smkb_serve(demo_kb) as served:
        yield served.base


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


def _pdf_pages(pdf: bytes) -> int:
    # Each page of a PDF is one object of /Type /Page (the page tree's root is /Type /Pages).
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


@pytest.mark.slow
def test_a_mentor_asks_reads_follows_a_citation_and_prints(server, browser) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{server}/")
    assert page.title().startswith("Ask how your work will change")
    page.fill("#q", QUESTION)
    page.press("#q", "Enter")  # the keyboard is enough: no mouse needed
    page.wait_for_selector("h1")
    assert page.inner_text("h1") == f"Briefing: {QUESTION}"
    citations = page.locator("sup.cites a")
    assert citations.count() >= 3
    assert page.locator("table.signals tbody tr").count() >= 3
    page.screenshot(path=str(ARTEFACTS / "brief-laptop.png"), full_page=True)
    briefing_url = page.url

    pdf = page.pdf(format="A4")
    (ARTEFACTS / "brief.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and 1 <= _pdf_pages(pdf) <= 2, _pdf_pages(pdf)

    # A citation leads to its source in the list, and the source to the item it is.
    citations.first.click()
    source = page.locator("ol.sources li").first
    source.locator("a").first.click()
    page.wait_for_load_state()
    assert "/items/" in page.url and page.locator("h1").inner_text()
    assert page.locator("table.signals").count() == 1
    page.screenshot(path=str(ARTEFACTS / "item-laptop.png"), full_page=True)

    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    phone.goto(briefing_url)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # no sideways scroll
    phone.screenshot(path=str(ARTEFACTS / "brief-phone.png"), full_page=True)
    assert errors == []  # nothing was blocked by the page's own security policy or failed to load


# ----- every evaluation question, printed --------------------------------------------------------

EVAL_SET = Path(__file__).resolve().parents[1] / "scripts" / "eval_brief_set.json"
# The four mentors the briefing must serve, asked in words of our own (not the evaluation's), with the ISCO-08
# groups that are right for them; "call centre" fits the contact-centre clerks and salespeople alike, as in
# scripts/eval_occupations.py.
MENTORS = {
    "I'm a plumber, I fix boilers and leaks in people's homes. How will AI change my job?": ("7126",),
    "I work in a call centre answering customer calls all day. Will chatbots replace me?": ("4222", "5244"),
    "I'm an accountant for small businesses, doing their books and tax returns. What will AI change?": ("2411",),
    "I'm a translator, turning German contracts into English. Is machine translation the end of my job?": ("2643",),
}


@pytest.fixture(scope="module")
def real_server(tmp_path_factory, server):
    """`smkb serve` on the demo corpus, the real Signals posts and every public occupation dataset."""
    posts = require_shared("signals_posts")
    occupations = require_shared("occupations")
    kb = tmp_path_factory.mktemp("real_kb")
    assert smkb("ingest", str(DEMO), str(posts), kb=kb).exit_code == 0
    imported = smkb("occupations", "import", *map(str, sorted(occupations.iterdir())), kb=kb)
    assert imported.exit_code == 0, imported.stderr
    with smkb_serve(kb) as served:
        yield served.base


@pytest.mark.slow
def test_every_evaluation_question_prints_on_two_pages(real_server, browser) -> None:
    questions = [q["question"] for q in json.loads(EVAL_SET.read_text(encoding="utf-8"))["questions"]]
    assert len(questions) >= 40
    page = browser.new_page()
    over = {}
    for question in [*questions, *MENTORS]:
        page.goto(f"{real_server}/brief?{urlencode({'q': question})}")
        pages = _pdf_pages(page.pdf(format="A4"))
        if not 1 <= pages <= 2:
            over[question] = pages
    assert over == {}


@pytest.mark.slow
@pytest.mark.parametrize("question", list(MENTORS))
def test_four_mentors_get_their_occupation_their_items_and_a_plain_word_where_there_are_none(
    real_server, question
) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{real_server}/api/brief?{urlencode({'q': question})}", timeout=60) as answer:
        found = json.loads(answer.read())
    assert found["occupations"] and found["occupations"][0]["isco"] in MENTORS[question]
    # "Is this you?": the close others, each a link on the page; none but close ones, and no managers offered to
    # someone who runs nothing (the translator was offered "Professional services managers" through ESCO's labels).
    alternatives, top_score = found["alternatives"], found["occupations"][0]["score"]
    assert all(a["score"] >= 0.7 * top_score and not a["isco"].startswith("1") for a in alternatives)
    assert alternatives or top_score >= 0.95  # none only where the match is sure: a title said outright
    assert all(f.get("plain") for f in found["occupations"][0]["exposure"] if f["measure"] != "description")
    coverage = found["coverage"]
    if "plumber" in question:  # nothing in these items is about plumbing: the briefing says so first
        assert coverage.startswith(("No item in the knowledge base names plumbers", "The knowledge base holds nothing"))
    else:
        # Items about this work are cited first (the real posts hold studies of support agents, of translation
        # and of finance jobs), and the briefing says what it rests on: items likely on the work, or, when none is
        # likely enough, the closest the knowledge base holds.
        assert found["sources"]
        assert "This briefing rests on" in coverage or "The closest items found, quoted below" in coverage
        first = found["sources"][0]["title"].lower()
        assert any(word in first for word in ("chatbot", "support", "customer", "translat", "language", "financ")), (
            first
        )


@pytest.mark.slow
def test_is_this_you_re_asks_with_the_occupation_picked(real_server, browser) -> None:
    question = next(q for q in MENTORS if "call centre" in q)
    page = browser.new_page()
    page.goto(f"{real_server}/brief?{urlencode({'q': question})}")
    first = page.locator("h2", has_text="Your occupation").inner_text()
    alternative = page.locator("p.alternatives a").first
    picked = alternative.inner_text()  # the group's everyday name, without its code
    alternative.click()
    page.wait_for_load_state()
    assert "occupation=" in page.url and page.locator("h1").inner_text() == f"Briefing: {question}"
    now = page.locator("h2", has_text="Your occupation").inner_text()
    assert now != first and now == f"Your occupation: {picked}" and not re.search(r"\(\d{4}\)", picked)
    # A group that is no ISCO-08 unit group of the imported data is a clear 400, not a guess.
    answer = page.goto(f"{real_server}/brief?{urlencode({'q': question, 'occupation': '0000'})}")
    assert answer is not None and answer.status == 400


@pytest.mark.slow
def test_a_job_title_typed_on_the_page_re_asks_with_that_occupation(real_server, browser) -> None:
    # A development job description whose words alone name another group (see test_occupations.py).
    question = (
        "I drive a small machine that picks up pallets, loading lorries at the bay and stacking goods up to the top of "
        "the racking in a distribution centre. How will AI change my job?"
    )
    page = browser.new_page()
    page.goto(f"{real_server}/brief?{urlencode({'q': question})}")
    first = page.locator("h2", has_text="Your occupation").inner_text()
    page.fill("#job-title", "forklift driver")
    page.click("form.retitle button")
    page.wait_for_load_state()
    assert "occupation=forklift+driver" in page.url and page.locator("h1").inner_text() == f"Briefing: {question}"
    now = page.locator("h2", has_text="Your occupation").inner_text()
    assert now != first and now == "Your occupation: Lifting truck operators"
    # The home page takes the title with the question, for a first briefing that finds it.
    page.goto(real_server)
    page.fill("#q", question)
    page.fill("#occupation", "forklift driver")
    page.press("#occupation", "Enter")
    page.wait_for_load_state()
    assert page.locator("h2", has_text="Your occupation").inner_text() == now
    # Printed, the form is not there; a title too long to be one is a clear 400.
    page.emulate_media(media="print")
    assert not page.locator("form.retitle").is_visible()
    answer = page.goto(f"{real_server}/brief?{urlencode({'q': question, 'occupation': 'x' * 81})}")
    assert answer is not None and answer.status == 400


@pytest.mark.slow
def test_search_reads_a_person_speaking_of_their_work_as_the_briefing_does(real_server) -> None:
    import urllib.request

    def get(path: str, **query: str) -> dict:
        with urllib.request.urlopen(f"{real_server}{path}?{urlencode(query)}", timeout=60) as answer:
            return json.loads(answer.read())

    question = next(q for q in MENTORS if "accountant" in q)
    briefing = get("/api/brief", q=question)
    results = get("/api/search", q=question)["results"]
    # The item the briefing finds most likely about this work leads the search too, scored by its estimated
    # relevance (at least FALLBACK_FLOOR), where a fused rank alone scores at most 2 / 61, about 0.033.
    assert briefing["sources"] and results[0]["id"] == briefing["sources"][0]["id"]
    assert results[0]["score"] >= FALLBACK_FLOOR > 0.034
    # A subject looked up, not a person speaking of their work, is searched by words and meaning alone.
    subject = get("/api/search", q="chatbots in customer service")["results"]
    assert subject and all(r["score"] < 0.034 for r in subject)
