"""Calendar periods the tracker counts in: months ("2024-03") or quarters ("2024-Q1")."""

from __future__ import annotations

from shadowmatch_kb.errors import UsageError

__all__ = ["PERIOD_KINDS", "check_by", "period_of", "period_range"]

PERIOD_KINDS = ("month", "quarter")


def check_by(by: str) -> str:
    """``by`` itself when it is a period kind the tracker knows, else a usage error."""
    if by not in PERIOD_KINDS:
        raise UsageError(f"--by must be month or quarter, not {by!r}")
    return by


def period_of(date: str, by: str) -> str:
    """The period a YYYY-MM-DD (or YYYY-MM) date falls in."""
    year, month = int(date[:4]), int(date[5:7])
    return f"{year:04d}-{month:02d}" if by == "month" else f"{year:04d}-Q{(month - 1) // 3 + 1}"


def period_range(first: str, last: str, by: str) -> list[str]:
    """Every period from ``first`` to ``last`` inclusive, so series with empty periods still line up."""
    step = 1 if by == "month" else 3
    year, month = _start_month(first)
    end = _start_month(last)
    found: list[str] = []
    while (year, month) <= end:
        found.append(period_of(f"{year:04d}-{month:02d}", by))
        month += step
        if month > 12:
            year, month = year + 1, month - 12
    return found


def _start_month(period: str) -> tuple[int, int]:
    year, rest = int(period[:4]), period[5:]
    if rest.startswith("Q"):
        return year, (int(rest[1:]) - 1) * 3 + 1
    return year, int(rest)
