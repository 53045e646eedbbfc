"""Where each kind of work is done: the ISCO-08 → ISIC table a briefing reads a person's sector from."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from shadowmatch_kb.occupations.work_sectors import _table, work_sectors
from shadowmatch_kb.text.sectors import SectorVocabulary

ISCO_GROUPS = Path(__file__).resolve().parents[2] / "shared" / "data" / "occupations" / "esco_v1" / "ISCOGroups_en.csv"


def test_the_most_specific_group_wins() -> None:
    assert work_sectors("7126") == ("F",)  # plumbers: building trades (71)
    assert work_sectors("2166") == ("J", "R")  # graphic designers override architects and designers (216)
    assert work_sectors("2211") == ("Q",)  # any health professional (22)
    assert work_sectors("7231") == ()  # vehicle mechanics: an empty list names none on purpose, over 72
    assert work_sectors("4110") == ()  # general office clerks: no row at any level
    assert work_sectors("") == ()


def test_every_row_names_sections_the_vocabulary_knows() -> None:
    vocabulary = SectorVocabulary.load()
    for code, letters in _table().items():
        assert code.isdigit() and 1 <= len(code) <= 4
        for letter in letters:
            assert vocabulary.section_name(letter), (code, letter)


def test_every_row_is_an_isco_group() -> None:
    if not ISCO_GROUPS.is_file():
        pytest.skip(f"{ISCO_GROUPS} is absent: the ESCO v1 data of ../shared/data is needed")
    with ISCO_GROUPS.open(encoding="utf-8") as handle:
        codes = {row["code"] for row in csv.DictReader(handle)}
    unknown = [code for code in _table() if code != "0" and code not in codes]
    assert unknown == []


def test_a_group_unlike_its_parent_names_its_own_sector() -> None:
    # ISCO-08 files shelf fillers under transport and storage labourers (933), but they stack shelves in shops: a
    # supermarket worker matched to them was told about warehouse robots.
    assert work_sectors("9333") == ("H",) and work_sectors("9334") == ("G",)
    assert work_sectors("8342") == ("F",) and work_sectors("8344") == ("H",)  # earthmovers build, forklifts store
    assert work_sectors("5223") == ("G",) and work_sectors("5246") == ("I",)  # a café counter serves food
    assert work_sectors("9121") == ("S",) and work_sectors("9123") == ("N",)  # window cleaning is building cleaning
    # Cleaners "in offices, hotels and other establishments": a hotel room attendant was told her sector was business
    # support (session 11's review); the place the question names decides.
    assert work_sectors("9112") == ()
