"""Figures of several studies come with a note that each measures its own thing.

Session 9's reviews read the ILO's "not exposed" beside a GPT-4 share of 53 %, and a lawyer's "minimal" beside an
item's "44 percent of legal tasks", as contradictions.
"""

from __future__ import annotations

from typing import Any

from shadowmatch_kb.brief.model import Briefing
from shadowmatch_kb.brief.render import _FIGURES_DIFFER, to_html, to_markdown


def _figure(dataset: str, plain: str) -> dict[str, Any]:
    figure = {"dataset": dataset, "code": "2611", "label": "Lawyers", "measure": "m", "value": 0.1, "plain": plain}
    return figure | {"attribution": f"{dataset}, CC BY 4.0"}


def _briefing(*figures: dict[str, Any]) -> Briefing:
    briefing = Briefing("I'm a solicitor doing conveyancing", None, [], 0)
    briefing.occupations = [{"isco": "2611", "label": "Lawyers", "score": 0.9, "exposure": list(figures)}]
    return briefing


def test_figures_of_two_studies_say_they_measure_different_things() -> None:
    ilo = _figure("ilo_genai_2025", "The ILO rates this job minimally exposed.")
    gpts = _figure("gpts_are_gpts", "A GPT-4-class model could speed up about 60% of this job's tasks.")
    two = _briefing(ilo, gpts)
    assert f"*{_FIGURES_DIFFER}*" in to_markdown(two)
    assert _FIGURES_DIFFER in to_html(two)
    one = _briefing(ilo)  # a single study contradicts nothing
    assert _FIGURES_DIFFER not in to_markdown(one) and _FIGURES_DIFFER not in to_html(one)
