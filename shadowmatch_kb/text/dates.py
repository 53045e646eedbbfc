"""Dates as people type them after ``--since`` or ``?since=``: YYYY-MM-DD, or YYYY-MM and YYYY for short.

One pattern for the CLI, the web page and the digest. A date must also exist on the calendar
(``2024-02-30`` does not), and its digits must be ASCII ones, since stored dates compare as text.

A published date can also be wrong and still be a date: a year typed as 2029, or a number such as
``1747.0`` read as a year. ``date_doubt`` says why such a date cannot be counted in a period.
"""

from __future__ import annotations

import datetime
import re

__all__ = [
    "EARLIEST_PLAUSIBLE",
    "ISO_DATE",
    "address_date",
    "date_doubt",
    "date_notes",
    "is_iso_date",
    "parse_iso_date",
]

# Whole-string use only (``fullmatch``): ``$`` would let a final newline through.
ISO_DATE = re.compile(r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?")


def parse_iso_date(value: str) -> str | None:
    """The day a YYYY-MM-DD, YYYY-MM or YYYY date starts on, as YYYY-MM-DD; None for anything else."""
    if not ISO_DATE.fullmatch(value):
        return None
    full = {4: value + "-01-01", 7: value + "-01"}.get(len(value), value)
    try:
        return datetime.date.fromisoformat(full).isoformat()
    except ValueError:
        return None


def is_iso_date(value: str) -> bool:
    """Whether ``value`` is a YYYY-MM-DD, YYYY-MM or YYYY date that exists on the calendar."""
    return parse_iso_date(value) is not None


# A date in a web address's path, as news sites write them: "/2023/01/28/", "/2024/2/11/" or "/2023/01/" (a day or
# a month).
_ADDRESS_DATE = re.compile(r"/((?:19|20)[0-9]{2})/([0-9]{1,2})/(?:([0-9]{1,2})/)?")


def address_date(url: str | None) -> str | None:
    """The date a web address's path carries ("https://edition.cnn.com/2023/01/28/tech/..." -> "2023-01-28"; a
    month alone -> "2023-07"), None when it carries none that exists on the calendar."""
    found = _ADDRESS_DATE.search(url or "")
    if found is None:
        return None
    year, month, day = found.groups()
    value = f"{year}-{int(month):02d}" + (f"-{int(day):02d}" if day else "")
    return value if is_iso_date(value) else None


# The tracker follows writing on AI and work; nothing it holds was published before this. An earlier date is a
# slip of the source or of reading it (a page number or a "1747.0" taken for a year).
EARLIEST_PLAUSIBLE = "1990-01-01"


def date_doubt(published: str | None, today: str) -> str | None:
    """Why a published YYYY-MM-DD date cannot be counted ("after today", "before 1990"); None when it can or is
    None (an undated item is not a wrong date)."""
    if published is None:
        return None
    if published > today:
        return "after today"
    if published < EARLIEST_PLAUSIBLE:
        return f"before {EARLIEST_PLAUSIBLE[:4]}"
    return None


def date_notes(published: str | None, unread: str | None, today: str | None = None) -> list[str]:
    """What an import says of an input's date: one that is not a date (``unread``, as written), or a date the
    tracker cannot count."""
    if unread:
        return [f"its date {unread!r} is not a date: imported as undated"]
    doubt = date_doubt(published, today or datetime.date.today().isoformat())
    return [f"dated {published}, {doubt}: kept out of the tracker until its date is corrected"] if doubt else []
