"""A host who asks about robots or machines is told that the figures shown do not rate them, and what they rate.

Session 11's review: three of twelve hosts asked whether robots, or trains that drive themselves, would take their
work; the figures (generative AI, machine learning) were read as dodging the question.
"""

from __future__ import annotations

from test_occupation_figures_differ import _figure

from shadowmatch_kb.brief.model import Briefing
from shadowmatch_kb.brief.render import _WHAT_FIGURES_MEASURE, to_html, to_markdown

ASKED = "You asked about robots or machines, which none of these studies rates"


def _rendered(question: str, *datasets: str) -> tuple[str, str]:
    briefing = Briefing(question, None, [], 0)
    figures = [_figure(d, "Low risk" if d.startswith("nesta") else "Not Exposed") for d in datasets]
    briefing.occupations = [{"isco": "7112", "label": "Bricklayers", "score": 0.9, "exposure": figures}]
    return to_markdown(briefing), to_html(briefing)


def test_a_question_about_robots_is_told_the_studies_do_not_rate_them() -> None:
    for question in (
        "I lay bricks on housing sites. Will robots or AI ever do bricklaying?",
        "I drive passenger trains. Will trains drive themselves soon?",
        "I work in a care home. Could machines ever do my job?",
        # Session 12: a hotel receptionist asked about check-in kiosks and was not told.
        "I'm on the front desk of a city hotel. Will check-in kiosks and AI put receptionists out of work?",
    ):
        markdown, html = _rendered(question, "ilo_genai_2025", "nesta_automation")
        assert f"*{ASKED}: the ILO's grades and tasks rate how far generative AI" in markdown, question
        assert "; Nesta's risk rates how well machine learning suits them" in markdown and ASKED in html
        assert _WHAT_FIGURES_MEASURE not in markdown  # said once, in the answer to the question asked
    markdown, _ = _rendered("Will robots take my job?", "nesta_automation")  # no ILO figure: Nesta's alone
    assert f"*{ASKED}: Nesta's risk rates" in markdown and "the ILO's" not in markdown


def test_a_machine_named_in_the_work_rather_than_asked_about_changes_nothing() -> None:
    markdown, html = _rendered("I run a sewing machine in a factory. How will AI change my job?", "ilo_genai_2025")
    assert ASKED not in markdown and ASKED not in html and f"*{_WHAT_FIGURES_MEASURE}*" in markdown
    markdown, _ = _rendered("How will AI change my job?")  # no figure shown: no note either
    assert ASKED not in markdown and _WHAT_FIGURES_MEASURE not in markdown
