"""How the briefing words the ILO's task lists by where the tasks stand among all the tasks the ILO scores.

Session 10's blind reviews read a contact-centre task scored 0.6 (above nine in ten of all tasks) under "least open
to generative AI" as reassurance, and "rated low" sat above a lawyer's tasks though they score above most.
"""

from __future__ import annotations

from typing import Any

from shadowmatch_kb.brief.model import Briefing, rated_low, still_open
from shadowmatch_kb.brief.prompts import prompts_for
from shadowmatch_kb.brief.render import to_html, to_markdown


def _briefing(most: list[float], least: list[float], grade: str = "Exposed: Gradient 4") -> Briefing:
    def tasks(name: str, standings: list[float]) -> list[dict[str, Any]]:
        return [{"task": f"{name} task {n}", "score": 0.5, "percentile": p} for n, p in enumerate(standings)]

    grading = {"dataset": "ilo_genai_2025", "measure": "exposure gradient", "value": grade, "code": "5244"}
    occupation = {
        "isco": "5244",
        "label": "Contact centre salespersons",
        "score": 0.8,
        "exposure": [grading | {"attribution": "ILO", "plain": f"{grade}.", "percentile": None}],
        "most_exposed_tasks": tasks("Open", most),
        "least_exposed_tasks": tasks("Closed", least),
    }
    briefing = Briefing("I take calls about bills", None, [], 0)
    briefing.occupations = [occupation]
    return briefing


def test_least_open_tasks_above_most_of_all_tasks_are_not_called_safe() -> None:
    high = _briefing(most=[97.0], least=[88.0, 91.0])
    assert still_open(high.occupations[0]) and not rated_low(high.occupations[0])
    for page in (to_markdown(high), to_html(high)):
        assert "the least open in this job, though more open than most tasks the ILO rates" in page
    prompt = next(p for p in prompts_for(high) if "Closed task 0" in p)
    assert prompt.startswith("Of this job's tasks the ILO rates this one least open") and "still yours" not in prompt
    # One listed task under the middle: the list is not said to be above most.
    mixed = _briefing(most=[97.0], least=[40.0, 91.0])
    assert not still_open(mixed.occupations[0])
    assert "and these least open to it" in to_markdown(mixed)
    assert any("is it still yours in ten years?" in p for p in prompts_for(mixed))


def test_most_open_tasks_are_called_low_by_their_standing_not_the_jobs_grade() -> None:
    # Graded "minimal exposure", yet its most open task scores above nine in ten: not "rated low".
    lawyer = _briefing(most=[91.0], least=[60.0], grade="Minimal Exposure")
    assert not rated_low(lawyer.occupations[0])
    assert "Even the tasks the ILO rates most open" not in to_markdown(lawyer)
    assert any("Which parts could AI help with?" in p for p in prompts_for(lawyer))
    plumber = _briefing(most=[35.0, 42.0], least=[5.0], grade="Not Exposed")
    assert rated_low(plumber.occupations[0])
    assert "Even the tasks the ILO rates most open to generative AI in this job are rated low" in to_markdown(plumber)
    assert any("Could a chatbot help with any part of it?" in p for p in prompts_for(plumber))


def test_a_long_task_statement_is_quoted_up_to_a_comma_and_marked_cut() -> None:
    from shadowmatch_kb.brief.overview import short_task

    reporter = (
        "Collecting local, national and international news through interviews, investigation and observation, "
        "attending public events, seeking out records, reviewing written work, attending film and stage performances;"
    )
    assert short_task(reporter) == (
        "Collecting local, national and international news through interviews, investigation and observation, "
        "attending public events …"
    )
    agent = "Promoting goods and services by telephone or electronic mail, following scripts and working from lists;"
    assert short_task(agent) == agent.rstrip(";")  # short enough: whole, without the list's stop
    spaced = "Interpreting from a spoken or a signed language into another spoken or signed language , in particular "
    assert " ," not in short_task(spaced + "at conferences, meetings and similar occasions, and ensuring the meaning")
    briefing = _briefing(most=[97.0], least=[88.0])
    briefing.occupations[0]["most_exposed_tasks"][0]["task"] = reporter
    assert "attending public events …" in to_markdown(briefing) and "stage performances" not in to_html(briefing)
    assert any("attending public events …" in prompt for prompt in prompts_for(briefing))


def test_a_long_task_without_a_comma_is_cut_where_a_clause_starts_or_quoted_whole() -> None:
    # Session 11's reviews: "... to prospective buyers or tenants and explaining terms of …" read as a broken question.
    from shadowmatch_kb.brief.overview import TASK_WORDS_MOST, short_task

    showing = (
        "Showing properties to be sold or leased to prospective buyers or tenants and explaining terms of sale or "
        "conditions of rental or leasing;"
    )
    assert short_task(showing) == "Showing properties to be sold or leased to prospective buyers or tenants …"
    planning = (
        "Planning and organizing negotiations and procedures for determination of wage structures and level and for "
        "consultation with workers on conditions of employment;"
    )  # no comma, no clause starting: whole rather than cut mid-phrase
    assert short_task(planning) == planning.rstrip(";")
    ensuring = (
        "Managing physical facilities and making sure all buildings and equipment are maintained to ensure the centre "
        "is a safe area for children, staff and visitors"
    )
    assert (
        short_task(ensuring)
        == "Managing physical facilities and making sure all buildings and equipment are maintained …"
    )
    late = " ".join(["word"] * (TASK_WORDS_MOST + 2)) + ", and the rest of a very long statement"
    assert short_task(late) == late  # a comma past the window is no place to cut either
