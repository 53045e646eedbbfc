"""Figures of studies that lean opposite ways come with a note that each measures its own thing.

Session 9's reviews read the ILO's "not exposed" beside a GPT-4 share of 53 % as a contradiction; session 10's read
the note, shown under every briefing, as boilerplate: it is shown only where the studies shown disagree.
"""

from __future__ import annotations

from typing import Any

from shadowmatch_kb.brief.model import Briefing
from shadowmatch_kb.brief.render import _FIGURES_DIFFER, to_html, to_markdown


def _figure(dataset: str, value: object, percentile: float | None = None) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "code": "4222",
        "label": "Contact centre information clerks",
        "measure": "m",
        "value": value,
        "percentile": percentile,
        "plain": f"{dataset} says {value}.",
        "attribution": f"{dataset}, CC BY 4.0",
    }


def _briefing(*figures: dict[str, Any]) -> Briefing:
    briefing = Briefing("I take calls about bills", None, [], 0)
    briefing.occupations = [{"isco": "4222", "label": "Clerks", "score": 0.9, "exposure": list(figures)}]
    return briefing


def _noted(briefing: Briefing) -> bool:
    markdown, html = to_markdown(briefing), to_html(briefing)
    assert (f"*{_FIGURES_DIFFER}*" in markdown) == (_FIGURES_DIFFER in html)
    return _FIGURES_DIFFER in markdown


def test_only_studies_leaning_opposite_ways_say_they_measure_different_things() -> None:
    not_exposed = _figure("ilo_genai_2025", "Not Exposed")
    assert _noted(_briefing(not_exposed, _figure("gpts_are_gpts", 0.53, percentile=84.0)))
    assert _noted(_briefing(_figure("ilo_genai_2025", "Exposed: Gradient 4"), _figure("nesta_automation", "Low risk")))
    assert not _noted(_briefing(not_exposed, _figure("nesta_automation", "Low risk")))  # both low
    assert not _noted(_briefing(not_exposed, _figure("gpts_are_gpts", 0.3, percentile=51.0)))  # a middle figure
    assert not _noted(_briefing(not_exposed))  # one study contradicts nothing
