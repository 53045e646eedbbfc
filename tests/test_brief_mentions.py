"""What a briefing's first sentence says of the job a person gave themselves: which cited items name it, and, when
no item in the knowledge base does, that it holds none.

Session 16's reviewer read "1 item close to the work of receptionists" over an item on doctors' notes, and "No item
... is close to the work of journalists" beside items on AI-written news; on the development questions that claim
was right for 40 % of the items it was said of. Whether an item names the job is a fact the reader can check.
"""

from __future__ import annotations

import pytest
from test_brief_unit import QUESTION, TODAY, item, make_store, parts, resolver  # noqa: F401  (fixtures)

from shadowmatch_kb.brief import mentions
from shadowmatch_kb.brief.compose import build_briefing
from shadowmatch_kb.brief.mentions import job_words, knowledge_base_names, named_as, names_title
from shadowmatch_kb.text.english import plural as in_plural


@pytest.mark.parametrize(
    ("title", "plural"),
    [("receptionist", "receptionists"), ("secretary", "secretaries"), ("coach", "coaches"), ("day", "days")],
)
def test_a_title_is_said_in_the_plural(title: str, plural: str) -> None:
    assert in_plural(title) == plural


def test_an_item_names_a_job_by_its_words_in_any_of_its_fields_singular_or_plural() -> None:
    teaching = item(1, "2024-01-01", [], title="AI helps teaching assistants", summary="Schools try it.")
    assert names_title(teaching, "teaching assistant")
    assert not names_title(teaching, "assistant manager")
    # A keyword alone has no words around it to tell a machine from the job: it counts only for the search that
    # keeps the knowledge base from being said to lack the job.
    keyword = item(2, "2024-01-01", [], summary="Surgeries answer phones.", keywords=["GP receptionist"])
    assert not names_title(keyword, "receptionist") and names_title(keyword, "receptionist", work=True)
    assert names_title(item(3, "2024-01-01", [], text="Receptionists' hours fell."), "receptionist")
    # A word that only begins like the job, or a stem it shares with others, is not the job.
    assert not names_title(item(4, "2024-01-01", [], summary="Reporting rules change."), "reporter")
    assert not names_title(item(5, "2024-01-01", [], summary="Electricianship courses."), "electrician")
    assert not names_title(item(6, "2024-01-01", [], summary="Autoelectricians wanted."), "electrician")


@pytest.mark.parametrize(
    ("title", "label", "words"),
    [
        ("hospital pharmacist", "Pharmacists", ["pharmacist"]),
        ("solicitor", "Lawyers", ["solicitor", "lawyer"]),
        ("plumber", "Plumbers and pipe fitters", ["plumber"]),
        ("electrician", "Building and related electricians", ["electrician"]),  # "building" is no job
        ("bookkeeper", "Accounting associate professionals", ["bookkeeper"]),
        ("receptionist", "Receptionists (general)", ["receptionist"]),
        ("reporter", "Journalists, reporters", ["reporter", "journalist"]),
        ("reporter", None, ["reporter"]),
    ],
)
def test_the_job_is_named_by_the_title_given_or_by_the_occupations_own_name(
    title: str, label: str | None, words: list[str]
) -> None:
    assert job_words(title, label) == words


@pytest.mark.parametrize(
    ("title", "label", "named"),
    [
        ("supermarket cashier", "Cashiers and ticket clerks", "cashier"),  # "Cashier jobs projected to shrink"
        ("hospital pharmacist", "Pharmacists", "pharmacist"),
        ("GP receptionist", "Receptionists (general)", "receptionist"),
        ("police officer", "Police officers", "police officer"),  # "officers" names loan officers too
        ("teaching assistant", "Teachers' aides", "teaching assistant"),
        ("supermarket cashier", None, "supermarket cashier"),
    ],
)
def test_items_name_the_job_by_its_title_or_by_the_occupations_one_word_name(
    title: str, label: str | None, named: str
) -> None:
    assert named_as(title, label) == named


def test_the_knowledge_base_is_said_to_lack_a_job_only_when_every_item_holding_its_word_was_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reports = [item(n, "2024-01-01", [], summary=f"New rules in report {n}.") for n in range(1, 4)]
    store = make_store(*reports)
    # Full-text search stems "reporter" to "report" and finds all three; none names reporters.
    assert knowledge_base_names(store, ["reporter"]) is False
    assert knowledge_base_names(store, job_words("local reporter", None)) is False  # the job is its last word
    # A word full-text search drops: nothing can be said.
    assert knowledge_base_names(store, ["reporter", "the"]) is None
    monkeypatch.setattr(mentions, "SCAN_LIMIT", 3)  # as many hits as the limit: some may not have been read
    assert knowledge_base_names(store, ["reporter"]) is None
    monkeypatch.setattr(mentions, "_CHUNK", 1)  # the item naming the job is found in a later chunk
    store.put_items([(item(9, "2024-01-01", [], summary="Reporters use AI."), "hash-9", "9", None)])
    monkeypatch.setattr(mentions, "SCAN_LIMIT", 500)
    assert knowledge_base_names(store, ["reporter"]) is True
    assert knowledge_base_names(store, job_words("local reporter", None)) is True  # naming reporters names the job
    store.close()


@pytest.mark.parametrize(
    ("text", "job"),
    [
        ("Manual trades such as roofing and bricklaying were among the least exposed.", "bricklayer"),
        ("Nursing homes try AI.", "nurse"),
        ("Journalism meets AI.", "journalist"),
        ("AI teaching assistants answer students at any hour.", "teaching assistant"),
    ],
)
def test_an_item_on_the_work_or_a_machine_named_after_the_job_keeps_it_from_being_said_absent(
    text: str, job: str
) -> None:
    # Session 17's review read "No item in the knowledge base names bricklayers" as false beside "bricklaying".
    store = make_store(item(1, "2024-01-01", [], summary=text))
    assert knowledge_base_names(store, [job]) is True
    store.close()


def test_a_machine_named_after_a_job_does_not_name_it() -> None:
    # Session 17's review: a CS50 chatbot's "AI teaching assistants" was said to name a primary school's.
    machine = item(1, "2024-01-01", [], summary="AI teaching assistants and virtual receptionists answer at night.")
    assert not names_title(machine, "teaching assistant") and not names_title(machine, "receptionist")
    course = item(3, "2024-01-01", [], summary="The course would use an AI chatbot as a teaching assistant.")
    assert not names_title(course, "teaching assistant")
    assert names_title(
        item(4, "2024-01-01", [], summary="AI helps the school. Teaching assistants plan."), "teaching assistant"
    )
    assert names_title(item(2, "2024-01-01", [], summary="Teaching assistants use AI."), "teaching assistant")


def _matcher(title: str | None):
    nurse = {"isco": "2221", "label": "Nursing professionals", "score": 0.9}
    return lambda text, k: {"occupations": [nurse], "missing_datasets": [], "title": title}


def test_a_briefing_says_which_items_name_the_job_or_that_none_in_the_knowledge_base_does(parts) -> None:  # noqa: F811
    named = build_briefing(QUESTION, **parts, occupations=_matcher("nurse"), today=TODAY)
    naming = [s for s in named.sources if "nurses" in s.title.lower() or "nurse" in s.title.lower()]
    assert named.coverage.startswith("This briefing rests on 1 item that names nurses")  # item 1's summary does
    assert named.names_job  # and so its items are not framed as only the nearest the knowledge base holds
    assert not naming  # ... though no title says so: the summary was read
    plumber = build_briefing(QUESTION, **parts, occupations=_matcher("plumber"), today=TODAY)
    assert plumber.sources and plumber.coverage.startswith("No item in the knowledge base names plumbers. ")
    assert not plumber.names_job
    # Checked by its last word, said as the person named it: "controllers" alone read as another job.
    controller = build_briefing(QUESTION, **parts, occupations=_matcher("air traffic controller"), today=TODAY)
    assert controller.coverage.startswith("No item in the knowledge base names air traffic controllers. ")
    sales = build_briefing(QUESTION, **parts, occupations=_matcher("head of sales"), today=TODAY)
    assert "names" not in sales.coverage  # the last word of a title "of" something is not the job: nothing said
    # The occupation's own name is read too: an item naming it (a solicitor's "lawyers") is the job named.
    nurses = {"isco": "2221", "label": "Nurses", "score": 0.9}
    titled = lambda text, k: {"occupations": [nurses], "missing_datasets": [], "title": "ward sister"}  # noqa: E731
    sister = build_briefing(QUESTION, **parts, occupations=titled, today=TODAY)
    assert sister.coverage.startswith("This briefing rests on") and "names" not in sister.coverage
    # "Nursing professionals" is no one-word name: items naming nurses name a "nurse", not a "ward nurse".
    ward = build_briefing(QUESTION, **parts, occupations=_matcher("ward nurse"), today=TODAY)
    assert "names" not in ward.coverage and "name " not in ward.coverage
    ones = {"isco": "2221", "label": "Nurses", "score": 0.9}
    plain = lambda text, k: {"occupations": [ones], "missing_datasets": [], "title": "ward nurse"}  # noqa: E731
    said = build_briefing(QUESTION, **parts, occupations=plain, today=TODAY).coverage
    assert said.startswith("This briefing rests on 1 item that names nurses")
    untitled = build_briefing(QUESTION, **parts, occupations=_matcher(None), today=TODAY)
    assert untitled.coverage.startswith("This briefing rests on") and "name" not in untitled.coverage
    assert "close to the work of" not in untitled.coverage  # closeness in meaning is not said to be on the work


def test_the_job_said_absent_is_the_title_given_though_the_occupations_name_is_checked_too(parts) -> None:  # noqa: F811
    lawyers = {"isco": "2611", "label": "Lawyers", "score": 0.9}
    solicitor = lambda text, k: {"occupations": [lawyers], "missing_datasets": [], "title": "solicitor"}  # noqa: E731
    said = build_briefing(QUESTION, **parts, occupations=solicitor, today=TODAY).coverage
    assert said.startswith("No item in the knowledge base names solicitors or is mainly about")  # not "or lawyers"
