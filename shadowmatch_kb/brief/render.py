"""A briefing as markdown (terminal and print) and as one self-contained, printable HTML page.

Both are laid out from the same ``Briefing``; neither adds a claim. Every text from the knowledge base is
escaped for its format: crawled text is hostile input. The HTML page loads nothing from anywhere (its
style is inline) and prints on one or two pages.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus, urlsplit

from shadowmatch_kb.brief.headline import (
    CITATION_MARK,
    EXPOSURE_FIGURES,
    asks_of_machines,
    figures_disagree,
    headline_figures,
)
from shadowmatch_kb.brief.model import (
    MAX_TITLE_CHARS,
    Briefing,
    Cited,
    Source,
    everyday_label,
    rated_low,
    still_open,
)
from shadowmatch_kb.brief.overview import short_task
from shadowmatch_kb.formats.inert import markdown_text
from shadowmatch_kb.occupations.wording import question_words
from shadowmatch_kb.text.english import plural

__all__ = ["EXPOSURE_FIGURES", "MAX_TITLE_CHARS", "briefing_html", "headline_figures", "to_html", "to_markdown"]

TASKS_SHOWN = 2
_HORIZON_LEAD = re.compile(
    r"^\s*(?:in|within|over)\s+(?:the\s+next\s+|a\s+)?(?:(?:10|ten)\s+years|decade)\s*[,:;-]?\s*", re.I
)
# What the ILO's index measures, said once: it rates tasks for generative AI, so it says nothing of robots or
# self-driving vehicles (a lorry driver's "minimal exposure" is not about driving).
_ILO_MEASURES = (
    "the ILO's grades and tasks rate how far generative AI (chatbots and other tools that produce text, code or "
    "images on request) could do this job's tasks"
)
_WHAT_FIGURES_MEASURE = f"{_ILO_MEASURES[0].upper()}{_ILO_MEASURES[1:]}, not robots or self-driving vehicles."
_MACHINES_NOT_RATED = "You asked about robots or machines, which none of these studies rates"
_NESTA_ON_MACHINES = (
    "Nesta's risk rates how well machine learning suits them, counting tasks that need dexterity or physical work "
    "among those machines find hard"
)
_NO_OCCUPATION_DATA = "No public research on occupations is available here yet."
# Reviews read an ILO grade of "not exposed" beside a 53 % share of tasks as a contradiction: each study asks its
# own question, which its line says. Said only where the studies shown lean opposite ways.
_FIGURES_DIFFER = (
    "The studies measure different things, each said on its line, so their figures can differ from one another and "
    "from those in the items."
)
_TASK_LISTS = (
    ("most_exposed_tasks", "Of this job's tasks, the ILO rates these most open to generative AI"),
    # Said again where it matters: a cashier asking about self-checkouts read "scanning" among the least open tasks
    # and took it for a rating of the machines (session 9's review), though the note above the section says so.
    ("least_exposed_tasks", "and these least open to it (no rating of robots or other machines)"),
)
# When even a job's "most open" tasks are rated low among all the ILO's tasks, it is said so, lest a reader take
# pressure-testing pipes for work a chatbot could do; when even its "least open" are more open than most, that is
# said too: a contact-centre agent read a task scored 0.6 (above nine in ten of all tasks) as safe (session 10).
_LOW_MOST_OPEN = "Even the tasks the ILO rates most open to generative AI in this job are rated low"
_OPEN_LEAST = (
    "and these the least open in this job, though more open than most tasks the ILO rates (no rating of robots or "
    "other machines)"
)
_md = markdown_text
_SOC_CODE = re.compile(r"^\d{2}-\d{4}")  # a US Standard Occupational Classification code ("29-1171.00")


def _job_code(briefing: Briefing, top: dict[str, Any]) -> str:
    """The group's ISCO-08 code, and where the title the person gave is filed when the group's name does not say it:
    "Health professionals (other)" for "I'm a radiographer" read as someone else's job (session 19's review)."""
    code = f"International job code (ISCO-08): {top['isco']}."
    title = (briefing.title or "").strip()
    named = question_words(title)
    if not named or str(top.get("matched_label", "")).lower() != title.lower():  # not one of ESCO's names for it
        return code
    if named[-1] in question_words(str(top["label"])):
        return code
    return f"{code} Europe's classification of occupations (ESCO) files {plural(title)} in it."


def _sectors_line(sectors: list[str]) -> str:
    """ "Sector: construction"; several apart by semicolons, since their names hold commas and "and" themselves
    ("law, accounting and professional services; IT, telecoms and media": session 19's review)."""
    if not sectors:
        return "Sector: not recognised"
    return f"Sector{'s' if len(sectors) > 1 else ''}: {'; '.join(sectors)}"


def _cites(briefing: Briefing, ids: list[str]) -> str:
    return "".join(f"[{briefing.number_of(i)}]" for i in ids)


def _horizon(text: str) -> str:
    # Rows often restate their column ("In 10 years, ..."), which reads twice under the heading.
    return _HORIZON_LEAD.sub("", text, count=1)


def _figure_text(figure: dict[str, Any], isco: str) -> str:
    """A figure in plain words when the matcher gives them, else its measure and value; a figure a dataset gives
    another occupation (reached through a crosswalk: a US one, or one ESCO occupation of the group) names it."""
    text = str(figure.get("plain") or f"{figure['measure']}: {_value(figure['value'])}")
    code, label = str(figure.get("code") or ""), " ".join(str(figure.get("label") or "").split())
    if code == isco or not label:
        return text
    if _SOC_CODE.match(code):  # a US study's occupations are not ISCO's: said to be its nearest, not this job itself
        # (session 18's reviewer read "figure for the US occupation “Animal Breeders”" for a dairy-farm worker)
        return f"{text.rstrip('.')}; figure for the US occupation “{label}”, the nearest in that study."
    return f"{text.rstrip('.')}; figure for the occupation “{label}”."


def _what_figures_measure(question: str, occupation: dict[str, Any], figures: list[dict[str, Any]]) -> str | None:
    """The note on what the figures measure: the ILO's (when any of its are shown), and for a question about robots or
    machines, that no study shown rates them (with what Nesta's risk does count, when it is shown)."""
    ilo = _speaks_of_ilo(occupation, figures)
    if not (figures and asks_of_machines(question)):
        return _WHAT_FIGURES_MEASURE if ilo else None
    said = [_ILO_MEASURES] if ilo else []
    said += [_NESTA_ON_MACHINES] if any(f["dataset"] == "nesta_automation" for f in figures) else []
    return f"{_MACHINES_NOT_RATED}: {'; '.join(said)}." if said else f"{_MACHINES_NOT_RATED}."


def _speaks_of_ilo(occupation: dict[str, Any], figures: list[dict[str, Any]]) -> bool:
    """Whether the section shows anything of the ILO's (a figure or a task list), which its note explains."""
    return any(f["dataset"].startswith("ilo") for f in figures) or any(occupation.get(k) for k, _ in _TASK_LISTS)


def _signals_heading(briefing: Briefing) -> str:
    # Rows of the closest items only are not the changes in the person's work: the heading says whose they are.
    return "Signals in the closest items" if briefing.only_closest else "Signals of change"


def _value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _task_lists(occupation: dict[str, Any]) -> list[tuple[str, str]]:
    """The occupation's task lists and how each is introduced."""
    labels = dict(_TASK_LISTS)
    if rated_low(occupation):
        labels["most_exposed_tasks"] = _LOW_MOST_OPEN
    if still_open(occupation):
        labels["least_exposed_tasks"] = _OPEN_LEAST
    return list(labels.items())


def _attributions(figures: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(f["attribution"] for f in figures))


def to_markdown(briefing: Briefing) -> str:
    """The briefing in markdown: short enough to print on two pages."""
    lines = [f"# Briefing: {_md(briefing.question)}", ""]
    since = f" Published since {briefing.since}." if briefing.since else ""
    lines += [f"*{_sectors_line(briefing.sectors)}.{since}*", ""]
    if briefing.in_short:
        lines += [f"**In short.** {_marked(briefing.in_short, _md, lambda n: f' [{n}]')}", ""]
    if briefing.notice:
        lines += [f"> **Little evidence.** {_md(briefing.coverage)} {_md(briefing.notice)}".rstrip(), ""]
    elif briefing.coverage:
        lines += [_md(briefing.coverage), ""]
    # One order for every briefing, the person's occupation first (session 12's and 13's reviews read the section
    # moving between thin briefings and the others as carelessness); on a thin one its figures are the firmest part.
    lines += _occupation_markdown(briefing)
    if briefing.overview:
        lines += ["## Overview", ""]
        lines += [f"- {_setting_md(briefing, c)}{_md(c.text)} {_cites(briefing, c.sources)}" for c in briefing.overview]
        lines.append("")
    if briefing.signals:
        lines += [f"## {_signals_heading(briefing)}", ""]
        for n, s in enumerate(briefing.signals, start=1):
            lines.append(f"{n}. **{_md(s.signal)}** {_cites(briefing, s.sources)}")
            for label, value in (
                ("Change", s.change),
                ("In 10 years", _horizon(s.horizon)),
                ("Driven by", s.driving_force),
            ):
                if value.strip():
                    lines.append(f"   - *{label}:* {_md(value)}")
        lines.append("")
    if briefing.prompts:
        lines += ["## For the shadow day", ""]
        lines += [f"{n}. {_md(p)}" for n, p in enumerate(briefing.prompts, start=1)]
        lines.append("")
    if briefing.sources:
        lines += ["## Sources", ""]
        for source in briefing.sources:
            link = f" <{source.url}>" if source.url else ""
            lines.append(f"{source.number}. {_md(source.title)} ({_md(_when_and_about(source))}){link}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _setting(briefing: Briefing, claim: Cited) -> tuple[str, str] | None:
    """Where an item's own sentence comes from: its title, and its site and year ("gov.uk, 2023"), so "The study
    found..." names its study, and a mentor can tell a government report from a personal blog at a glance."""
    if not claim.is_quote or not claim.sources:
        return None
    source = next((s for s in briefing.sources if s.id == claim.sources[0]), None)
    if source is None:
        return None
    site = ((urlsplit(source.url).hostname or "") if source.url else "").removeprefix("www.")
    return source.title, ", ".join(part for part in (site, (source.published or "")[:4]) if part)


def _setting_md(briefing: Briefing, claim: Cited) -> str:
    found = _setting(briefing, claim)
    if found is None:
        return ""
    title, year = found
    return f"*{_md(title)}*{f' ({year})' if year else ''}: "


_NOT_CLEAR = "Your words do not point clearly to one occupation, so this may not be yours."


def _is_this_you(briefing: Briefing, others: str) -> str | None:
    """The line under the occupation's name: the close others, and whether the match is unsure (``others`` is
    already in the page's own markup)."""
    # "Your words fit this occupation only loosely" read as a verdict on right matches too (about three in four of
    # those called unsure are right; session 13's review): the line says what is known, that the words fit others.
    if not others:
        return _NOT_CLEAR if briefing.occupation_unsure else None
    if briefing.occupation_unsure:
        return f"Is this your job? Your words could also fit {others}."
    return f"Is this you? If not, the closest others are {others}."


def _occupation_markdown(briefing: Briefing) -> list[str]:
    if not briefing.occupations:
        if "esco" in briefing.missing_datasets:
            return ["## Your occupation", "", f"*{_NO_OCCUPATION_DATA}*", ""]
        return []
    top = briefing.occupations[0]
    heading = f"## Your occupation: {_md(everyday_label(top['label']))}"
    lines = [heading, "", f"*{_md(_job_code(briefing, top))}*", ""]
    others = [_md(everyday_label(o["label"])) for o in briefing.alternatives]
    if line := _is_this_you(briefing, ", ".join(others)):
        lines += [f"*{line}*", ""]
    figures = headline_figures(top)
    if note := _what_figures_measure(briefing.question, top, figures):
        lines += [f"*{note}*", ""]
    for f in figures:
        lines.append(f"- {_md(_figure_text(f, top['isco']))}")
    for key, label in _task_lists(top):
        if top.get(key):
            tasks = "; ".join(_md(short_task(t["task"])) for t in top[key][:TASKS_SHOWN])
            lines.append(f"- *{label}:* {tasks}")
    if figures_disagree(figures):
        lines += ["", f"*{_FIGURES_DIFFER}*"]
    if figures:
        lines += ["", "*Figures from:* " + " · ".join(_md(a) for a in _attributions(figures))]
    return [*lines, ""]


# ----- html ---------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; }
body { font: 16px/1.5 Georgia, "Times New Roman", serif; color: #1b1b1b; max-width: 46rem; margin: 2rem auto;
  padding: 0 1rem; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 1.4rem 0 .4rem; border-bottom: 1px solid #ccc; }
.meta { color: #555; margin: 0 0 1rem; }
.notice { border-left: 4px solid #b35c00; background: #fff4e5; padding: .5rem .8rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .3rem .4rem; text-align: left; vertical-align: top; }
thead th { background: #f2f2f2; }
a { color: #0b4f8a; }
sup.cites a { text-decoration: none; }
.small { font-size: .85rem; color: #444; }
ol.sources li { margin-bottom: .2rem; word-break: break-word; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; line-height: 1.35; }
  h1 { font-size: 14pt; }
  h2 { font-size: 11.5pt; margin: .8rem 0 .3rem; }
  table { font-size: 8.5pt; }
  h2 { break-after: avoid; }
  tr, li { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  ol.sources a::after { content: " <" attr(href) ">"; font-size: 8.5pt; }
  @page { margin: 1.3cm; }
}
"""


# The page's only style is inline; nothing else may load or run.
_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _marked(text: str, escape: Callable[[str], str], mark: Callable[[str], str]) -> str:
    """``text`` escaped, but for its citation marks ("[2]"), which become ``mark`` of their number."""
    pieces = CITATION_MARK.split(text)  # text, number, text, number, ..., text
    return "".join(mark(piece) if n % 2 else escape(piece) for n, piece in enumerate(pieces))


def _html_mark(briefing: Briefing, number: int) -> str:
    """A citation mark of ``number`` as a link to its source; as plain text when no source has that number."""
    if 1 <= number <= len(briefing.sources):
        return _html_marks([number])
    return _e(f"[{number}]")


def _e(text: object) -> str:
    return html.escape(" ".join(str(text).split()), quote=True)


def _html_cites(briefing: Briefing, ids: list[str]) -> str:
    return _html_marks([briefing.number_of(item_id) for item_id in ids])


def _html_marks(numbers: list[int]) -> str:
    marks = "".join(f'<a href="#source-{n}" aria-label="source {n}">[{n}]</a>' for n in numbers)
    return f'<sup class="cites">{marks}</sup>'


def to_html(briefing: Briefing) -> str:
    """One self-contained printable page: inline style, no scripts, nothing loaded from elsewhere."""
    return (
        "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en"><head><meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                f'<meta http-equiv="Content-Security-Policy" content="{_PAGE_CSP}">',
                f"<title>Briefing: {_e(briefing.question)}</title>",
                f"<style>{_CSS}</style></head><body><main>",
                briefing_html(briefing),
                "</main></body></html>",
            ]
        )
        + "\n"
    )


def briefing_html(
    briefing: Briefing, *, item_link: str | None = None, reask_link: str | None = None, reask_form: str | None = None
) -> str:
    """The briefing as an HTML fragment, from its heading to its sources (the page and the web share it).

    With ``item_link`` (e.g. "/items/{id}") each source's title leads to its item and its own URL is
    written out beside it; without, the title links to the source's URL. With ``reask_link`` (e.g.
    "/brief?q={question}&occupation={isco}") each close alternative occupation re-asks with that one; with
    ``reask_form`` (e.g. "/brief") a small form re-asks with the job title the person types.
    """
    parts = [f"<h1>Briefing: {_e(briefing.question)}</h1>"]
    since = f" Published since {_e(briefing.since)}." if briefing.since else ""
    parts.append(f'<p class="meta">{_e(_sectors_line(briefing.sectors))}.{since}</p>')
    if briefing.in_short:
        said = _marked(briefing.in_short, _e, lambda n: _html_mark(briefing, int(n)))
        parts.append(f'<p class="in-short"><strong>In short.</strong> {said}</p>')
    if briefing.notice:
        said = f"{_e(briefing.coverage)} {_e(briefing.notice)}".strip()
        parts.append(f'<p class="notice" role="note"><strong>Little evidence.</strong> {said}</p>')
    elif briefing.coverage:
        parts.append(f'<p class="coverage">{_e(briefing.coverage)}</p>')
    parts += _occupation_html(briefing, reask_link, reask_form)  # first on every briefing, as in the markdown
    if briefing.overview:
        parts += ["<h2>Overview</h2>", '<ul class="overview">']
        for claim in briefing.overview:
            setting = _setting(briefing, claim)
            where = f"<em>{_e(setting[0])}</em>{f' ({setting[1]})' if setting[1] else ''}: " if setting else ""
            parts.append(f"<li>{where}{_e(claim.text)}{_html_cites(briefing, claim.sources)}</li>")
        parts.append("</ul>")
    if briefing.signals:
        parts += [
            f"<h2>{_signals_heading(briefing)}</h2>",
            '<table class="signals"><thead><tr><th scope="col">Signal</th><th scope="col">Change</th>'
            '<th scope="col">In 10 years</th><th scope="col">Driven by</th></tr></thead><tbody>',
        ]
        for s in briefing.signals:
            parts.append(
                f'<tr><th scope="row">{_e(s.signal)}{_html_cites(briefing, s.sources)}</th>'
                f'<td data-label="Change">{_e(s.change)}</td>'
                f'<td data-label="In 10 years">{_e(_horizon(s.horizon))}</td>'
                f'<td data-label="Driven by">{_e(s.driving_force)}</td></tr>'
            )
        parts.append("</tbody></table>")
    if briefing.prompts:
        parts += ["<h2>For the shadow day</h2>", "<ol>", *(f"<li>{_e(p)}</li>" for p in briefing.prompts), "</ol>"]
    if briefing.sources:
        parts += ["<h2>Sources</h2>", '<ol class="sources">']
        for source in briefing.sources:
            parts.append(f'<li id="source-{source.number}">{_source_html(source, item_link)}</li>')
        parts.append("</ol>")
    return "\n".join(parts)


def _when_and_about(source: Source) -> str:
    """A source's date and what it is about: "2024-02-27; on banking and insurance" (sector names hold commas and
    "and" themselves, so a second one reads "..., and on retail and wholesale trade")."""
    about = "".join(f"{', and' if n else ';'} on {sector}" for n, sector in enumerate(source.about))
    return f"{source.published or 'undated'}{about}"


def _source_html(source: Source, item_link: str | None) -> str:
    when = f' <span class="small">({_e(_when_and_about(source))})</span>'
    if item_link is None:
        title = f'<a href="{_e(source.url)}">{_e(source.title)}</a>' if source.url else _e(source.title)
        return title + when
    title = f'<a href="{_e(item_link.format(id=source.id))}">{_e(source.title)}</a>'
    external = f' <a class="external" href="{_e(source.url)}">{_e(source.url)}</a>' if source.url else ""
    return title + when + external


def _occupation_html(briefing: Briefing, reask_link: str | None, reask_form: str | None) -> list[str]:
    form = [_title_form(briefing, reask_form)] if reask_form and "esco" not in briefing.missing_datasets else []
    if not briefing.occupations:
        if "esco" in briefing.missing_datasets:
            return ["<h2>Your occupation</h2>", f'<p class="small">{_NO_OCCUPATION_DATA}</p>']
        return ["<h2>Your occupation</h2>", *form] if form else []
    top = briefing.occupations[0]
    parts = [f"<h2>Your occupation: {_e(everyday_label(top['label']))}</h2>"]
    parts.append(f'<p class="small">{_e(_job_code(briefing, top))}</p>')
    others = [_alternative_html(briefing, o, reask_link) for o in briefing.alternatives]
    if line := _is_this_you(briefing, ", ".join(others)):
        parts.append(f'<p class="small alternatives">{line}</p>')
    parts += form
    figures = headline_figures(top)
    if note := _what_figures_measure(briefing.question, top, figures):
        parts.append(f'<p class="small">{html.escape(note, quote=False)}</p>')
    parts.append("<ul>")
    parts += [f"<li>{_e(_figure_text(f, top['isco']))}</li>" for f in figures]
    for key, label in _task_lists(top):
        if top.get(key):
            tasks = "; ".join(_e(short_task(t["task"])) for t in top[key][:TASKS_SHOWN])
            parts.append(f"<li><em>{label}:</em> {tasks}</li>")
    parts.append("</ul>")
    if figures_disagree(figures):
        parts.append(f'<p class="small">{_FIGURES_DIFFER}</p>')
    if figures:
        parts.append('<p class="small">Figures from: ' + " · ".join(_e(a) for a in _attributions(figures)) + "</p>")
    return parts


def _title_form(briefing: Briefing, action: str) -> str:
    """A form that asks the same question again with the job title the person types: when neither the occupation
    found nor the close others are theirs, their title alone finds it far more often than their day described."""
    since = f'<input type="hidden" name="since" value="{_e(briefing.since)}">' if briefing.since else ""
    return (
        f'<form class="retitle" action="{_e(action)}" method="get">'
        f'<input type="hidden" name="q" value="{_e(briefing.question)}">{since}'
        '<label for="job-title">Not your job? Your job title:</label> '
        f'<input id="job-title" name="occupation" type="text" maxlength="{MAX_TITLE_CHARS}" required '
        'placeholder="e.g. plumber"> <button type="submit">Ask again</button></form>'
    )


def _alternative_html(briefing: Briefing, occupation: dict[str, Any], reask_link: str | None) -> str:
    # Named without their codes: "Hand and pedal vehicle drivers (9331)" read as jargon (sessions 19 and 20's
    # reviews); a link carries the code, and `--occupation` takes a job title.
    text = _e(everyday_label(occupation["label"]))
    if reask_link is None:
        return text
    href = reask_link.format(question=quote_plus(briefing.question), isco=quote_plus(str(occupation["isco"])))
    return f'<a href="{_e(href)}">{text}</a>'
