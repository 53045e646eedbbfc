"""The questions a briefing gives the host for the shadow day, and its first sentence.

The blind mentor review of session 9 found prompts that told a written translator to show their visitor
conference interpreting and a contracts solicitor to show pleading in court: the ILO lists the tasks of a whole
group of occupations, and a host may do few of them. A signal may be a statistic, not something seen at work.
"""

from __future__ import annotations

from shadowmatch_kb.brief.model import Briefing, BriefSignal
from shadowmatch_kb.brief.overview import lead_sentence
from shadowmatch_kb.brief.prompts import prompts_for

TRANSLATOR = {
    "isco": "2643",
    "label": "Translators, interpreters and other linguists",
    "exposure": [{"dataset": "ilo_genai_2025", "measure": "exposure gradient", "value": "Exposed: Gradient 3"}],
    "most_exposed_tasks": [{"task": "Revising and correcting translated material"}],
    "least_exposed_tasks": [{"task": "Interpreting from a spoken language into another at conferences"}],
}


def test_the_host_shows_an_ilo_task_only_if_it_is_theirs() -> None:
    briefing = Briefing("I translate medical leaflets from French into English", None, [], 1)
    briefing.occupations = [TRANSLATOR]
    briefing.signals = [BriefSignal("Finance tops UK sector exposure list", "", "", "", ["a" * 32], 1)]
    prompts = prompts_for(briefing)

    most = next(p for p in prompts if "Revising and correcting translated material" in p)
    assert most.startswith("If you do this task, show it to your visitor:")
    least = next(p for p in prompts if "at conferences" in p)
    assert least.startswith("The ILO rates this task least open to generative AI:") and "If you do it," in least
    assert not any(p.startswith(("Show your visitor", "Now show")) for p in prompts)
    # A signal may be a figure from a study: the host says whether it matches their work, not whether they saw it.
    assert prompts[0] == (
        'Talk about "Finance tops UK sector exposure list". Does it match what you see at work? '
        "What would it change in your day?"
    )
    # Session 11's reviews: a bricklayer asked whether factory robots, the nearest the knowledge base held, "match
    # what you see at work". A signal that only stands in is asked about as what it is.
    briefing.standing_in = True
    assert prompts_for(briefing)[0] == (
        'The closest change found: "Finance tops UK sector exposure list". Could something like it reach '
        "your work? What would it change in your day?"
    )


def test_the_first_sentence_names_the_closest_change_found_and_how_many_report_it() -> None:
    lorries = BriefSignal("Trucks run highways with no driver", "From drivers to software", "", "", ["a" * 32], 1)
    lead = lead_sentence([lorries])
    assert lead is not None and lead.sources == ["a" * 32] and not lead.is_quote
    # Said as the closest the knowledge base holds, not as a claim about the job itself.
    assert lead.text == (
        "Closest to your work among the changes found: Trucks run highways with no driver (from drivers to "
        "software); one source reports it."
    )
    lorries.support = 3
    supported = lead_sentence([lorries])
    assert supported is not None and supported.text.endswith("; 3 independent sources report it.")
    assert lead_sentence([]) is None


def test_a_signal_keeps_its_capitals_and_its_quotes_read_inside_the_prompts_own() -> None:
    # Session 12's review: "(aI assistants improve physician performance ...)" and
    # 'The nearest the knowledge base holds: ""Career cushioning" trend in the workplace"'.
    ai = BriefSignal("AI messaging for doctors", "AI assistants improve replies", "", "", ["a" * 32], 1)
    lead = lead_sentence([ai])
    assert lead is not None and "(AI assistants improve replies)" in lead.text
    lower = BriefSignal("Scribes", "From typing to dictating", "", "", ["a" * 32], 1)
    assert "(from typing to dictating)" in lead_sentence([lower]).text  # type: ignore[union-attr]
    quoted = BriefSignal('"Career cushioning" trend in the workplace', "", "", "", ["b" * 32], 1)
    briefing = Briefing("I work in an office", None, [], 1)
    briefing.signals = [quoted, ai]
    briefing.standing_in = True
    prompts = prompts_for(briefing)
    assert prompts[0].startswith("The closest change found: \"'Career cushioning' trend in the workplace\".")
    assert 'Ask your visitor what they make of "AI messaging for doctors".' in " ".join(prompts)
