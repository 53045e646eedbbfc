"""What the briefing's occupation section shows a mentor: the ILO's task lists, whose figures they read, and
the note on what the ILO measures.

Session 8's blind mentor review read "Driving and tending passenger, vans, cars or taxis" (ILO score 0.173) among
the tasks most open to generative AI and "Driving and tending cars, vans or small trucks to deliver mail" (0.165)
among the least; a nurse's GPT-4 figure that belongs to US nurse practitioners without saying so; and the ILO's
note above a section with no ILO figure under it.
"""

from __future__ import annotations

from typing import Any

from shadowmatch_kb.brief.model import Briefing
from shadowmatch_kb.brief.render import to_html, to_markdown
from shadowmatch_kb.occupations.service import _tasks_by_closeness

# The ILO's task scores of car, taxi and van drivers (ISCO 8322), as its index gives them.
DRIVER_TASKS = [
    ("Determining most appropriate route;", 0.735),
    ("Operating telecommunications equipment to report location;", 0.485),
    ("Collecting fares, payments for deliveries, or documents certifying deliveries;", 0.35),
    ("Driving and tending passenger, vans, cars or taxis;", 0.173),
    ("Driving and tending cars, vans or small trucks to deliver mail or goods;", 0.165),
    ("Assisting physically challenged passengers;", 0.123),
    ("Assisting passengers with handling of luggage;", 0.1),
    ("Operating equipment to facilitate the loading and unloading;", 0.08),
]


def test_tasks_the_ilo_scores_alike_are_never_on_opposite_sides() -> None:
    most, least = _tasks_by_closeness(None, "I drive a van", "8322", DRIVER_TASKS)
    # The top third of the group's range (0.08 to 0.735) holds the route alone; both driving tasks are in the bottom.
    assert [t["score"] for t in most] == [0.735]
    assert {t["score"] for t in least} <= {0.173, 0.165, 0.123, 0.1, 0.08} and len(least) == 3
    assert min(t["score"] for t in most) - max(t["score"] for t in least) >= (0.735 - 0.08) / 3


def test_a_group_whose_tasks_all_score_alike_has_no_most_or_least_list() -> None:
    alike = [("Scanning goods;", 0.42), ("Taking payment;", 0.41), ("Bagging goods;", 0.35)]
    assert _tasks_by_closeness(None, "I work on the till", "5230", alike) == ([], [])
    apart = [("Scanning goods;", 0.46), ("Taking payment;", 0.41), ("Bagging goods;", 0.35)]
    assert _tasks_by_closeness(None, "I work on the till", "5230", apart) != ([], [])


# The ILO's tasks of accounting associate professionals (ISCO 3313), as its index scores them.
BOOKKEEPING_TASKS = [
    ("Supervising the work of accounts and bookkeeping clerks.", 0.71),
    ("Maintaining complete records of financial transactions;", 0.69),
    ("Preparing tax returns and other reports;", 0.62),
    ("Meeting clients to discuss their affairs;", 0.2),
]


def test_supervising_staff_is_not_put_to_someone_who_runs_nothing() -> None:
    # Session 17's review: a freelance bookkeeper was asked to show "Supervising the work of ... clerks".
    freelance = _tasks_by_closeness(None, "I'm a bookkeeper for a dozen small firms", "3313", BOOKKEEPING_TASKS)
    assert not any("Supervising" in t["task"] for part in freelance for t in part)
    assert [t["score"] for t in freelance[0]] == [0.69, 0.62]
    lead = _tasks_by_closeness(None, "I manage the bookkeeping team at a firm", "3313", BOOKKEEPING_TASKS)
    assert any("Supervising" in t["task"] for t in lead[0])
    # When supervising is all the ILO lists, it stays; children are not staff.
    only = [("Supervising the work of office support workers.", 0.7), ("Supervising clerical staff;", 0.2)]
    assert [[t["score"] for t in part] for part in _tasks_by_closeness(None, "I work in an office", "3343", only)] == [
        [0.7],
        [0.2],
    ]
    kept = _tasks_by_closeness(
        None, "I teach Year 3", "2341", [("Supervising children at play;", 0.1), ("Planning lessons;", 0.7)]
    )
    assert [t["score"] for t in kept[1]] == [0.1]


def _figure(dataset: str, code: str, label: str, plain: str) -> dict[str, Any]:
    return {"dataset": dataset, "code": code, "label": label, "measure": "m", "value": 0.1, "plain": plain}


def _briefing(occupation: dict[str, Any]) -> Briefing:
    briefing = Briefing("I'm a staff nurse on a surgical ward", None, [], 0)
    briefing.occupations = [{"isco": "2221", "label": "Nursing professionals", "score": 0.8} | occupation]
    return briefing


def test_a_figure_for_another_occupation_says_whose_it_is() -> None:
    own = _figure("ilo_genai_2025", "2221", "Nursing professionals", "The ILO figure: low.")
    us = _figure("gpts_are_gpts", "29-1171.00", "Nurse Practitioners", "The GPT-4 share: lower than 76% (0.04).")
    esco = _figure("nesta_automation", "http://data.europa.eu/esco/occupation/8d3e", "general care nurse", "Nesta.")
    for figure in (own, us, esco):
        figure["attribution"] = figure["dataset"]
    briefing = _briefing({"exposure": [own, us, esco]})
    for page in (to_markdown(briefing), to_html(briefing)):
        assert "; figure for the US occupation “Nurse Practitioners”, the nearest in that study." in page
        assert "; figure for the occupation “general care nurse”." in page
        assert "The ILO figure: low." in page and "for the occupation “Nursing professionals”" not in page


def test_the_ilo_note_stands_only_above_something_of_the_ilos() -> None:
    nesta = _figure("nesta_automation", "2221", "Nursing professionals", "Nesta: lower than 80%.")
    nesta["attribution"] = "Nesta"
    without = _briefing({"exposure": [nesta]})
    assert "The ILO's grades and tasks rate" not in to_markdown(without)
    assert "The ILO's grades and tasks rate" not in to_html(without)
    with_tasks = _briefing({"exposure": [nesta], "most_exposed_tasks": [{"task": "Keeping patient records;"}]})
    assert "The ILO's grades and tasks rate" in to_markdown(with_tasks)
    assert "The ILO's grades and tasks rate" in to_html(with_tasks)


def test_the_least_open_tasks_say_that_machines_are_not_rated() -> None:
    scanning = {
        "exposure": [],
        "most_exposed_tasks": [{"task": "Keeping sales records;"}],
        "least_exposed_tasks": [{"task": "Scanning goods;"}],
    }
    for page in (to_markdown(_briefing(scanning)), to_html(_briefing(scanning))):
        assert "and these least open to it (no rating of robots or other machines):" in page


def test_the_gpts_are_gpts_figure_shown_is_its_headline_measure() -> None:
    from shadowmatch_kb.brief.render import headline_figures

    alpha = _figure("gpts_are_gpts", "29-1171.00", "Nurse Practitioners", "Alpha.") | {
        "measure": "GPT-4 rated exposure alpha (E1)"
    }
    beta = alpha | {"measure": "human rated exposure beta (E1 + 0.5*E2)", "plain": "Beta."}
    shown = headline_figures({"isco": "2221", "exposure": [alpha, beta]})
    assert [f["plain"] for f in shown] == ["Beta."]


class _Closeness:
    """Stands in for the matcher's ``closeness``: a fixed cosine of the person's words with each task."""

    def __init__(self, by_task: dict[str, float]) -> None:
        self.by_task = by_task

    def closeness(self, text: str, isco: str, texts: list[str]) -> list[float]:
        return [self.by_task[t] for t in texts]


def test_tasks_far_from_the_persons_work_are_not_shown() -> None:
    # The ILO's tasks of translators and other linguists (2643), and how close each is to a translator's words.
    tasks = [
        ("Revising and correcting translated material.", 0.7, 0.494),
        ("Translating from one language into another;", 0.64, 0.506),
        ("Interpreting from a spoken or a signed language into another;", 0.535, 0.325),
        ("Studying relationships between ancient parent languages;", 0.4, 0.166),
    ]
    matcher = _Closeness({t: c for t, _, c in tasks})
    most, least = _tasks_by_closeness(matcher, "I translate leaflets", "2643", [(t, s) for t, s, _ in tasks])  # type: ignore[arg-type]
    shown = [t["task"] for t in most + least]
    assert "Studying relationships between ancient parent languages;" not in shown
    assert [t["task"] for t in least] == ["Interpreting from a spoken or a signed language into another;"]
    # Of the tasks left (0.535 to 0.7), the top third holds revising alone.
    assert [t["task"] for t in most] == ["Revising and correcting translated material."]


def test_a_catch_all_groups_tasks_far_from_the_words_are_not_read_as_the_persons() -> None:
    # The ILO's tasks of "Health professionals not elsewhere classified" (2269), where ESCO files radiographers, and
    # how close each is to a radiographer's words (session 19's review read the last two as shown to them).
    tasks = [
        ("Interviewing patients and conducting diagnostic tests to determine their health status", 0.165, 0.346),
        ("Evaluating and documenting patients' progress through treatment plans", 0.295, 0.321),
        ("Administering therapeutic care, including chiropractic and osteopathic techniques", 0.1075, 0.253),
        ("Performing minor surgical procedures such as on the foot and ankles.", 0.0925, 0.212),
    ]
    matcher = _Closeness({t: c for t, _, c in tasks})
    given = [(t, s) for t, s, _ in tasks]
    most, least = _tasks_by_closeness(matcher, "I take X-rays", "2269", given, catch_all=True)  # type: ignore[arg-type]
    assert [t["task"] for t in most] == [tasks[1][0]] and [t["task"] for t in least] == [tasks[0][0]]
    # The same tasks in a group of one kind of work: all four lie within reach of the closest.
    most, least = _tasks_by_closeness(matcher, "I take X-rays", "2269", given)  # type: ignore[arg-type]
    assert tasks[3][0] in [t["task"] for t in least]
    # When none is that close, or those that are score alike, there is no list rather than the group's others.
    far = _Closeness({t: c - 0.1 for t, _, c in tasks})
    assert _tasks_by_closeness(far, "I take X-rays", "2269", given, catch_all=True) == ([], [])  # type: ignore[arg-type]
    alike = [(t, 0.2 if n < 2 else s) for n, (t, s) in enumerate(given)]
    assert _tasks_by_closeness(matcher, "I take X-rays", "2269", alike, catch_all=True) == ([], [])  # type: ignore[arg-type]


def test_a_task_the_ilo_file_leaves_unnamed_is_never_shown(tmp_path) -> None:
    import sqlite3

    from shadowmatch_kb.occupations.store import tasks_for, work_texts
    from shadowmatch_kb.store.migrations import apply_migrations

    db = sqlite3.connect(tmp_path / "kb.sqlite")
    apply_migrations(db)
    db.executemany(
        "INSERT INTO occupation_tasks VALUES (?, ?, ?, ?)",
        [("ilo", "7126", "nan", 0.35), ("ilo", "7126", "Installing sinks and toilets;", 0.098)],
    )
    assert tasks_for(db, "7126") == [("Installing sinks and toilets;", 0.098)]
    assert [w.text for w in work_texts(db)] == ["Installing sinks and toilets;"]
    db.close()


def test_nesta_leads_with_its_risk_category_and_no_standing_reads_100_percent() -> None:
    from shadowmatch_kb.brief.render import headline_figures

    risk = _figure("nesta_automation", "7126", "Plumbers", "Risk 3.39.") | {"measure": "overall automation risk"}
    category = risk | {"measure": "automation risk category", "plain": "Low risk: Nesta places this job ..."}
    assert [f["plain"] for f in headline_figures({"isco": "7126", "exposure": [risk, category]})] == [category["plain"]]


def test_a_grade_that_says_only_in_the_middle_is_not_shown_and_takes_no_other_figure_in() -> None:
    # Nesta's "neither high nor low risk" is the grade of three in four occupations: both of session 12's reviewers
    # read it as telling the host nothing. Its number stays out too, as does a fourth dataset.
    from shadowmatch_kb.brief.render import headline_figures

    ilo = _figure("ilo_genai_2025", "4224", "Hotel receptionists", "ILO grade.") | {"measure": "exposure gradient"}
    risk = _figure("nesta_automation", "4224", "Hotel receptionists", "Risk 3.1.") | {
        "measure": "overall automation risk"
    }
    middle = risk | {"measure": "automation risk category", "value": "Other", "plain": "Neither high nor low risk."}
    gpts = _figure("gpts_are_gpts", "43-4081.00", "Hotel Desk Clerks", "GPTs.") | {
        "measure": "human rated exposure beta (E1 + 0.5*E2)"
    }
    copilot = _figure("working_with_ai", "43-4081", "Hotel Desk Clerks", "Copilot.")
    occupation = {"isco": "4224", "exposure": [ilo, risk, middle, gpts, copilot]}
    assert [f["plain"] for f in headline_figures(occupation)] == ["ILO grade.", "GPTs."]
    high = middle | {"value": "High risk", "plain": "High risk."}
    occupation["exposure"] = [ilo, risk, high, gpts, copilot]
    assert [f["plain"] for f in headline_figures(occupation)] == ["ILO grade.", "High risk.", "GPTs."]


def test_the_top_and_bottom_figures_never_read_beyond_99_percent(tmp_path) -> None:
    import sqlite3

    from shadowmatch_kb.occupations.datasets import ILO_INFO
    from shadowmatch_kb.occupations.explain import FigureStanding, explained
    from shadowmatch_kb.occupations.records import ISCO08, DatasetRecords, Figure
    from shadowmatch_kb.occupations.store import Exposure, save_dataset
    from shadowmatch_kb.store.migrations import apply_migrations

    db = sqlite3.connect(tmp_path / "kb.sqlite")
    apply_migrations(db)
    codes = [f"{n:04d}" for n in range(1000, 1300)]  # 300 unit groups, scores 0.000 to 0.299
    figures = [Figure(ISCO08, code, "mean task score", n / 1000, "") for n, code in enumerate(codes)]
    save_dataset(db, DatasetRecords(info=ILO_INFO, figures=figures), "ilo")
    standing = FigureStanding(db)
    top = explained(Exposure("ilo_genai_2025", "mean task score", 0.299, "ILO", "1299", "Top"), standing)
    near_bottom = explained(Exposure("ilo_genai_2025", "mean task score", 0.002, "ILO", "1002", "Low"), standing)
    top_words, bottom_words = str(top["plain"]), str(near_bottom["plain"])
    assert top["percentile"] == 99.7 and "higher than 99% of" in top_words and "100%" not in top_words
    assert near_bottom["percentile"] == 0.7 and "lower than 99% of" in bottom_words
    db.close()


def test_when_the_near_tasks_score_alike_every_task_is_read() -> None:
    # A group the person chose that is far from their words: its two near tasks score alike, so all are read.
    tasks = [("Cutting sheet metal;", 0.5, 0.30), ("Bending sheet metal;", 0.48, 0.29), ("Welding seams;", 0.1, 0.05)]
    matcher = _Closeness({t: c for t, _, c in tasks})
    most, least = _tasks_by_closeness(matcher, "I fix boilers", "7213", [(t, s) for t, s, _ in tasks])  # type: ignore[arg-type]
    assert [t["task"] for t in most] == ["Cutting sheet metal;", "Bending sheet metal;"]
    assert [t["task"] for t in least] == ["Welding seams;"]


def test_a_catch_all_group_reads_other_not_not_elsewhere_classified() -> None:
    briefing = _briefing({"exposure": []})
    briefing.occupations[0]["label"] = "Process control technicians not elsewhere classified"
    briefing.alternatives = [{"isco": "2269", "label": "Health professionals not elsewhere classified", "score": 0.5}]
    for page in (to_markdown(briefing), to_html(briefing)):
        assert "Process control technicians (other)" in page and "others are Health professionals (other)." in page
        assert "elsewhere classified" not in page


def test_a_catch_all_group_reads_other_in_a_sentence() -> None:
    from shadowmatch_kb.brief.model import people_of

    assert people_of("Process control technicians not elsewhere classified") == "other process control technicians"
    assert people_of("ICT operations technicians not elsewhere classified") == "other ICT operations technicians"
    assert people_of("Plumbers and pipe fitters") == "plumbers and pipe fitters"


def test_the_us_figure_is_that_of_the_best_matching_esco_occupation(tmp_path) -> None:
    """Session 9's reviews read a ward nurse's GPT-4 figure for US nurse practitioners: the crosswalk of the
    second-best ESCO occupation ("specialist nurse") spoke before that of the best ("nurse responsible for general
    care", registered nurses), in the order the database returned them."""
    import sqlite3

    from shadowmatch_kb.occupations.datasets import GPTS_INFO, NESTA_INFO
    from shadowmatch_kb.occupations.records import ESCO, ONET_SOC, CrosswalkLink, DatasetRecords, Figure
    from shadowmatch_kb.occupations.store import figures_for, save_dataset
    from shadowmatch_kb.store.migrations import apply_migrations

    db = sqlite3.connect(tmp_path / "kb.sqlite", isolation_level=None)
    apply_migrations(db)
    general, specialist = "http://data.europa.eu/esco/occupation/general", "http://data.europa.eu/esco/occupation/spec"
    crosswalk = [  # the second best first, as a database may return it
        CrosswalkLink(ONET_SOC, "29-1171.00", ESCO, specialist),
        CrosswalkLink(ONET_SOC, "29-1141.00", ESCO, general),
    ]
    save_dataset(db, DatasetRecords(info=NESTA_INFO, crosswalk=crosswalk), "nesta")
    measure = "human rated exposure beta (E1 + 0.5*E2)"
    figures = [
        Figure(ONET_SOC, "29-1171.00", measure, 0.31, "Nurse Practitioners"),
        Figure(ONET_SOC, "29-1141.00", measure, 0.38, "Registered Nurses"),
    ]
    save_dataset(db, DatasetRecords(info=GPTS_INFO, figures=figures), "gpts")

    assert [f.label for f in figures_for(db, "2221", [general, specialist])] == ["Registered Nurses"]
    assert [f.label for f in figures_for(db, "2221", [specialist, general])] == ["Nurse Practitioners"]


def test_the_occupation_comes_first_on_every_briefing_thin_or_not() -> None:
    # Sessions 12 and 13's reviews: the section moved between thin briefings (first) and the others (after the
    # signals), which read as carelessness; one order now, the person's occupation first.
    from shadowmatch_kb.brief.model import BriefSignal, Cited, Source

    for notice in ("Treat what follows as a starting point.", None):
        figure = _figure("ilo_genai_2025", "2221", "Nursing professionals", "ILO: low.") | {"attribution": "ILO"}
        briefing = _briefing({"exposure": [figure]})
        briefing.notice = notice
        briefing.sources = [Source(1, "a" * 32, "Scribes on wards", None, "2024-01-01")]
        briefing.overview = [Cited("Nurses draft notes with AI.", ["a" * 32])]
        briefing.signals = [BriefSignal("Notes drafted by AI", "from typing to checking", "", "", ["a" * 32], 1)]
        markdown = to_markdown(briefing)
        assert markdown.index("## Your occupation") < markdown.index("## Overview") < markdown.index("## Signals")
        page = to_html(briefing)
        assert page.index("Your occupation") < page.index("<h2>Overview</h2>") < page.index("<h2>Signals")


def test_a_title_the_groups_name_does_not_say_is_said_to_be_filed_in_it() -> None:
    # Session 19's reviewer read "Your occupation: Health professionals (other)" for "I'm a radiographer" as another
    # job: ESCO files radiographers there, and the page now says so.
    def code_line(title: str | None, matched: str, label: str) -> str:
        briefing = _briefing({"label": label, "matched_label": matched, "exposure": []})
        briefing.title = title
        page = to_markdown(briefing)
        assert ("files" in page) == ("files" in to_html(briefing))
        return next(line for line in page.splitlines() if "International job code" in line)

    other = "Health professionals not elsewhere classified"
    assert code_line("radiographer", "radiographer", other) == (
        "*International job code (ISCO-08): 2221. Europe's classification of occupations (ESCO) files radiographers "
        "in it.*"
    )
    assert code_line("plumber", "plumber", "Plumbers and pipe fitters").endswith("2221.*")  # the name says it
    assert code_line("packing machine operator", "packing machine engineer", other).endswith("2221.*")  # not ESCO's
    assert code_line(None, "radiographer", other).endswith("2221.*")  # no title given
