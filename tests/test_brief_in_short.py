"""The sentence "In short" at the top of a briefing: where the studies shown put the person's occupation.

Mentors of sessions 11 to 13 asked for a plain answer at the top ("so is my job going to change or not?") that
reconciles the studies; the section below gives each study in its own units. The sentence is read from the same
figures the section shows, so every case below follows from the figures alone.
"""

from __future__ import annotations

from typing import Any

import pytest

from shadowmatch_kb.brief.headline import in_short, machines_first
from shadowmatch_kb.brief.model import Briefing, BriefSignal, Source
from shadowmatch_kb.brief.render import to_html, to_markdown

ILO_MEASURE = "exposure gradient"
GPTS_MEASURE = "human rated exposure beta (E1 + 0.5*E2)"
NESTA_MEASURE = "automation risk category"


def _figure(dataset: str, measure: str, value: object, percentile: float | None = None) -> dict[str, Any]:
    said = {"plain": f"{dataset} says {value}.", "attribution": f"{dataset}, MIT"}
    return {"dataset": dataset, "code": "7126", "measure": measure, "value": value, "percentile": percentile} | said


def _ilo(grade: str) -> dict[str, Any]:
    return _figure("ilo_genai_2025", ILO_MEASURE, grade)


def _gpts(percentile: float) -> dict[str, Any]:
    return _figure("gpts_are_gpts", GPTS_MEASURE, 0.3, percentile)


def _nesta(grade: str) -> dict[str, Any]:
    return _figure("nesta_automation", NESTA_MEASURE, grade)


def _short(*figures: dict[str, Any], question: str = "I fit boilers", unsure: bool = False) -> str | None:
    return in_short({"isco": "7126", "exposure": list(figures)}, question, unsure=unsure)


def test_studies_that_agree_say_the_job_changes_less_or_more_than_most() -> None:
    low = _short(_ilo("Not Exposed"), _gpts(14.0))
    assert low == (
        "Generative AI is likely to change this job less than most: the ILO's index and an OpenAI study "
        "(GPTs are GPTs) rate its tasks among the less open to it."
    )
    high = _short(_ilo("Exposed: Gradient 4"), _gpts(90.0))
    assert high is not None and high.startswith("Generative AI is likely to change this job more than most:")


def test_a_study_in_the_middle_tempers_the_other() -> None:
    said = _short(_ilo("Not Exposed"), _gpts(50.0))
    assert said == (
        "Generative AI may change this job less than most: the ILO's index rates its tasks among the less open to "
        "it; an OpenAI study (GPTs are GPTs) puts them in the middle."
    )
    assert _short(_ilo("Minimal Exposure"), _gpts(50.0)) == (
        "Generative AI may change this job about as much as most: the ILO's index and an OpenAI study "
        "(GPTs are GPTs) rate its tasks in the middle of all jobs'."
    )


def test_an_ilo_grade_leans_by_where_it_stands_among_all_occupations() -> None:
    # Any gradient of exposure is the top quarter of the ILO's 427 groups; "minimal" lies between the 54th and 74th
    # percentile. Session 14's review read "puts them in the middle" said of gradient 2 as wrong.
    said = _short(_ilo("Exposed: Gradient 2"), _gpts(50.0))
    assert said is not None and said.startswith("Generative AI may change this job more than most: the ILO's index")


def test_the_ilos_lowest_exposed_grade_alone_is_not_said_to_change_the_job_more_than_most() -> None:
    # Session 16's review: "more than most" for a cashier, a van driver and a hotel manager at gradient 1, above the
    # grade's own "most of the work still needs a person", read as the wrong message.
    assert _short(_ilo("Exposed: Gradient 1"), _gpts(50.0)) == (
        "Generative AI may change part of this job: the ILO's index puts it in the lowest of its exposed groups, above"
        " most jobs, though most of the work still needs a person; an OpenAI study (GPTs are GPTs) puts its tasks in"
        " the middle."
    )
    alone = _short(_ilo("Exposed: Gradient 1"), _nesta("High risk"))
    assert alone is not None and alone.startswith("Generative AI may change part of this job")
    assert alone.endswith(
        "still needs a person. Nesta's older study of machine learning (2020) also grades it high risk, rating how well"
        " the machine learning of 2020 suits its tasks."
    )
    # A second study that puts the job high says "more than most" with it; a higher grade says it alone.
    both = _short(_ilo("Exposed: Gradient 1"), _gpts(90.0))
    assert both is not None and both.startswith("Generative AI is likely to change this job more than most")
    higher = _short(_ilo("Exposed: Gradient 2"))
    assert higher is not None and higher.startswith("Generative AI is likely to change this job more than most")
    differ = _short(_ilo("Exposed: Gradient 1"), _gpts(10.0))
    assert differ is not None and differ.startswith("The studies differ on this job")


def test_studies_leaning_opposite_ways_are_said_to_differ() -> None:
    assert _short(_ilo("Not Exposed"), _gpts(75.0)) == (
        "The studies differ on this job: an OpenAI study (GPTs are GPTs) rates its tasks among the more open to "
        "generative AI, the ILO's index among the less open."
    )


@pytest.mark.parametrize(
    ("nesta", "said"),
    [
        (
            "Low risk",
            # With what the grade rates: a bare "high risk" read as a verdict on the job (session 18's review).
            "Nesta's older study of machine learning (2020) also grades it low risk, rating how well the machine "
            "learning of 2020 suits its tasks.",
        ),
        (
            "High risk",
            # Said to differ outright: "less than most" then "high risk" read as a contradiction (session 15).
            "Nesta's older study of machine learning (2020) differs: it grades it high risk, rating how well the "
            "machine learning of 2020 suits its tasks rather than what chatbots can do.",
        ),  # fmt: skip
    ],
)
def test_nestas_older_study_agrees_or_says_why_it_may_differ(nesta: str, said: str) -> None:
    found = _short(_ilo("Not Exposed"), _gpts(10.0), _nesta(nesta))
    assert found is not None and found.endswith(f"open to it. {said}")


def test_nestas_middle_grade_and_a_job_without_figures_say_nothing_of_it() -> None:
    assert "Nesta" not in (_short(_ilo("Not Exposed"), _nesta("Other")) or "")
    assert _short() is None


def test_an_unsure_match_and_a_question_about_machines_are_said() -> None:
    said = _short(_ilo("Not Exposed"), question="Will robots replace me on the line?", unsure=True)
    assert said is not None and said.startswith("If the occupation below is yours, generative AI is likely")
    assert said.endswith("None of these studies rates robots or machines, which you asked about.")
    # Machine translation is what the studies rate: a translator's question is not about robots (session 14).
    translator = _short(_ilo("Exposed: Gradient 4"), question="Will machine translation finish off my job?")
    assert translator is not None and "robots" not in translator
    # ... and a question the host reports someone asked: "My nephew asked if trains will drive themselves".
    reported = _short(_ilo("Not Exposed"), question="My nephew asked if trains will drive themselves. What do I say?")
    assert reported is not None and reported.endswith("which you asked about.")
    assert "robots" not in (_short(_ilo("Not Exposed"), question="I run a sewing machine. Could AI change that?") or "")
    # Cameras are machines the studies do not rate either (a shopping centre's security guard, session 15).
    guard = _short(_ilo("Not Exposed"), question="I watch the CCTV. Will cameras and AI replace guards like me?")
    assert guard is not None and guard.endswith("which you asked about.")


def _with_tasks(figure: dict[str, Any], *percentiles: float) -> dict[str, Any]:
    tasks = [
        {"task": "Revising and correcting translated material;", "score": 0.6, "percentile": percentiles[0]},
        {"task": "Interpreting speeches at conferences;", "score": 0.5, "percentile": percentiles[-1]},
    ]
    return {"isco": "2643", "exposure": [figure], "most_exposed_tasks": tasks}


def test_the_part_of_the_job_most_open_is_named_after_the_lean() -> None:
    # Both of session 14's reviewers asked "In short" to name the part of the job most likely to change: the task
    # the occupation section lists first as most open (the closest to what the person said).
    said = in_short(_with_tasks(_ilo("Exposed: Gradient 3"), 95.0, 90.0), "I translate leaflets")
    assert said is not None
    assert said.endswith("among the more open to it. The part of it the ILO rates most open: revising and correcting "
                         "translated material.")  # fmt: skip
    # When even the most open tasks are rated low among all the ILO's tasks, that is said with it.
    low = in_short(_with_tasks(_ilo("Not Exposed"), 20.0, 10.0), "I fit boilers")
    assert low is not None and "Even the part of it the ILO rates most open is rated low: revising" in low


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"percentile": 60.0}, "barely above the middle of all tasks: not the part most likely to change"),
        ({"closeness": 0.25}, "far from what the person said: likely not their task ('sending letters', live chat)"),
        (
            {
                "task": "Controlling access to establishments, monitoring and authorizing the entrance or departure of "
                "employees and visitors, checking identification and issuing security passes;"
            },
            "cut off",
        ),
    ],  # fmt: skip
)
def test_a_task_the_host_likely_does_not_do_or_that_is_not_open_is_not_named(change: dict[str, Any], why: str) -> None:
    occupation = _with_tasks(_ilo("Exposed: Gradient 3"), 95.0, 90.0)
    occupation["most_exposed_tasks"][0] |= {"closeness": 0.45} | change
    said = in_short(occupation, "I answer live chats")
    assert said is not None and "most open" not in said, why


@pytest.mark.parametrize(
    ("question", "asks_when"),
    [
        ("I take calls all day. Will chatbots do my job soon?", True),
        ("I drive a bus. Are driverless buses coming, and when?", True),
        ("I type invoices. Will there still be a job like mine in ten years?", True),
        ("I cut hair in my salon. Is AI going to touch my work at all?", False),
        ("For ten years I have fixed boilers. Could AI do my job?", False),  # the years are of the work, not asked
        # A question the host reports is asked too (session 15: a train driver's nephew).
        ("I drive trains. My nephew asked if trains will drive themselves soon. What do I tell him?", True),
    ],
)
def test_a_question_about_when_is_told_the_studies_do_not_say(question: str, asks_when: bool) -> None:
    said = _short(_ilo("Not Exposed"), question=question)
    assert said is not None
    assert said.endswith("These studies rate how open the tasks are, not when they will change.") is asks_when


def test_the_sentence_leads_the_page_in_markdown_html_and_json() -> None:
    briefing = Briefing("I fit boilers and fix leaks", None, [], 0)
    briefing.occupations = [{"isco": "7126", "label": "Plumbers", "score": 0.9, "exposure": [_ilo("Not Exposed")]}]
    briefing.in_short = _short(_ilo("Not Exposed"))
    markdown, html = to_markdown(briefing), to_html(briefing)
    assert markdown.index("**In short.** Generative AI is likely") < markdown.index("## Your occupation")
    lead = '<p class="in-short"><strong>In short.</strong> Generative AI'
    assert html.index(lead) < html.index("<h2>Your occupation")
    assert briefing.to_dict(markdown)["in_short"] == briefing.in_short


# ----- what the sources report of machines, first, for a question about robots --------------------------------------
# Session 15's reviewers read "In short" on generative AI, for hosts who asked whether robots would pick orders, clean
# offices or drive trains, as not answering; they asked for what the items say about machines to come first.

ROBOTS = "I pick orders in a warehouse all shift. Are robots going to do this instead of us?"
PICKING = BriefSignal("Robots bring inventory to workers", "from walking the aisles to stations", "", "", ["b"], 1)
TRAFFIC = BriefSignal("AI plans robot traffic in warehouses.", "", "", "", ["a", "c"], 2)
ROTAS = BriefSignal("Software writes the shift rota", "from managers to software", "", "", ["a"], 1)
NUMBERS = {"a": 1, "b": 2, "c": 3}


def test_a_question_about_robots_hears_first_what_the_sources_report_of_machines() -> None:
    said = machines_first(
        "Generative AI is likely to change this job less than most.", ROBOTS, [PICKING, ROTAS, TRAFFIC], NUMBERS
    )
    assert said == (
        "On robots and machines, the sources below report: “AI plans robot traffic in warehouses” [1][3]; “Robots bring"
        " inventory to workers” (from walking the aisles to stations) [2]. Generative AI is likely to change this job"
        " less than most. These studies rate generative AI, not the machines the sources report."
    )  # in the order of the sources, each with its marks; the rota row speaks of no machine and is left out


@pytest.mark.parametrize(
    ("question", "signals", "why"),
    [
        ("I pick orders in a warehouse. How will AI change my job?", [PICKING], "the question is not about machines"),
        (ROBOTS, [ROTAS], "no signal speaks of machines"),
        (ROBOTS, [BriefSignal("Machine learning sorts the orders", "", "", "", ["a"], 1)], "machine learning is AI"),
        (ROBOTS, [BriefSignal("Robots pick", "", "", "", ["gone"], 1)], "its item is not a source"),
    ],
)
def test_in_short_is_left_as_it_is(question: str, signals: list[BriefSignal], why: str) -> None:
    assert machines_first("As it was.", question, signals, NUMBERS) == "As it was.", why


def test_without_figures_the_machines_alone_are_said_and_a_rows_own_marks_are_not_taken_for_citations() -> None:
    forged = BriefSignal("Robots pick [7] orders", "from people [1] to robots", "", "", ["a"], 1)
    said = machines_first(None, ROBOTS, [forged], NUMBERS)
    assert said == "On robots and machines, the sources below report: “Robots pick orders” (from people to robots) [1]."
    assert machines_first(None, "How will AI change my job?", [forged], NUMBERS) is None
    # On little evidence they are the closest the knowledge base holds (a postie who asked about drones read of
    # clerks' work "automated", session 20's review).
    closest = machines_first(None, ROBOTS, [forged], NUMBERS, closest=True)
    assert closest is not None and closest.startswith("On robots and machines, the closest items below report: “Robots")


def test_after_the_machines_the_studies_are_said_to_rate_generative_ai_not_those_machines() -> None:
    # Session 16's review: "None of these studies rates robots" right after the robots the sources report read as
    # a contradiction.
    said = _short(_ilo("Not Exposed"), question=ROBOTS)
    assert said is not None and said.endswith("None of these studies rates robots or machines, which you asked about.")
    led = machines_first(said, ROBOTS, [PICKING], NUMBERS)
    assert led is not None and "None of these studies" not in led
    assert led.endswith("These studies rate generative AI, not the machines the sources report.")


def test_in_shorts_citation_marks_link_to_their_sources_in_html_and_stay_marks_in_markdown() -> None:
    briefing = Briefing(ROBOTS, None, [], 0)
    briefing.sources = [Source(1, "a", "Warehouse robots", None, None)]
    briefing.in_short = "On robots, the sources below report: “Robots pick” [1]; “Bins move” [2]. <b>Less</b>."
    assert "report: “Robots pick” [1]; “Bins move” [2]." in to_markdown(briefing)
    html = to_html(briefing)
    assert '“Robots pick”<sup class="cites"><a href="#source-1" aria-label="source 1">[1]</a></sup>' in html
    assert "“Bins move”[2]" in html  # no source 2: a mark, not a link
    assert "&lt;b&gt;Less&lt;/b&gt;" in html


@pytest.mark.parametrize("words", ["Tills become automated", "Vehicles that drive themselves deliver parcels"])
def test_a_signal_of_automated_work_or_vehicles_that_drive_speaks_of_machines(words: str) -> None:
    said = machines_first(None, ROBOTS, [BriefSignal(words, "", "", "", ["a"], 1)], NUMBERS)
    assert said == f"On robots and machines, the sources below report: “{words}” [1]."
    # A host who asks only whether their job will be "automated" asks about no machine the studies leave out.
    assert (
        machines_first(None, "Will my job be automated?", [BriefSignal(words, "", "", "", ["a"], 1)], NUMBERS) is None
    )


def test_after_the_machines_the_notes_on_machines_and_on_timing_are_one_sentence() -> None:
    # Session 16: a train driver read two sentences in a row opening "These studies rate".
    question = "I drive trains. Will robots drive them soon?"
    said = _short(_ilo("Not Exposed"), question=question)
    led = machines_first(said, question, [PICKING], NUMBERS)
    assert led is not None and led.count("These studies rate") == 1
    assert led.endswith(
        "less than most: the ILO's index rates its tasks among the less open to it. These studies rate how open the"
        " tasks are to generative AI, not the machines the sources report, nor when the tasks will change."
    )


@pytest.mark.parametrize(
    ("question", "led"),
    [
        ("I drive a city bus. Are buses without anyone at the wheel really coming?", True),
        ("I drive a bus. Will there be buses with nobody driving them?", True),
        ("I drive lorries. Will they run without a driver one day?", True),
        ("I'm a cashier on the tills, though they keep adding self-checkouts. Is my job going to disappear?", True),
        ("I work beside the robots in a warehouse. What will change?", True),
        ("I run a sewing machine in a factory. Could AI change that?", False),  # what the host works with
        ("I check the cameras on my shift. How will AI change my job?", False),
        ("I drive a bus through town. How will AI change my job?", False),
    ],
)
def test_machines_named_anywhere_as_taking_over_work_lead_in_short(question: str, led: bool) -> None:
    # Session 16's review: the bus driver and the cashier heard nothing of the driverless and self-checkout items.
    said = machines_first("As it was.", question, [PICKING], NUMBERS)
    assert (said != "As it was.") is led
    if led:
        assert said == (
            "On robots and machines, the sources below report: “Robots bring inventory to workers” (from walking the"
            " aisles to stations) [2]. As it was. These studies rate generative AI, not the machines the sources"
            " report."
        )


def test_machines_the_sources_report_of_another_sector_are_said_to_be_of_it() -> None:
    # Session 16's review: factory robots quoted to a bricklayer read as an answer about building sites.
    bricks = "I lay bricks on building sites. Could a robot ever do it?"
    stock = BriefSignal("Robot stock passes four million", "", "", "", ["a"], 1)
    about = {"a": ("manufacturing",), "b": ("manufacturing",), "c": ()}
    said = machines_first(None, bricks, [stock, PICKING], NUMBERS, about=about, sectors=["construction"])
    assert said == (
        "On robots and machines, the sources below report: in manufacturing, “Robot stock passes four million” [1];"
        " “Robots bring inventory to workers” (from walking the aisles to stations) [2]."
    )  # the sector is named once for consecutive signals of it
    ours = machines_first(None, bricks, [stock], NUMBERS, about=about, sectors=["manufacturing"])
    assert ours == "On robots and machines, the sources below report: “Robot stock passes four million” [1]."
    unknown = machines_first(None, bricks, [TRAFFIC], NUMBERS, about=about, sectors=["construction"])
    assert unknown == "On robots and machines, the sources below report: “AI plans robot traffic in warehouses” [1][3]."
    # ... item c is of no sure sector, so which sector the signal is of is not said


def test_a_kind_of_machine_asked_about_that_no_source_speaks_of_is_said_so() -> None:
    # Session 17's review: a van driver asked about drones and self-driving vans and read of driverless trucks only.
    question = (
        "I drive a delivery van, about 120 drops a day. Will drones or self-driving vans replace drivers like me?"
    )
    trucks = BriefSignal("Trucks run highways with no driver", "to driverless highway runs", "", "", ["a"], 1)
    sources = ["Driverless trucks start regular freight runs in Texas", "Delivery jobs grow with online shopping"]
    said = machines_first("It may change part of this job.", question, [trucks], NUMBERS, sources_say=sources)
    assert said is not None and said.startswith(
        "On robots and machines, the sources below report: “Trucks run highways with no driver” (to driverless"
        " highway runs) [1]. None of the sources below speaks of drones. It may change part of this job."
    )
    both = machines_first(None, question, [], NUMBERS, sources_say=sources[1:])
    assert both == "None of the sources below speaks of drones or vehicles that drive themselves."
    # A source that names the kind, anywhere in its words, speaks of it; without sources there is nothing to say.
    assert machines_first(None, question, [], NUMBERS, sources_say=["Parcel drones tested", "A driverless van"]) is None
    assert machines_first(None, question, [], NUMBERS) is None
    till = "I'm a cashier, though they keep adding self-checkouts. Is my job going?"
    assert machines_first(None, till, [], NUMBERS, sources_say=["Self-checkout tills spread"]) is None
    assert machines_first(None, till, [], NUMBERS, sources_say=["Shops hire"]) == (
        "None of the sources below speaks of self-checkouts."
    )


def test_a_kind_of_machine_neither_the_sources_nor_the_studies_speak_of_is_said_once() -> None:
    # Session 19's reviewer read "None of the sources below speaks of robots" and "None of these studies rates robots
    # or machines" in one "In short" (and again under the figures) as the same caveat said over and over.
    question = "I'm a pharmacy technician in a hospital. Will robots and AI replace us?"
    said = _short(_ilo("Not Exposed"), question=question)
    assert said is not None and said.endswith("None of these studies rates robots or machines, which you asked about.")
    once = machines_first(said, question, [], NUMBERS, sources_say=["AI scribes draft notes"])
    assert once is not None and once.count("robots") == 1 and "None of the sources" not in once
    assert once.endswith("Neither the sources below nor these studies speak of robots, which you asked about.")
    # A source that speaks of robots leaves the studies' sentence as it was.
    assert machines_first(said, question, [], NUMBERS, sources_say=["Dispensing robots spread"]) == said
