"""Calendar quarters, Transparency Code deadlines and month spans.

Pure date helpers shared by compliance and the report. A quarter is labelled
``YYYY-Qn`` (``2025-Q3`` is July to September 2025).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

#: How many months a row's ``payment_date`` stands for, by ``date_precision``.
PRECISION_MONTHS = {"day": 1, "month": 1, "quarter": 3, "year": 12}

_QUARTER_LABEL = re.compile(r"^(\d{4})-Q([1-4])$")


class BadQuarter(ValueError):
    """A quarter label that is not of the form ``YYYY-Qn``."""


def month_index(day: date) -> int:
    """Months since year 0: a single integer that orders months.

    >>> month_index(date(2025, 3, 9)) - month_index(date(2024, 12, 1))
    3
    """
    return day.year * 12 + day.month - 1


def month_start(index: int) -> date:
    """First day of the month with this :func:`month_index`.

    >>> month_start(month_index(date(2025, 3, 9)))
    datetime.date(2025, 3, 1)
    """
    return date(index // 12, index % 12 + 1, 1)


def add_months(day: date, months: int) -> date:
    """First day of the month ``months`` after the month of ``day``.

    >>> add_months(date(2025, 11, 30), 3)
    datetime.date(2026, 2, 1)
    """
    return month_start(month_index(day) + months)


def month_span(start: date, precision: str | None) -> list[date]:
    """First days of every month a row dated ``start`` with this precision stands for.

    Unknown or missing precisions count as one month.

    >>> [d.month for d in month_span(date(2025, 7, 1), "quarter")]
    [7, 8, 9]
    >>> month_span(date(2025, 7, 14), "day")
    [datetime.date(2025, 7, 1)]
    """
    months = PRECISION_MONTHS.get(precision or "day", 1)
    return [add_months(start, k) for k in range(months)]


def quarter_of(day: date) -> str:
    """Label of the calendar quarter holding ``day``.

    >>> quarter_of(date(2025, 8, 15))
    '2025-Q3'
    """
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def parse_quarter(label: str) -> tuple[int, int]:
    """``(year, quarter)`` from a label; :class:`BadQuarter` for anything else.

    >>> parse_quarter("2025-Q3")
    (2025, 3)
    >>> parse_quarter("2025Q3")
    Traceback (most recent call last):
    ...
    normalise.compliance.periods.BadQuarter: not a quarter label (expected e.g. 2025-Q3): '2025Q3'
    """
    match = _QUARTER_LABEL.match(label.strip()) if isinstance(label, str) else None
    if not match:
        raise BadQuarter(f"not a quarter label (expected e.g. 2025-Q3): {label!r}")
    return int(match.group(1)), int(match.group(2))


def quarter_start(label: str) -> date:
    """First day of the quarter.

    >>> quarter_start("2025-Q3")
    datetime.date(2025, 7, 1)
    """
    year, quarter = parse_quarter(label)
    return date(year, 3 * quarter - 2, 1)


def quarter_end(label: str) -> date:
    """Last day of the quarter.

    >>> quarter_end("2025-Q4")
    datetime.date(2025, 12, 31)
    """
    return add_months(quarter_start(label), 3) - timedelta(days=1)


def quarter_months(label: str) -> list[date]:
    """First days of the three months of the quarter.

    >>> [d.month for d in quarter_months("2026-Q1")]
    [1, 2, 3]
    """
    return month_span(quarter_start(label), "quarter")


def deadline(label: str) -> date:
    """Last day the Transparency Code allows: the last day of the month after the quarter.

    >>> deadline("2025-Q3")
    datetime.date(2025, 10, 31)
    >>> deadline("2025-Q4")
    datetime.date(2026, 1, 31)
    """
    return add_months(quarter_start(label), 4) - timedelta(days=1)


def deadline_passed_at(label: str) -> datetime:
    """The first instant (UTC) that is after the deadline: midnight ending the deadline day.

    >>> deadline_passed_at("2025-Q3").isoformat()
    '2025-11-01T00:00:00+00:00'
    """
    return datetime.combine(deadline(label) + timedelta(days=1), time(0), tzinfo=UTC)


def next_quarter(label: str) -> str:
    """The quarter after ``label``.

    >>> next_quarter("2025-Q4")
    '2026-Q1'
    """
    return quarter_of(add_months(quarter_start(label), 3))


def quarters_between(first: str, last: str) -> list[str]:
    """Every quarter from ``first`` to ``last`` inclusive (empty when ``last`` is earlier).

    >>> quarters_between("2024-Q4", "2025-Q2")
    ['2024-Q4', '2025-Q1', '2025-Q2']
    >>> quarters_between("2025-Q2", "2025-Q1")
    []
    """
    quarters: list[str] = []
    label = quarter_of(quarter_start(first))
    end = quarter_start(last)
    while quarter_start(label) <= end:
        quarters.append(label)
        label = next_quarter(label)
    return quarters


def last_due_quarter(as_of: date) -> str:
    """The latest quarter whose deadline is on or before ``as_of``.

    >>> last_due_quarter(date(2025, 10, 31))
    '2025-Q3'
    >>> last_due_quarter(date(2025, 10, 30))
    '2025-Q2'
    """
    label = quarter_of(add_months(as_of, -3))
    return label if deadline(label) <= as_of else quarter_of(add_months(as_of, -6))


def period_label(start: date, end: date) -> str:
    """A period as people say it: a month, a quarter, a calendar year, or the two dates.

    >>> period_label(date(2025, 9, 1), date(2025, 9, 30))
    'Sep 2025'
    >>> period_label(date(2025, 7, 1), date(2025, 9, 30))
    '2025-Q3'
    >>> period_label(date(2025, 1, 1), date(2025, 12, 31))
    '2025'
    >>> period_label(date(2025, 4, 1), date(2026, 3, 31))
    '1 Apr 2025 to 31 Mar 2026'
    """
    if start.day == 1 and (end + timedelta(days=1)).day == 1:
        months = month_index(end) - month_index(start) + 1
        if months == 1:
            return f"{start:%b %Y}"
        if months == 3 and start.month % 3 == 1:
            return quarter_of(start)
        if months == 12 and start.month == 1:
            return str(start.year)
    return f"{start.day} {start:%b %Y} to {end.day} {end:%b %Y}"
