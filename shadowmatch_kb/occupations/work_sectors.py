"""The sectors where each kind of work is mostly done: ISCO-08 groups to ISIC Rev.4 sections.

``work_sectors.toml`` (shipped with the package, written for this project from the two classifications'
definitions) maps ISCO-08 groups of 1 to 4 digits to section letters; the most specific group of a code
wins, and an empty list says the work is spread over many sections. A briefing reads a person's sector
from their occupation first: the words of a question name a sector far less reliably than the job does
("I design logos for clients" is about design work, not about professional-services firms).
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources

__all__ = ["work_sectors"]

_TABLE_FILE = "work_sectors.toml"


@lru_cache(maxsize=1)
def _table() -> dict[str, tuple[str, ...]]:
    raw = tomllib.loads(resources.files(__package__).joinpath(_TABLE_FILE).read_text(encoding="utf-8"))
    table: dict[str, tuple[str, ...]] = {}
    for code, letters in raw.items():
        if not re.fullmatch(r"\d{1,4}", code) or not isinstance(letters, list):
            raise ValueError(f"{_TABLE_FILE}: {code!r} is not an ISCO-08 group with a list of sections")
        if not all(isinstance(x, str) and re.fullmatch(r"[A-U]", x) for x in letters):
            raise ValueError(f"{_TABLE_FILE}: {code} lists something other than ISIC section letters A-U")
        table[code] = tuple(letters)
    return table


def work_sectors(isco: str) -> tuple[str, ...]:
    """The ISIC section letters where the work of ISCO-08 group ``isco`` is mostly done, most usual first;
    empty when the table names none for it or any group above it."""
    table = _table()
    for length in range(min(len(isco), 4), 0, -1):
        found = table.get(isco[:length])
        if found is not None:
            return found
    return ()
