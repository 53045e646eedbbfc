"""Text whose UTF-8 bytes were once read as Mac Roman or Windows-1252, put back: "patients‚Äô" -> "patients’".

Published datasets carry such runs (the ILO's task statements among them). Only a run of non-ASCII
characters that re-reads as valid UTF-8 is replaced, so correct accented text is left as it is.
"""

from __future__ import annotations

import re

__all__ = ["repair_mojibake"]

_RUN = re.compile(r"[^\x00-\x7f]{2,}")
_MISREAD_AS = ("cp1252", "mac_roman")  # the stricter first: fewer of its runs re-read by chance


def _repaired(run: re.Match[str]) -> str:
    text = run.group(0)
    for encoding in _MISREAD_AS:
        try:
            fixed = text.encode(encoding).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed != text:
            return fixed
    return text


def repair_mojibake(text: str) -> str:
    """``text`` with each run of misread UTF-8 decoded again; anything else unchanged."""
    return _RUN.sub(_repaired, text) if not text.isascii() else text
