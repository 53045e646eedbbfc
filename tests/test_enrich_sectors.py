"""Sectors: the ISIC vocabulary, lexical matching, the real model on questions, demo posts and real articles."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest
from conftest import DEMO, require_shared

from shadowmatch_kb.enrich.sectors import SectorMatch, SectorResolver
from shadowmatch_kb.formats.signals_post import parse_signals_post
from shadowmatch_kb.text.sectors import load_sector_vocabulary

# Everyday questions a mentor might type, with the ISIC section each is about. Every section with
# everyday jobs in it (A to T) is covered, most several times and in plain, indirect words.
QUESTIONS = [
    ("I'm a nurse", "Q"),
    ("I work nights on a hospital ward looking after patients", "Q"),
    ("I'm a GP in a small town practice", "Q"),
    ("I look after old people in a care home", "Q"),
    ("I'm a dental nurse", "Q"),
    ("I work as a paramedic", "Q"),
    ("how will AI change nursing?", "Q"),
    ("I help people get dressed and washed in their own homes", "Q"),
    ("I look after toddlers at a nursery", "Q"),
    ("I listen to people's problems and help them cope with anxiety", "Q"),
    ("I hand out medicines from behind the counter", "Q"),
    ("My mum is a midwife and I want to know what will change for her", "Q"),
    ("I work in an operating theatre as a scrub nurse", "Q"),
    ("I'm a care assistant for adults with learning disabilities", "Q"),
    ("I do physio for people recovering from injuries", "Q"),
    ("I work at a bank", "K"),
    ("I sell insurance policies over the phone", "K"),
    ("I manage investment portfolios for wealthy clients", "K"),
    ("I'm a mortgage adviser", "K"),
    ("I work with cash machines and customer accounts at a branch", "K"),
    ("I assess claims after car accidents", "K"),
    ("I work behind the counter at a high street bank", "K"),
    ("I approve loans for small businesses", "K"),
    ("I price risk for an insurer", "K"),
    ("I'm a paralegal", "M"),
    ("I'm a solicitor at a small firm", "M"),
    ("I do the books for small businesses as an accountant", "M"),
    ("I design logos and brochures for clients", "M"),
    ("I work as a translator", "M"),
    ("how is generative AI changing law firms?", "M"),
    ("I argue cases in court for my clients", "M"),
    ("I draw up plans for new houses", "M"),
    ("I run experiments in a lab", "M"),
    ("I write adverts for brands", "M"),
    ("I do tax returns for self-employed people", "M"),
    ("I'm a trainee lawyer drafting contracts", "M"),
    ("I'm a vet", "M"),
    ("I do market research surveys for brands", "M"),
    ("I answer phones in a call centre", "N"),
    ("I clean offices at night", "N"),
    ("I work as a receptionist", "N"),
    ("I recruit staff for a temp agency", "N"),
    ("I take calls from angry customers all day", "N"),
    ("I guard a shopping centre at night", "N"),
    ("I book holidays for people", "N"),
    ("I'm a customer service adviser for an energy company", "N"),
    ("I do admin and data entry in an office", "N"),
    ("I am a security guard at a hospital", "N"),
    ("I drive a truck", "H"),
    ("I pick and pack orders in a warehouse", "H"),
    ("I deliver parcels for a courier company", "H"),
    ("I'm a train driver", "H"),
    ("I drive a bus in the city", "H"),
    ("what does AI mean for truck drivers?", "H"),
    ("I move pallets with a forklift", "H"),
    ("I fly planes for an airline", "H"),
    ("I load containers onto ships at the port", "H"),
    ("I drive people around with Uber", "H"),
    ("I drive a forklift in a distribution centre", "H"),
    ("I'm cabin crew on long flights", "H"),
    ("I'm a postman", "H"),
    ("I'm a taxi driver", "H"),
    ("my job is stacking shelves in a supermarket", "G"),
    ("I work on the checkout at a grocery store", "G"),
    ("I'm a car mechanic", "G"),
    ("I sell clothes in a shop", "G"),
    ("I scan shopping at the till", "G"),
    ("I sell cars at a dealership", "G"),
    ("I run an online shop on Etsy", "G"),
    ("I work the tills at Tesco", "G"),
    ("I manage a clothing store", "G"),
    ("I sell building materials to traders wholesale", "G"),
    ("I'm a chef in a restaurant", "I"),
    ("I work on the front desk of a hotel", "I"),
    ("I make coffee as a barista", "I"),
    ("I serve burgers at a fast food place", "I"),
    ("I wait tables", "I"),
    ("I pour pints in a pub", "I"),
    ("I clean rooms in a hotel", "I"),
    ("I'm a sous chef", "I"),
    ("I run a small cafe", "I"),
    ("I work in hotel housekeeping", "I"),
    ("I teach maths at a secondary school", "P"),
    ("I'm a primary school teacher", "P"),
    ("I lecture at a university", "P"),
    ("I train apprentices in a college", "P"),
    ("I mark essays and plan lessons", "P"),
    ("I help kids with their homework after school as a tutor", "P"),
    ("I teach English to teenagers", "P"),
    ("I'm a teaching assistant in a primary school", "P"),
    ("I run training courses for adults who want new skills", "P"),
    ("I write software for a living", "J"),
    ("I'm a web developer", "J"),
    ("I'm a journalist at a local newspaper", "J"),
    ("I run the IT help desk for a company", "J"),
    ("I work for a mobile phone network", "J"),
    ("I fix bugs and ship new features", "J"),
    ("I present the news on the radio", "J"),
    ("I edit films for a production company", "J"),
    ("I build video games", "J"),
    ("I'm a software engineer at a startup", "J"),
    ("I report on politics for a news website", "J"),
    ("I work in telecoms installing broadband", "J"),
    ("I'm a data analyst", "J"),
    ("I work on an assembly line in a car factory", "C"),
    ("I'm a welder", "C"),
    ("I operate machines in a food processing plant", "C"),
    ("I put together engines in a plant", "C"),
    ("I sew clothes in a garment factory", "C"),
    ("I work in a factory that makes car parts", "C"),
    ("I bake bread in an industrial bakery", "C"),
    ("I'm a bricklayer", "F"),
    ("I'm an electrician on building sites", "F"),
    ("I work in construction", "F"),
    ("I lay bricks and build walls", "F"),
    ("I fix leaking pipes and boilers", "F"),
    ("I'm a carpenter", "F"),
    ("I put roofs on new houses", "F"),
    ("I'm a plumber", "F"),
    ("I grow vegetables on a farm", "A"),
    ("I milk cows on a dairy farm", "A"),
    ("I'm a fisherman", "A"),
    ("will robots replace farmers?", "A"),
    ("I harvest apples in an orchard", "A"),
    ("I look after sheep on hills", "A"),
    ("I cut down trees for timber", "A"),
    ("I run a sheep farm", "A"),
    ("I drive a tractor during harvest", "A"),
    ("I work in a coal mine", "B"),
    ("I work on an offshore oil rig", "B"),
    ("I dig for gold", "B"),
    ("I work in a quarry", "B"),
    ("I'm a civil servant in a ministry", "O"),
    ("I'm a police officer", "O"),
    ("I work for the local council processing benefit claims", "O"),
    ("I serve in the army", "O"),
    ("I collect taxes for the government", "O"),
    ("I put out fires", "O"),
    ("I'm a judge", "O"),
    ("I work for the tax office", "O"),
    ("I'm a firefighter", "O"),
    ("I work in a prison", "O"),
    ("I play in an orchestra", "R"),
    ("I'm a novelist", "R"),
    ("I work at a museum", "R"),
    ("I'm a personal trainer at a gym", "R"),
    ("I sing in a band", "R"),
    ("I act in the theatre", "R"),
    ("I coach a football team", "R"),
    ("I work as a croupier in a casino", "R"),
    ("I'm a professional footballer", "R"),
    ("I paint portraits and sell them", "R"),
    ("I'm a librarian", "R"),
    ("I cut hair in a salon", "S"),
    ("I fix phones and laptops in a repair shop", "S"),
    ("I do nails and eyebrows", "S"),
    ("I arrange funerals", "S"),
    ("I'm a barber", "S"),
    ("I work for a charity helping homeless people", "S"),
    ("I'm an estate agent", "L"),
    ("I manage rental flats for landlords", "L"),
    ("I show flats to people who want to rent", "L"),
    ("I rent out holiday flats", "L"),
    ("I work at a power station", "D"),
    ("I maintain wind turbines", "D"),
    ("I keep the electricity grid running", "D"),
    ("I work for a solar energy company", "D"),
    ("I collect rubbish and recycling", "E"),
    ("I work at a water treatment plant", "E"),
    ("I empty bins for the council", "E"),
    ("I sort recycling at a depot", "E"),
    ("I'm a nanny for a family", "T"),
    ("I cook and clean for a rich family in their house", "T"),
    ("I'm an au pair", "T"),
]

# Texts about AI and work in general: they concern no sector in particular.
GENERIC_AI_TEXTS = [
    "Generative AI is changing how work gets done. Companies are experimenting with large language models to "
    "automate routine tasks, and workers report both productivity gains and worries about job security. Economists "
    "disagree on whether the technology will create more jobs than it destroys. Policymakers are considering "
    "regulation, while unions call for a voice in how AI is deployed.",
    "A new report estimates that a quarter of all jobs are exposed to artificial intelligence. Exposure does not mean "
    "replacement: most occupations will see some tasks automated and others augmented. The authors call for "
    "investment in skills and lifelong learning so that workers can adapt to the new tools.",
    "The latest models can write, summarise and reason across many domains. Researchers found that access to an AI "
    "assistant raised output and narrowed the gap between novice and experienced workers. However, the gains depend "
    "on training, and employers who involve staff in adoption see better results.",
    "AI agents that can take actions on a computer are the next step. Instead of answering questions, they complete "
    "multi-step tasks. Early adopters say the agents save time on repetitive work, but reliability remains a problem "
    "and human oversight is still needed.",
    "Surveys show that workers who use AI tools at least weekly save several hours. Younger and more educated workers "
    "adopt the tools faster. Women are less likely to use them, which could widen existing gaps. Managers are often "
    "unaware how widely the tools are already used.",
    "Governments around the world are drafting rules for artificial intelligence. The debate covers transparency, "
    "accountability and the risk of bias in automated decisions. Some experts argue that existing laws are enough; "
    "others want new institutions to oversee powerful models.",
]

NURSES_ITEM = (
    "Hospitals facing a shortage of nurses are testing AI tools that draft handover notes and flag patients whose "
    "condition is getting worse. On the wards of three NHS hospitals, nurses said the tools saved them about an hour "
    "per shift of paperwork, time they spent at the bedside instead. Nursing unions welcomed the gains but asked that "
    "the tools never replace a nurse's judgement about a patient's care."
)

# The sector names our own demo posts use, and the ISIC section each means.
DEMO_SECTORS = {
    "agriculture": "A",
    "manufacturing": "C",
    "retail": "G",
    "logistics": "H",
    "hospitality": "I",
    "software": "J",
    "banking": "K",
    "law": "M",
    "public sector": "O",
    "education": "P",
    "healthcare": "Q",
    "creative work": "R",
}

# Real articles (zyte extraction ground truth), by a piece of their URL, with the sections a sensible
# answer may start with; an empty answer is always acceptable for an article outside the world of work.
ZYTE_EXPECTED = {
    "the-future-of-banking-is-youre-broke": {"K"},
    "south-koreas-roadmap-to-drive-d": {"D"},
    "google-stadia-microsoft-xcloud-apple-arca": {"J", "R"},
    "gannett-gatehouse-me": {"J"},
    "doobie-brothers-to-reu": {"R"},
    "cpd_arrests_six_in_drug_investig": {"O"},
    "prison-guards": {"O"},
    "thousands-tea": {"P"},
    "doctors-offer-to-give-free-flu-shots": {"Q"},
    "emirates-inks-order-for-30-boeing-787": {"H", "C"},
    "browns-player-on-mason-rudolphs-rol": {"R"},
    "native-ad-units": {"M", "J"},
}


@pytest.fixture(scope="module")
def embedder():
    """The bundled model, loaded once for this module."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    from shadowmatch_kb.embed.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder("all-MiniLM-L6-v2")


@pytest.fixture(scope="module")
def resolver(embedder) -> SectorResolver:
    return SectorResolver(embedder)


@pytest.fixture(scope="module")
def lexical() -> SectorResolver:
    return SectorResolver()


@pytest.fixture(scope="module")
def demo(embedder):
    """The demo posts and their vectors, embedded in one batch as the enrichment pipeline would."""
    posts = _demo_posts()
    vectors = embedder.embed_batch([f"{post.title}. {post.summary}" for post in posts])
    return posts, vectors


def _demo_posts():
    return [
        parse_signals_post(path.read_text(encoding="utf-8"), item_id=path.stem) for path in sorted(DEMO.glob("*.md"))
    ]


def _section_of(resolver: SectorResolver, name: str) -> str:
    friendly = resolver.vocabulary.normalise(name)
    assert friendly is not None, name
    return next(code for code in "ABCDEFGHIJKLMNOPQRSTU" if resolver.vocabulary.normalise(code) == friendly)


# ------------------------------------------------------------------------------------------ vocabulary


def test_vocabulary_has_every_isic_section_and_enough_labels(lexical):
    data = load_sector_vocabulary()
    codes = [section["code"] for section in data["section"]]
    assert codes == list("ABCDEFGHIJKLMNOPQRSTU")
    assert 60 <= len(data["label"]) <= 120
    assert {label["section"] for label in data["label"]} == set(codes)
    names = lexical.vocabulary.names()
    assert len(names) == 21 and len(set(names)) == 21
    assert lexical.vocabulary.normalise("K") == "banking and insurance"
    assert lexical.vocabulary.normalise("Q") == "healthcare and social care"
    label_names = [label["name"] for label in data["label"]]
    assert len(set(label_names)) == len(label_names)


def test_normalise_round_trips(lexical):
    data = load_sector_vocabulary()
    for section in data["section"]:
        name = section["name"]
        assert lexical.vocabulary.normalise(name) == name
        assert lexical.vocabulary.normalise(name.upper()) == name
        assert lexical.vocabulary.normalise(section["code"]) == name
        assert lexical.vocabulary.normalise(section["code"].lower()) == name
        assert lexical.vocabulary.normalise(section["isic"]) == name
        assert lexical.vocabulary.normalise(f"  {name}  ") == name
        for synonym in section.get("synonyms", []):
            assert lexical.vocabulary.normalise(synonym) == name, synonym
    by_code = {section["code"]: section["name"] for section in data["section"]}
    for label in data["label"]:
        assert lexical.vocabulary.normalise(label["name"]) == by_code[label["section"]], label["name"]


def test_normalise_everyday_words_and_unknowns(lexical):
    assert lexical.vocabulary.normalise("banking") == "banking and insurance"
    assert lexical.vocabulary.normalise("hospital") == "healthcare and social care"
    assert lexical.vocabulary.normalise("Nurses") == "healthcare and social care"
    assert lexical.vocabulary.normalise("warehouse") == "transport and logistics"
    assert (
        lexical.vocabulary.normalise("call center")
        == lexical.vocabulary.normalise("call centres")
        == "business support services"
    )
    assert lexical.vocabulary.normalise("paralegal work") == "law, accounting and professional services"
    assert lexical.vocabulary.normalise("trucking") == "transport and logistics"
    assert (
        lexical.vocabulary.normalise("IT support")
        == lexical.vocabulary.normalise("it support")
        == "IT, telecoms and media"
    )
    assert lexical.vocabulary.normalise("Section P") == "education"
    for unknown in ("", "   ", "quantum chromodynamics", "Z", "?"):
        assert lexical.vocabulary.normalise(unknown) is None


def test_demo_sector_names_resolve(lexical):
    for name, code in DEMO_SECTORS.items():
        assert _section_of(lexical, name) == code, name
    used = {sector for post in _demo_posts() for sector in post.sectors}
    assert used, "the demo posts name their sectors"
    for sector in used:
        assert lexical.vocabulary.normalise(sector) is not None, sector


# ------------------------------------------------------------------------------------------- lexical


@pytest.mark.parametrize(
    ("question", "section", "label"),
    [
        ("I'm a nurse", "Q", "nursing"),
        ("I'm a nurse working nights", "Q", "nursing"),
        ("I work at a bank", "K", "banking"),
        ("my job is stacking shelves in a supermarket", "G", None),
        ("I'm a paralegal", "M", "paralegal work"),
        ("I answer phones in a call centre", "N", "call centres"),
        ("I answer phones in a call center", "N", "call centres"),
        ("I drive a truck", "H", "trucking"),
        ("I drive trucks across Europe", "H", "trucking"),
        ("I work in IT support", "J", "IT support and operations"),
        ("we are bankers", "K", "banking"),
        ("farming", "A", "farming"),
    ],
)
def test_lexical_questions(lexical, question, section, label):
    matches = lexical.resolve_question(question)
    assert matches, question
    assert matches[0].section == section
    if label is not None:
        assert matches[0].label == label
    assert 0.0 < matches[0].confidence <= 1.0


def test_lexical_classify_nurses_item_and_generic_text(lexical):
    matches = lexical.classify(NURSES_ITEM, title="AI handover notes give nurses time back")
    assert matches[0].section == "Q" and matches[0].name == "healthcare and social care"
    assert matches[0].label == "nursing"
    assert matches[0].confidence >= 0.7
    for text in GENERIC_AI_TEXTS:
        assert lexical.classify(text) == [], text[:60]


def test_phrases_that_only_look_like_sectors(lexical):
    # "World Bank", "off-the-shelf", "labour market" and "state of the art" are not banking, shops,
    # marketing or the arts; "it supports" is not IT.
    text = (
        "The World Bank says off-the-shelf models are state of the art, and the labour market will adapt. "
        "It supports the view that bad actors exist."
    )
    assert lexical.classify(text, min_confidence=0.0) == []
    assert lexical.resolve_question("what about it services?") == []


def test_multi_label_and_limits(lexical):
    text = (
        "Banks and insurers use chatbots in their call centres. Bank staff and insurance claims handlers say "
        "call centre agents now answer fewer routine calls."
    )
    matches = lexical.classify(text, k=3)
    assert [m.section for m in matches][:2] == ["K", "N"]
    assert all(isinstance(m, SectorMatch) for m in matches)
    assert matches == sorted(matches, key=lambda m: -m.confidence)
    assert len(lexical.classify(text, k=1)) == 1
    assert lexical.classify(text, k=0) == []
    assert lexical.classify(text, min_confidence=1.01) == []
    assert lexical.classify("") == [] and lexical.resolve_question("   ") == []


def test_passing_mentions_in_a_long_text_count_for_less(lexical):
    short = "A bank uses AI to check loans."
    long = short + " " + " ".join(["Workers and managers discuss new tools at length."] * 60)
    assert lexical.classify(short)[0].confidence > lexical.classify(long, min_confidence=0.0)[0].confidence


# ------------------------------------------------------------------------------------ the real model


@pytest.mark.slow
def test_question_table_accuracy(resolver, lexical, embedder):
    assert len(QUESTIONS) >= 40
    assert {section for _, section in QUESTIONS} >= set("ABCDEFGHIJKLMNOPQRST")
    misses = []
    vectors = embedder.embed_batch([question for question, _ in QUESTIONS])
    for (question, section), vector in zip(QUESTIONS, vectors, strict=True):
        matches = resolver.resolve_question(question, question_vector=vector)
        if not matches or matches[0].section != section:
            misses.append((question, section, [(m.section, m.label, m.confidence) for m in matches]))
    accuracy = 1 - len(misses) / len(QUESTIONS)
    lexical_hits = sum(bool(m := lexical.resolve_question(q)) and m[0].section == s for q, s in QUESTIONS) / len(
        QUESTIONS
    )
    print(
        f"\nsector questions: top-1 {accuracy:.3f} with the model, {lexical_hits:.3f} lexical only, n={len(QUESTIONS)}"
    )
    assert accuracy >= 0.9, misses
    # The words alone already carry most questions; the model adds the indirect ones.
    assert lexical_hits >= 0.6
    assert accuracy > lexical_hits


@pytest.mark.slow
def test_first_person_questions_name_the_fine_label(resolver, embedder):
    expected = {
        "I'm a nurse": ("Q", "nursing"),
        "I work at a bank": ("K", "banking"),
        "my job is stacking shelves in a supermarket": ("G", None),
        "I'm a paralegal": ("M", "paralegal work"),
        "I answer phones in a call centre": ("N", "call centres"),
        "I drive a truck": ("H", "trucking"),
    }
    vectors = embedder.embed_batch(list(expected))
    for (question, (section, label)), vector in zip(expected.items(), vectors, strict=True):
        top = resolver.resolve_question(question, question_vector=vector)[0]
        assert top.section == section, question
        if label:
            assert top.label == label, question
        assert top.confidence >= 0.5, question
    # Without a shared vector the resolver embeds the question itself, to the same answer.
    assert (
        resolver.resolve_question("I'm a nurse")[0]
        == resolver.resolve_question("I'm a nurse", question_vector=vectors[0])[0]
    )


@pytest.mark.slow
def test_questions_about_nothing_in_particular(resolver):
    for question in ("What's the weather like tomorrow?", "How will AI change my job?", "hello", ""):
        assert resolver.resolve_question(question) == [], question


@pytest.mark.slow
def test_demo_posts_top3_includes_their_first_sector(resolver, demo):
    posts, vectors = demo
    hits = 0
    misses = []
    for post, vector in zip(posts, vectors, strict=True):
        want = resolver.vocabulary.normalise(post.sectors[0])
        got = [m.name for m in resolver.classify(post.summary, title=post.title, k=3, text_vector=vector)]
        hits += want in got
        if want not in got:
            misses.append((post.title, want, got))
    share = hits / len(posts)
    print(f"\ndemo posts: first sector in top-3 for {hits}/{len(posts)} = {share:.3f}")
    assert len(posts) >= 40
    assert share >= 0.8, misses


@pytest.mark.slow
def test_nurses_item_is_healthcare_and_generic_text_is_nothing(resolver):
    matches = resolver.classify(NURSES_ITEM, title="AI handover notes give nurses time back")
    assert matches[0].section == "Q" and matches[0].label == "nursing"
    assert matches[0].confidence >= 0.8
    assert all(m.confidence < matches[0].confidence - 0.3 for m in matches[1:])
    for text in GENERIC_AI_TEXTS:
        assert resolver.classify(text) == [], text[:60]


@pytest.mark.slow
def test_meaning_finds_a_sector_the_words_do_not_name(resolver, lexical):
    text = (
        "Staff who help older people wash, dress and eat in their own homes now log each visit on a phone app, "
        "and a scheduling algorithm decides the order of their rounds."
    )
    assert not any(m.section == "Q" for m in lexical.classify(text))
    assert resolver.classify(text)[0].section == "Q"


@pytest.mark.slow
def test_precomputed_vector_gives_the_same_answer(resolver, demo):
    posts, vectors = demo
    for post, vector in list(zip(posts, vectors, strict=True))[:3]:
        assert resolver.classify(post.summary, title=post.title, text_vector=vector) == resolver.classify(
            post.summary, title=post.title
        )


@pytest.mark.slow
def test_description_vectors_are_embedded_once(embedder):
    calls: list[int] = []

    class Counting:
        model_name = embedder.model_name
        dimension = embedder.dimension

        def embed_batch(self, texts: list[str]) -> np.ndarray:
            calls.append(len(texts))
            return embedder.embed_batch(texts)

    resolver = SectorResolver(Counting())
    vector = embedder.embed_batch([NURSES_ITEM])[0]
    for _ in range(3):
        resolver.classify(NURSES_ITEM, text_vector=vector)
    assert len(calls) == 1 and calls[0] > 100
    resolver.resolve_question("I'm a nurse")
    assert calls[1:] == [1]


@pytest.mark.slow
def test_real_articles_get_sensible_or_empty_sectors(resolver, embedder):
    path = require_shared("extraction", "zyte", "ground-truth.json")
    articles = list(json.loads(path.read_text(encoding="utf-8")).values())
    # One batch for all the articles, as the pipeline shares item vectors; the model reads ~256 word pieces.
    vectors = embedder.embed_batch(
        [f"{a.get('headline') or ''}. {a.get('articleBody') or ''}"[:2000] for a in articles]
    )
    checked = set()
    nonempty = 0
    for article, vector in zip(articles, vectors, strict=True):
        body = article.get("articleBody") or ""
        matches = resolver.classify(body, title=article.get("headline") or "", text_vector=vector)
        nonempty += bool(matches)
        assert len(matches) <= 3
        assert all(0.35 <= m.confidence <= 1.0 for m in matches)
        assert [m.confidence for m in matches] == sorted((m.confidence for m in matches), reverse=True)
        for piece, allowed in ZYTE_EXPECTED.items():
            if piece in article["url"]:
                checked.add(piece)
                assert not matches or matches[0].section in allowed, (article["url"], matches)
                assert matches, (article["url"], "expected a sector")
    assert checked == set(ZYTE_EXPECTED)
    print(f"\nzyte articles with a sector: {nonempty}/{len(articles)}")
    # Most of these are news on politics, sport and gadgets: many have no sector, and that is right.
    assert nonempty < len(articles)


@pytest.mark.slow
def test_non_english_and_odd_text(resolver):
    for text in (
        "人工智能将改变工作的性质。",
        "Искусственный интеллект меняет рынок труда.",
        "🤖💼📈",
        "x" * 5000,
        ".",
    ):
        matches = resolver.classify(text)
        assert all(0.0 <= m.confidence <= 1.0 for m in matches)
    assert resolver.classify("Les infirmières de l'hôpital utilisent l'IA.", min_confidence=0.0) is not None


@pytest.mark.slow
def test_speed_after_warm_up(resolver, demo):
    posts, vectors = demo
    resolver.classify(posts[0].summary, text_vector=vectors[0])
    started = time.perf_counter()
    rounds = 5
    for _ in range(rounds):
        for post, vector in zip(posts, vectors, strict=True):
            resolver.classify(post.summary, title=post.title, text_vector=vector)
    shared = (time.perf_counter() - started) / (rounds * len(posts)) * 1000
    started = time.perf_counter()
    for post in posts[:3]:
        resolver.classify(post.summary, title=post.title)
    own = (time.perf_counter() - started) / 3 * 1000
    print(f"\nclassify: {shared:.2f} ms per item with a shared vector, {own:.2f} ms embedding the item itself")


@pytest.mark.slow
def test_a_vector_from_another_model_is_refused(resolver):
    with pytest.raises(ValueError, match="384"):
        resolver.classify(NURSES_ITEM, text_vector=np.ones(768, dtype=np.float32))
