"""Dates as people type them after ``--since`` or ``?since=``: YYYY-MM-DD, or YYYY-MM and YYYY for short.

One pattern for the CLI, the web page and the digest. A date must also exist on the calendar
(``2024-02-30`` does not), and its digits must be ASCII ones, since stored dates compare as text.
"""

from __future__ import annotations

import datetime
import re

__all__ = ["ISO_DATE", "is_iso_date", "parse_iso_date"]

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
