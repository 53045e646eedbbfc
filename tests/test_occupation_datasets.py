"""The public occupation datasets, read from ../shared/data/occupations as published (ESCO is tested elsewhere)."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from conftest import require_shared

from shadowmatch_kb.errors import UsageError
from shadowmatch_kb.occupations.datasets import KNOWN_DATASETS, UnknownDatasetError, read_dataset
from shadowmatch_kb.occupations.records import DatasetRecords, Figure

ESCO_URI = re.compile(r"http://data\.europa\.eu/esco/occupation/[0-9a-f-]{36}")
ONET_CODE = re.compile(r"\d{2}-\d{4}\.\d{2}")


def figures_of(records: DatasetRecords, code: str) -> dict[str, Figure]:
    return {figure.measure: figure for figure in records.figures if figure.code == code}


def assert_credited(records: DatasetRecords, key: str, year: int, licence: str) -> None:
    info = records.info
    assert (info.key, info.year, info.licence) == (key, year, licence)
    assert info.name.strip() and "\n" not in info.attribution
    assert licence in info.attribution


def assert_one_line_usage_error(excinfo: pytest.ExceptionInfo[UsageError], *words: str) -> None:
    message = str(excinfo.value)
    assert "\n" not in message
    for word in words:
        assert word in message


# --- ILO refined generative-AI exposure index -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ilo() -> DatasetRecords:
    return read_dataset(require_shared("occupations", "ilo_genai_exposure_2025"))


def test_ilo_has_427_occupations_and_3266_scored_tasks(ilo):
    assert_credited(ilo, "ilo_genai_2025", 2025, "CC BY 4.0")
    assert "Gmyrek" in ilo.info.attribution and "ILO" in ilo.info.attribution
    gradients = [figure for figure in ilo.figures if figure.measure == "exposure gradient"]
    assert len(gradients) == len({figure.code for figure in gradients}) == 427
    assert len(ilo.tasks) == 3266
    assert {figure.scheme for figure in ilo.figures} == {"isco08"}
    assert all(re.fullmatch(r"[1-9]\d{3}", figure.code) for figure in ilo.figures)  # no armed forces (major group 0)
    assert {task.isco for task in ilo.tasks} == {figure.code for figure in gradients}


def test_ilo_exposure_gradients_are_the_published_grades(ilo):
    grades = Counter(figure.value for figure in ilo.figures if figure.measure == "exposure gradient")
    assert grades == {
        "Not Exposed": 231,
        "Minimal Exposure": 84,
        "Exposed: Gradient 1": 17,
        "Exposed: Gradient 2": 44,
        "Exposed: Gradient 3": 38,
        "Exposed: Gradient 4": 13,
    }


def test_ilo_software_developers(ilo):
    figures = figures_of(ilo, "2512")
    assert figures["exposure gradient"].value == "Exposed: Gradient 3"
    assert figures["exposure gradient"].label == "Software developers"
    # The xlsx publishes mean_score_2025 0.53 and SD_2025 0.07, rounded to two places.
    assert figures["mean task score"].value == pytest.approx(0.53, abs=0.005)
    assert figures["task score standard deviation"].value == pytest.approx(0.07, abs=0.005)


def test_ilo_tasks_keep_text_and_score(ilo):
    legislators = [task for task in ilo.tasks if task.isco == "1111"]
    assert len(legislators) == 8
    assert legislators[0].score == 0.34
    assert legislators[0].task.startswith("Presiding over or participating in the proceedings of legislative bodies")
    assert all(0.0 <= task.score <= 1.0 for task in ilo.tasks)


def test_ilo_is_recognised_from_one_of_its_files_and_under_another_name(tmp_path):
    folder = require_shared("occupations", "ilo_genai_exposure_2025")
    assert read_dataset(folder / "output_data.json").info.key == "ilo_genai_2025"
    renamed = tmp_path / "whatever-the-user-called-it"
    renamed.symlink_to(folder, target_is_directory=True)
    assert len(read_dataset(renamed).tasks) == 3266


# --- GPTs are GPTs --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gpts() -> DatasetRecords:
    return read_dataset(require_shared("occupations", "gpts_are_gpts"))


def test_gpts_are_gpts_gives_six_exposure_measures_for_923_occupations(gpts):
    assert_credited(gpts, "gpts_are_gpts", 2024, "MIT")
    measures = Counter(figure.measure for figure in gpts.figures)
    assert len(measures) == 6 and set(measures.values()) == {923}
    assert "GPT-4 rated exposure beta (E1 + 0.5*E2)" in measures
    assert "human rated exposure gamma (E1 + E2)" in measures
    assert all(figure.scheme == "onet-soc" and ONET_CODE.fullmatch(figure.code) for figure in gpts.figures)
    assert all(isinstance(figure.value, float) and 0.0 <= figure.value <= 1.0 for figure in gpts.figures)


def test_gpts_are_gpts_software_developers(gpts):
    figures = figures_of(gpts, "15-1252.00")
    assert figures["GPT-4 rated exposure alpha (E1)"].value == pytest.approx(0.7894736842105263)
    assert figures["human rated exposure alpha (E1)"].value == pytest.approx(0.05263157894736842)
    assert figures["GPT-4 rated exposure alpha (E1)"].label == "Software Developers"


# --- Working with AI ------------------------------------------------------------------------------------------------


def test_working_with_ai_scores_785_soc_occupations():
    records = read_dataset(require_shared("occupations", "working_with_ai"))
    assert_credited(records, "working_with_ai", 2025, "CC BY 4.0")
    assert "Tomlinson" in records.info.attribution
    assert len(records.figures) == len({figure.code for figure in records.figures}) == 785
    assert all(figure.scheme == "soc2018" and re.fullmatch(r"\d{2}-\d{4}", figure.code) for figure in records.figures)
    top = max(records.figures, key=lambda figure: float(figure.value))
    assert (top.code, top.label, top.measure) == ("27-3091", "Interpreters and Translators", "AI applicability score")
    assert top.value == pytest.approx(0.492198965408607)


# --- Nesta Mapping Career Causeways ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nesta() -> DatasetRecords:
    return read_dataset(require_shared("occupations", "nesta_mapping_career_causeways"))


def test_nesta_automation_risk_by_esco_occupation(nesta):
    assert_credited(nesta, "nesta_automation", 2020, "MIT")
    esco = [figure for figure in nesta.figures if figure.scheme == "esco"]
    assert len({figure.code for figure in esco}) == 1627
    assert all(ESCO_URI.fullmatch(figure.code) for figure in esco)
    developer = figures_of(nesta, "http://data.europa.eu/esco/occupation/f2b15a0e-e65a-438a-affb-29b9d50b77d1")
    assert developer["overall automation risk"].value == pytest.approx(3.47221)
    assert developer["overall automation risk"].label == "software developer"
    assert developer["automation risk category"].value == "Other"
    categories = Counter(figure.value for figure in esco if figure.measure == "automation risk category")
    assert categories == {"Other": 1229, "High risk": 217, "Low risk": 181}


def test_nesta_automation_risk_by_isco_group(nesta):
    isco = [figure for figure in nesta.figures if figure.scheme == "isco08"]
    codes = {figure.code for figure in isco}
    assert sum(len(code) == 4 for code in codes) == 421 and sum(len(code) == 3 for code in codes) == 122
    assert figures_of(nesta, "2512")["overall automation risk"].value == pytest.approx(3.448905)


def test_nesta_crosswalk_links_onet_to_esco(nesta):
    assert 1_000 < len(nesta.crosswalk) < 10_000  # 1,680 ESCO occupations, each with its best O*NET match
    assert len(nesta.crosswalk) == 1680
    assert all(ONET_CODE.fullmatch(link.from_code) and ESCO_URI.fullmatch(link.to_code) for link in nesta.crosswalk)
    assert {(link.from_scheme, link.to_scheme) for link in nesta.crosswalk} == {("onet-soc", "esco")}
    developer = "http://data.europa.eu/esco/occupation/f2b15a0e-e65a-438a-affb-29b9d50b77d1"
    # The crosswalk uses the O*NET-SOC 2010 taxonomy: software developers map to 15-1131.00, computer programmers.
    assert [link.from_code for link in nesta.crosswalk if link.to_code == developer] == ["15-1131.00"]


def test_nesta_is_recognised_from_a_subfolder():
    folder = require_shared("occupations", "nesta_mapping_career_causeways", "automation_risk")
    assert read_dataset(folder).info.key == "nesta_automation"


# --- O*NET occupation data ------------------------------------------------------------------------------------------


def test_onet_titles_and_descriptions():
    records = read_dataset(require_shared("occupations", "onet_occupation_data"))
    assert_credited(records, "onet", 2010, "CC BY 4.0")  # the file follows the O*NET-SOC 2010 taxonomy
    assert len(records.figures) == len({figure.code for figure in records.figures}) == 1110
    assert {figure.measure for figure in records.figures} == {"description"}
    programmers = figures_of(records, "15-1131.00")["description"]
    assert programmers.label == "Computer Programmers"
    assert str(programmers.value).startswith("Create, modify, and test the code")


# --- Recognition and bad input --------------------------------------------------------------------------------------


def test_known_datasets_are_the_keys():
    assert KNOWN_DATASETS == ("esco", "ilo_genai_2025", "gpts_are_gpts", "working_with_ai", "nesta_automation", "onet")


def test_an_unknown_folder_names_the_datasets_known(tmp_path):
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "output_data.json").write_text('{"name": "something else"}', encoding="utf-8")
    with pytest.raises(UnknownDatasetError) as excinfo:
        read_dataset(tmp_path)
    assert isinstance(excinfo.value, UsageError)
    assert_one_line_usage_error(excinfo, str(tmp_path), *KNOWN_DATASETS)


def test_a_missing_path_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError) as excinfo:
        read_dataset(tmp_path / "absent")
    assert_one_line_usage_error(excinfo, "absent", "does not exist")


def test_an_unreadable_csv_is_a_usage_error(tmp_path):
    (tmp_path / "occ_level.csv").write_bytes(b"\x1f\x8b\x08\x00\xff\xfe binary, not text\n\x80\x81")
    with pytest.raises(UsageError) as excinfo:
        read_dataset(tmp_path)
    assert_one_line_usage_error(excinfo, "occ_level.csv", "not a readable CSV")


def test_a_csv_without_the_expected_columns_is_a_usage_error(tmp_path):
    (tmp_path / "soc_ai_applicability_scores.csv").write_text("SOC Code,score\n15-1252,0.3\n", encoding="utf-8")
    with pytest.raises(UsageError) as excinfo:
        read_dataset(tmp_path)
    assert_one_line_usage_error(excinfo, "soc_ai_applicability_scores.csv", "ai_applicability_score", "title")


def test_a_cell_that_should_be_a_number_is_a_usage_error(tmp_path):
    (tmp_path / "soc_ai_applicability_scores.csv").write_text(
        "SOC Code,title,ai_applicability_score\n15-1252,Software Developers,high\n", encoding="utf-8"
    )
    with pytest.raises(UsageError) as excinfo:
        read_dataset(tmp_path)
    assert_one_line_usage_error(excinfo, "soc_ai_applicability_scores.csv", "line 2", "ai_applicability_score")


def test_a_dataset_missing_one_of_its_files_is_a_usage_error(tmp_path):
    (tmp_path / "automation_risk").mkdir()
    (tmp_path / "automation_risk" / "mcc_risk_All_occupations.csv").write_text(
        "id,occupation,isco_code,risk,prevalence,risk_category,risk_nonphysical,prevalence_nonphysical,concept_uri\n",
        encoding="utf-8",
    )
    with pytest.raises(UsageError) as excinfo:
        read_dataset(tmp_path)
    assert_one_line_usage_error(excinfo, "esco_onet_crosswalk_Nov2020.csv", "missing")


def test_an_ilo_folder_with_only_the_xlsx_or_a_broken_tree_is_a_usage_error(tmp_path):
    (tmp_path / "Final_Scores_ISCO08_Gmyrek_et_al_2025.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(UsageError) as excinfo:
        read_dataset(tmp_path)
    assert_one_line_usage_error(excinfo, "output_data.json", "missing")
    (tmp_path / "output_data.json").write_text('{"name": "ISCO-08", "children": [', encoding="utf-8")
    with pytest.raises(UsageError) as excinfo:
        read_dataset(tmp_path)
    assert_one_line_usage_error(excinfo, "output_data.json", "not a readable JSON")


# --- every figure has plain words -----------------------------------------------------------------------------------


def test_every_published_grade_and_measure_has_plain_words(ilo, gpts, nesta):
    """A figure a reader brings in is explained to mentors in our own words, never shown bare (see explain.py)."""
    from shadowmatch_kb.occupations.datasets import read_dataset as read
    from shadowmatch_kb.occupations.explain import _GRADES, _MEASURES, _SHARES

    wwai = read(require_shared("occupations", "working_with_ai"))
    for records in (ilo, gpts, nesta, wwai):
        for figure in records.figures:
            key = (records.info.key, figure.measure)
            if isinstance(figure.value, float):
                assert key in _MEASURES or key in _SHARES, key
            else:
                assert figure.value in _GRADES[key], (key, figure.value)
