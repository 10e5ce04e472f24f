"""The period a spend file covers, from the words around its link.

Councils name periods in many ways: ``March 2025``, ``Mar-25``, ``2025-03``, ``201008`` (in a file
name), ``Q3 2024/25``, ``Quarter 3``, ``October to December 2010``, ``julysep2010``, ``2024/25``,
``FY24/25``. And often only part of it sits by the link: the link says ``December`` and the year
is in the heading above (``2015 Data files``), or the link says ``CSV`` and the month is in its
table row. So reading is in two steps:

* :func:`read_clue` reads one piece of text (a link text, a row, a heading, a file name) into a
  :class:`Clue`: a whole period, or a part of one (months without a year, a quarter number, a
  year alone);
* :func:`choose_period` weighs the clues of all the pieces around one link, in order of
  evidence, completing a part with the nearest piece that has a year, and letting two pieces that
  agree outvote a third that does not (a link text "December 2016" under the heading "December
  2015" for ``december_2015.csv`` is December 2015).

Financial years run April to March; quarters numbered within a financial year start in April.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

_MONTH_NAMES = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTH_NAMES.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTH_NAMES["sept"] = 9
_MONTH_WORD = "|".join(sorted(_MONTH_NAMES, key=len, reverse=True))
# A month name is a whole word ("Dec", not the start of "decision")...
_MONTH = r"(?<![a-z])(?P<{0}>" + _MONTH_WORD + r")\.?(?![a-z])"
# ...or, first in a range, runs straight into the second month ("julysep2010").
_FIRST_MONTH = r"(?<![a-z])(?P<{0}>" + _MONTH_WORD + r")\.?(?=[^a-z]|" + _MONTH_WORD + r")"
_SECOND_MONTH = r"(?P<{0}>" + _MONTH_WORD + r")\.?(?![a-z])"
_YEAR4 = r"(?P<{0}>(?:19|20)\d\d)"
_YEAR = r"(?P<{0}>(?:19|20)?\d\d)"
# A year is not a file size ("2001KB") nor part of a longer number.
_NOT_SIZE = r"(?!\d|\s*(?:kb|mb|gb|k\b|bytes))"
_DAY_NUMBER = r"\d{1,2}(?:st|nd|rd|th)?\s+"
_DAY = r"(?:" + _DAY_NUMBER + r")?"
_TO = r"\s*(?:-|–|—|to|until|and)\s*"
_SEP = r"[\s_\-'’.,/]*"
_FY_TAIL = r"(?:\s*(?:/|-|–|_|to)\s*|\s+)(?P<{0}>\d{{4}}|\d{{2}})\b"

#: Whole periods, tried in this order; a match consumes its text.
_WHOLE = [
    # "April 2015 onwards", "from April 2016": where a series starts, not a period
    (
        "open",
        r"(?:\b(?:from|since)\s+)?"
        + _MONTH.format("m")
        + _SEP
        + _YEAR4.format("y")
        + r"\s+(?:onwards|to\s+date|to\s+present)\b",
    ),
    # "1 Jan 2014 - 31 Dec 2014", "April 2014 - March 2015", "January 2025 to March 2025"
    (
        "range",
        _DAY
        + _MONTH.format("m1")
        + _SEP
        + _YEAR4.format("y1")
        + _TO
        + _DAY
        + _MONTH.format("m2")
        + _SEP
        + _YEAR.format("y2")
        + _NOT_SIZE,
    ),
    # "01/04/2024 - 30/06/2024"
    (
        "numeric_range",
        r"(?<![\d/])\d{1,2}[/.](?P<m1>\d{1,2})[/.](?P<y1>(?:19|20)\d\d)"
        + _TO
        + r"\d{1,2}[/.](?P<m2>\d{1,2})[/.](?P<y2>(?:19|20)\d\d)(?![\d/])",
    ),
    # "1 April - 30 June 2024"
    (
        "range",
        _DAY_NUMBER
        + _FIRST_MONTH.format("m1")
        + _TO
        + _DAY_NUMBER
        + _SECOND_MONTH.format("m2")
        + _SEP
        + _YEAR.format("y2")
        + _NOT_SIZE,
    ),
    # "October to December 2010", "Jan-Mar 2017", "julysep2010"
    (
        "range",
        _FIRST_MONTH.format("m1")
        + r"(?:"
        + _TO
        + r"|\s+|)"
        + _SECOND_MONTH.format("m2")
        + _SEP
        + _YEAR.format("y2")
        + _NOT_SIZE,
    ),
    # a date to the day ("published 20 June 2024", "31/03/2025", "2024-06-20"): when, not what period
    (
        "date",
        r"\b\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTH.format("m") + r",?\s+(?:19|20)\d\d\b"
        r"|(?<![\d/])\d{1,2}[/.]\d{1,2}[/.](?:19|20)?\d\d(?![\d/])|\b(?:19|20)\d\d-\d\d-\d\d\b",
    ),
    # "Q3 2024/25", "Quarter 3 2024-2025", "Qtr 3 FY24/25", "Q3 2024" (calendar)
    (
        "quarter",
        r"\b(?:q|qtr|quarter)\s*(?P<q>[1-4])\b[\s,:(\-–]*(?:of\s+)?(?:fy\s*)?"
        + r"(?P<y>(?:19|20)\d\d|\d\d(?=\s*[/-]\s*\d\d\b))"
        + r"(?:\s*(?:/|-|–|_|to)\s*(?P<y2>\d{4}|\d{2})\b)?",
    ),
    # "2024/25 Q3", "2024-25 Quarter 3", "2025-Q2" (calendar)
    (
        "quarter",
        _YEAR4.format("y") + r"(?:" + _FY_TAIL.format("y2") + r")?[\s_\-:,]*(?:q|qtr|quarter)\s*(?P<q>[1-4])\b",
    ),
    # "2025-03", "2025_03", "2025/03"; "2011-12" is a financial year (below)
    ("iso_month", r"(?<![\d£])" + _YEAR4.format("y") + r"[-_/ ](?P<m>0[1-9]|1[0-2])(?![\d/]|\s*(?:kb|mb))"),
    # "03-2025", "03_2025"
    ("iso_month", r"(?<![a-z\d£.,])(?P<m>0[1-9]|1[0-2])[-_/ ]" + _YEAR4.format("y") + _NOT_SIZE),
    # "2024/25", "2024-2025", "2017 / 2018", "2017_2018", "2017 2018", "2024 to 2025"
    (
        "financial_year",
        r"(?<![\d£])" + _YEAR4.format("y") + r"(?:" + _FY_TAIL.format("y2") + r"|\s+(?P<y2b>(?:19|20)\d\d)\b)",
    ),
    # "FY24/25", "FY 24-25"
    ("financial_year", r"\bfy\s*(?P<yy>\d\d)\s*[/-]?\s*(?P<y2>\d\d)\b"),
    # "March 2025", "Mar-25", "march__15", "December 2016", "mar_14csv"
    ("month", _MONTH.format("m") + _SEP + _YEAR.format("y") + _NOT_SIZE),
    # "2018 September", "2015/December"
    ("month", r"(?<!\d)" + _YEAR4.format("y") + r"[\s_\-/]*" + _MONTH.format("m")),
]
#: A year and month written together in a file name: "DCCSpendingOver500_201008.xls".
_COMPACT_MONTH = re.compile(r"(?<![\d])(?P<y>20\d\d)(?P<m>0[1-9]|1[0-2])(?!\d)")
#: Parts of a period: months without a year, a quarter number, a year alone.
_MONTHS_ONLY = re.compile(
    _FIRST_MONTH.format("m1") + r"(?:" + _TO + r"|\s*)" + _SECOND_MONTH.format("m2") + r"|" + _MONTH.format("m"), re.I
)
_QUARTER_ONLY = re.compile(r"\b(?:q|qtr|quarter)\s*(?P<q>[1-4])\b", re.I)
_FINANCE_PERIOD_ONLY = re.compile(r"\b(?:period|p)\s*(?P<p>1[0-2]|0?[1-9])\b", re.I)
_YEAR_ONLY = re.compile(r"(?<![\d£.,])(?P<y>(?:19|20)\d\d)" + _NOT_SIZE, re.I)
_WHOLE_PATTERNS = [(kind, re.compile(pattern, re.I)) for kind, pattern in _WHOLE]


@dataclass(frozen=True)
class Clue:
    """What one piece of text says about a period: all of it (``start``/``end``) or a part.

    ``financial`` marks a whole financial year ("2024/25"): around a link it is the year the
    link's month belongs to, not necessarily the link's own period.
    """

    start: date | None = None
    end: date | None = None
    financial: bool = False
    months: tuple[int, int] | None = None
    quarter: int | None = None
    year: int | None = None
    finance_period: int | None = None  # "Period 7": the seventh month of a financial year (October)

    @property
    def whole(self) -> bool:
        return self.start is not None


#: A piece of text that names more than one period (a paragraph listing several months).
AMBIGUOUS = Clue()


@lru_cache(maxsize=8192)
def read_clue(text: str) -> Clue | None:
    """The period one piece of text names, whole or in part; None when it names none.

    Several whole periods that nest read as the narrowest ("2017/18: March 2018"); periods that do
    not nest make the text :data:`AMBIGUOUS`.

    >>> read_clue("Spending over £500 – March 2025 (CSV, 245KB)").start
    datetime.date(2025, 3, 1)
    >>> read_clue("Period 7 2023/24").start
    datetime.date(2023, 10, 1)
    >>> read_clue("December [CSV file 1671KB]").months
    (12, 12)
    >>> read_clue("2015 Data files").year
    2015
    >>> read_clue("Q3").quarter
    3
    >>> read_clue("April 2024 CSV | May 2024 CSV") is AMBIGUOUS
    True
    """
    if not text:
        return None
    spans, rest = _whole_periods(text)
    part = _part(rest)
    if spans:
        narrowest = min(spans, key=lambda s: (s.end - s.start, s.start))  # type: ignore[operator]
        if not all(_within(narrowest, s) for s in spans):
            return AMBIGUOUS
        finer = complete(part, narrowest) if part and part is not AMBIGUOUS else None  # "Q1 (April to June) 2024/25"
        return finer or narrowest
    if part is None or part is AMBIGUOUS or part.year is None or not (part.months or part.quarter):
        return part  # a year with "Period 7" needs to be a financial year to say which October
    return complete(part, Clue(year=part.year)) or part


def _part(rest: str) -> Clue | None:
    """Months, a quarter, a finance period ("Period 7") or a year, none of them a whole period."""
    months = {_months(m) for m in _MONTHS_ONLY.finditer(rest) if _month_word_is_meant(m)}
    quarters = {int(m["q"]) for m in _QUARTER_ONLY.finditer(rest)}
    periods = {int(m["p"]) for m in _FINANCE_PERIOD_ONLY.finditer(rest)}
    years = {int(m["y"]) for m in _YEAR_ONLY.finditer(rest)}
    if any(len(found) > 1 for found in (months, quarters, periods, years)):
        return AMBIGUOUS
    part = Clue(
        months=next(iter(months), None),
        quarter=next(iter(quarters), None),
        year=next(iter(years), None),
        finance_period=next(iter(periods), None),
    )
    return None if part == AMBIGUOUS else part


def complete(part: Clue, context: Clue) -> Clue | None:
    """A part of a period (months, a quarter) made whole with the year of ``context``.

    >>> complete(Clue(months=(1, 3)), Clue(date(2010, 4, 1), date(2011, 3, 31), financial=True)).start
    datetime.date(2011, 1, 1)
    >>> complete(Clue(quarter=3), Clue(date(2024, 4, 1), date(2025, 3, 31), financial=True)).start
    datetime.date(2024, 10, 1)
    >>> complete(Clue(months=(12, 12)), Clue(year=2015)).end
    datetime.date(2015, 12, 31)
    """
    if part.whole or not (part.months or part.quarter or part.finance_period):
        return None
    if context.financial and context.start:
        fy = context.start.year
        if part.finance_period:
            month = (part.finance_period + 2) % 12 + 1
            return _span(fy if month >= 4 else fy + 1, month, fy if month >= 4 else fy + 1, month)
        if part.months:
            m1, m2 = part.months
            return _span(fy if m1 >= 4 else fy + 1, m1, fy if m2 >= 4 else fy + 1, m2)
        first = 4 + 3 * (part.quarter - 1)  # type: ignore[operator]
        year = fy if first <= 12 else fy + 1
        first = first if first <= 12 else first - 12
        return _span(year, first, year, first + 2)
    if part.finance_period:
        return None  # a finance period needs its financial year
    years = [context.year] if context.year else []
    if context.start and context.end:
        years = list(range(context.start.year, context.end.year + 1))
    for year in years:
        if part.months:
            m1, m2 = part.months
            found = _span(year, m1, year if m1 <= m2 else year + 1, m2)
        else:
            first = 1 + 3 * (part.quarter - 1)  # type: ignore[operator]
            found = _span(year, first, year, first + 2)
        if found and (context.start is None or (context.start <= found.start and found.end <= context.end)):  # type: ignore[operator]
            return found
    return None


@dataclass(frozen=True)
class Choice:
    """The period chosen for a link, and the pieces of text it came from."""

    start: date
    end: date
    evidence: str


def choose_period(pieces: list[tuple[str, Clue | None]]) -> Choice | None:
    """The period of a link from the clues of the pieces around it, strongest evidence first.

    Each piece is (its name, its clue), in order of evidence: the link text, its row, its
    column, caption and headings, then its file name. A part (a month) is made whole with the
    year of the nearest later piece that has one. A period read around the link (a heading's
    "April 2014 - March 2015") that holds a period read elsewhere is where the link sits, not
    a rival to it. When whole readings disagree, the one most pieces agree on wins; a tie goes
    to the stronger piece.

    >>> dec_2016, dec_2015 = read_clue("December 2016 CSV"), read_clue("December 2015")
    >>> choice = choose_period([("link text", dec_2016), ("heading", dec_2015), ("file name", read_clue("december 2015.csv"))])
    >>> (choice.start, choice.evidence)
    (datetime.date(2015, 12, 1), 'heading+file name')
    >>> choose_period([("link text", read_clue("CSV")), ("row", read_clue("April")), ("heading", read_clue("2024/25"))]).start
    datetime.date(2024, 4, 1)
    """
    candidates: list[tuple[int, Clue, str, bool]] = []  # (rank, whole clue, evidence, read around the link)
    for rank, (name, clue) in enumerate(pieces):
        if clue is None or clue is AMBIGUOUS:
            continue
        if clue.whole:
            candidates.append((rank, clue, name, name not in _OWN_PIECES))
            continue
        for later_name, later in pieces[rank + 1 :]:
            if later is None or later is AMBIGUOUS or not (later.whole or later.year):
                continue
            made = complete(clue, later)
            if made:
                candidates.append((rank, made, f"{name}+{later_name}", False))
            break
    rivals = [
        c
        for c in candidates
        if not (c[3] and any(_within(other[1], c[1]) and other[1] != c[1] for other in candidates))
    ]
    if not rivals:
        return None
    support: dict[tuple[date, date], list[tuple[int, str]]] = {}
    for rank, clue, evidence, _ in rivals:
        support.setdefault((clue.start, clue.end), []).append((rank, evidence))  # type: ignore[arg-type]
    (start, end), backers = min(support.items(), key=lambda item: (-len(item[1]), item[1][0][0]))
    return Choice(start, end, "+".join(dict.fromkeys(e for _, evidence in backers for e in evidence.split("+"))))


#: Pieces that belong to the link itself: a financial year there is the file's own period.
_OWN_PIECES = ("link text", "link title", "file name")


@lru_cache(maxsize=4096)
def file_name_clue(name: str) -> Clue | None:
    """The period in a file name, also written as ``yyyymm`` ("DCCSpendingOver500_201008.xls").

    >>> file_name_clue("DCCSpendingOver500_201008.xls").start
    datetime.date(2010, 8, 1)
    """
    clue = read_clue(name)
    if clue is None:
        compact = [m for m in _COMPACT_MONTH.finditer(name) if not _is_next_year(int(m["y"]), m["m"])]
        if len(compact) == 1:
            year, month = int(compact[0]["y"]), int(compact[0]["m"])
            return _span(year, month, year, month)
    return clue


def _whole_periods(text: str) -> tuple[list[Clue], str]:
    """Every whole period in ``text`` (a match consumes its characters), and the text left over."""
    spans: list[Clue] = []
    rest = text
    for kind, pattern in _WHOLE_PATTERNS:
        for match in list(pattern.finditer(rest)):
            found = _whole(kind, match)
            if found or kind in ("open", "date"):
                spans.extend([found] if found else [])
                rest = rest[: match.start()] + " " * (match.end() - match.start()) + rest[match.end() :]
    return spans, rest


def _whole(kind: str, match: re.Match) -> Clue | None:
    g = match.groupdict()
    try:
        if kind in ("open", "date"):
            return None
        if kind == "numeric_range":
            return _span(int(g["y1"]), int(g["m1"]), int(g["y2"]), int(g["m2"]))
        if kind == "month":
            year, month = _full_year(g["y"]), _MONTH_NAMES[g["m"].lower()]
            return _span(year, month, year, month)
        if kind == "iso_month":
            year, month = int(g["y"]), int(g["m"])
            if _is_next_year(year, g["m"]) and match.group(0)[4:5] in "-/_":
                return None  # "2011-12" reads better as a financial year
            return _span(year, month, year, month)
        if kind == "financial_year":
            year = _full_year(g.get("yy") or g["y"])
            if not _is_next_year(year, g["y2"] or g["y2b"]):
                return None
            return Clue(date(year, 4, 1), date(year + 1, 3, 31), financial=True)
        if kind == "quarter":
            year, quarter = _full_year(g["y"]), int(g["q"])
            if g.get("y2") and _is_next_year(year, g["y2"]):
                return complete(Clue(quarter=quarter), Clue(date(year, 4, 1), date(year + 1, 3, 31), financial=True))
            if len(g["y"]) == 2:
                return None
            first = 1 + 3 * (quarter - 1)
            return _span(year, first, year, first + 2)
        if kind == "range":
            end_year = _full_year(g["y2"])
            m1, m2 = _MONTH_NAMES[g["m1"].lower()], _MONTH_NAMES[g["m2"].lower()]
            start_year = int(g["y1"]) if g.get("y1") else (end_year if m1 <= m2 else end_year - 1)
            return _span(start_year, m1, end_year, m2)
    except (KeyError, ValueError):
        return None
    return None


def _months(match: re.Match) -> tuple[int, int]:
    if match["m"]:
        month = _MONTH_NAMES[match["m"].lower()]
        return month, month
    return _MONTH_NAMES[match["m1"].lower()], _MONTH_NAMES[match["m2"].lower()]


def _month_word_is_meant(match: re.Match) -> bool:
    """ "May" and "March" are English words too: alone they count only written with a capital."""
    word = match.group(0).strip()
    return word.lower() not in ("may", "march", "mar") or word[0].isupper()


def _within(inner: Clue, outer: Clue) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end  # type: ignore[operator]


def _span(y1: int, m1: int, y2: int, m2: int) -> Clue | None:
    if not (1 <= m1 <= 12 and 1 <= m2 <= 12) or (y1, m1) > (y2, m2) or not 1990 <= y1 <= 2099:
        return None
    return Clue(date(y1, m1, 1), date(y2, m2, calendar.monthrange(y2, m2)[1]))


def _is_next_year(year: int, second: str) -> bool:
    """Whether ``second`` ("25" or "2025") is the year after ``year`` (2024)."""
    if len(second) == 2:
        return int(second) == (year + 1) % 100
    return int(second) == year + 1


def _full_year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year
