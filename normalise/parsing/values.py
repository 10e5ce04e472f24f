"""Amounts and dates as councils write them, parsed column-at-a-time.

Amounts are cleaned with ``pyarrow.compute`` (no Python per cell); dates are
parsed once per distinct value, since a file holds few distinct dates.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from normalise.schema import MONEY

_WIDE = pa.decimal128(38, 18)
#: the largest magnitude decimal128(18, 2) holds is just under 10**16 (16 integer digits)
_TOO_BIG = pa.scalar(Decimal(10**16), _WIDE)
#: a cell whose commas are all thousands separators: one number, groups of exactly three digits
_THOUSANDS = r"^[^\d,]*\d{1,3}(,\d{3})+(\.\d*)?[^\d,]*$"
#: what councils write in a money column for "nothing": read as blank, not as a bad value
_NOT_APPLICABLE = r"(?i)^(n/?a|nil|none|null|not applicable|-+|–|—)$"
NOT_APPLICABLE = re.compile(_NOT_APPLICABLE)


def parse_amount(text: str | None) -> Decimal | None:
    """One amount as published, to pence; None when it is not an amount.

    >>> parse_amount(' £1,234.50 ')
    Decimal('1234.50')
    >>> parse_amount('(12.00)'), parse_amount('393.39-'), parse_amount('4737.2300000000005')
    (Decimal('-12.00'), Decimal('-393.39'), Decimal('4737.23'))
    >>> parse_amount('n/a') is None, parse_amounts(pa.array(['Nil', '-', 'abc'])).bad.to_pylist()
    (True, [False, False, True])

    Commas are thousands separators only; a decimal comma is never guessed, and an
    amount too large for ``decimal128(18, 2)`` is not an amount:

    >>> parse_amount('-1,000'), parse_amount('1,5'), parse_amount('1.234,56'), parse_amount('9999999999999999.995')
    (Decimal('-1000.00'), None, None, None)
    """
    return parse_amounts(pa.array([text], pa.string())).amounts[0].as_py()


@dataclass
class Amounts:
    """Parsed amounts: ``amounts`` (decimal, null when blank or bad) and ``bad`` (non-blank but unparseable)."""

    amounts: pa.Array
    blank: pa.Array
    bad: pa.Array


def parse_amounts(texts: pa.Array) -> Amounts:
    """Parse a column of published amounts to ``decimal128(18, 2)``.

    Handles £/$/€, 'GBP', thousands separators, spaces, brackets and trailing
    minus for negatives, a leading plus, 'CR' credit suffixes and float noise
    (rounded half-up to pence). Any other comma (a decimal comma, '1,5') and
    amounts with more than 16 integer digits after rounding are ``bad``.
    """
    s = pc.utf8_trim_whitespace(pc.cast(texts, pa.string()))
    if pc.any(pc.match_substring_regex(s, _NOT_APPLICABLE)).as_py():  # 'N/A', 'Nil': published as nothing
        s = pc.if_else(pc.fill_null(pc.match_substring_regex(s, _NOT_APPLICABLE), False), pa.scalar(""), s)
    if pc.any(pc.match_substring(s, ",")).as_py():
        misplaced = pc.invert(pc.fill_null(pc.match_substring_regex(s, _THOUSANDS), True))
        misplaced = pc.and_(misplaced, pc.match_substring(s, ","))
        s = pc.if_else(misplaced, s, pc.replace_substring(s, ",", ""))  # a comma left in never parses
    blank = pc.fill_null(pc.equal(s, ""), True)
    try:  # the common case, plain numbers with at most two decimals: one cast, no regex
        amounts = pc.cast(pc.if_else(blank, pa.scalar(None, pa.string()), s), MONEY)
        return Amounts(amounts=amounts, blank=blank, bad=pa.repeat(pa.scalar(False), len(s)))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    if pc.any(pc.match_substring_regex(s, "[£ \u00a0'$€\u2212]|GBP|gbp")).as_py():
        s = pc.replace_substring_regex(pc.replace_substring(s, "\u2212", "-"), "[£$€\\s\u00a0']|GBP|gbp", "")
        blank = pc.fill_null(pc.equal(s, ""), True)
    negative = pc.starts_with(s, "-")
    if (
        pc.any(pc.or_(pc.ends_with(s, ")"), pc.ends_with(s, "-"))).as_py()
        or pc.any(pc.match_substring(s, "cr", ignore_case=True)).as_py()
    ):
        negative = pc.or_(negative, pc.match_substring_regex(s, r"^\(.*\)$|-$|(?i:cr)$"))
        s = pc.replace_substring_regex(s, r"^[(+-]+|[)-]+$|(?i:cr)$", "")
    else:
        s = pc.utf8_ltrim(s, "+-")
    if pc.any(pc.or_(pc.starts_with(s, "."), pc.ends_with(s, "."))).as_py():
        s = pc.replace_substring_regex(pc.replace_substring_regex(s, r"^\.", "0."), r"\.$", "")
    ok = pc.fill_null(pc.match_substring_regex(s, r"^\d{1,16}(\.\d{0,18})?$"), False)
    good = pc.if_else(ok, s, pa.scalar(None, pa.string()))
    if pc.any(pc.match_substring_regex(good, r"\.\d{3}")).as_py():
        wide = pc.round(pc.cast(good, _WIDE), 2, round_mode="half_up")
        fits = pc.fill_null(pc.less(wide, _TOO_BIG), True)  # '9999999999999999.995' rounds up to 17 digits
        ok = pc.and_(ok, fits)
        wide = pc.if_else(fits, wide, pa.scalar(None, _WIDE))
    else:
        wide = pc.cast(good, MONEY)
    scientific = pc.fill_null(pc.match_substring_regex(s, r"^\d+(\.\d*)?[eE][+-]?\d{1,2}$"), False)
    if pc.any(scientific).as_py():  # '1.5E+3' from spreadsheets: exact enough once rounded to pence
        as_float = pc.round(pc.cast(pc.if_else(scientific, s, pa.scalar(None, pa.string())), pa.float64()), 2)
        scientific = pc.and_(scientific, pc.fill_null(pc.less(as_float, float(10**16)), False))
        as_float = pc.if_else(scientific, as_float, pa.scalar(None, pa.float64()))
        wide = pc.if_else(scientific, pc.cast(as_float, MONEY, safe=False), pc.cast(wide, MONEY))
        ok = pc.or_(ok, scientific)
    amounts = pc.cast(pc.if_else(pc.fill_null(negative, False), pc.negate(wide), wide), MONEY)
    bad = pc.and_(pc.invert(blank), pc.invert(ok))
    return Amounts(amounts=amounts, blank=blank, bad=bad)


# ---------------------------------------------------------------- dates

_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
#: month names and their standard abbreviations (lower case) to month numbers; nothing else is a month
MONTHS = {name: i for i, name in enumerate(_MONTH_NAMES, 1)} | {name[:3]: i for i, name in enumerate(_MONTH_NAMES, 1)}
MONTHS["sept"] = 9
_MONTH = "(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + ")"

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?z?)?$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?$")
_DAY_MONTH_NAME = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[-/ .]+" + _MONTH + r"[-/ .,']+(\d{2}|\d{4})$")
_MONTH_NAME_DAY = re.compile(r"^" + _MONTH + r" (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})$")
_MONTH_YEAR = re.compile(r"^" + _MONTH + r"[-/ .,']*(\d{2}|\d{4})$")
_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
_RANGE_SEPARATOR = re.compile(r"\s*[-–]\s*|\s+to\s+")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


@dataclass(frozen=True)
class ParsedDate:
    """A date and how precise it is (day, month, quarter or year)."""

    date: dt.date
    precision: str


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _make(year: int, month: int, day: int) -> dt.date | None:
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None
    return date if 1990 <= date.year <= 2100 else None


def excel_serial_date(serial: float) -> dt.date | None:
    """The date of an Excel serial, forgiving the one-hour offset some exports carry.

    >>> excel_serial_date(45951.041666666664), excel_serial_date(45950.958333333336)
    (datetime.date(2025, 10, 21), datetime.date(2025, 10, 21))
    """
    if not 20000 <= serial <= 80000:
        return None
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial + 1 / 24 + 1e-6))


#: Distinct date texts remembered per process: a publisher's dates recur file after file.
DATES_REMEMBERED = 100_000


@functools.lru_cache(maxsize=DATES_REMEMBERED)
def parse_date(text: str | None, dayfirst: bool = True) -> ParsedDate | None:
    """One published date or period; None when it is not one.

    >>> parse_date('05/04/2012'), parse_date('3 Apr 2023').date, parse_date('2019-01-02 00:00:00').date
    (ParsedDate(date=datetime.date(2012, 4, 5), precision='day'), datetime.date(2023, 4, 3), datetime.date(2019, 1, 2))
    >>> parse_date('04/05/2012', dayfirst=False).date, parse_date('11-Aug-22').date, parse_date('6.3.2017').date
    (datetime.date(2012, 4, 5), datetime.date(2022, 8, 11), datetime.date(2017, 3, 6))
    >>> parse_date('July 2010-September 2010'), parse_date('Dec-13')
    (ParsedDate(date=datetime.date(2010, 7, 1), precision='quarter'), ParsedDate(date=datetime.date(2013, 12, 1), precision='month'))
    >>> parse_date('Sept 2024').date, parse_date('junk 2024'), parse_date('decision 24'), parse_date('1 marketing 2024')
    (datetime.date(2024, 9, 1), None, None, None)
    >>> parse_date('2015-04'), parse_date('2015-13')
    (ParsedDate(date=datetime.date(2015, 4, 1), precision='month'), None)
    """
    if text is None:
        return None
    s = " ".join(text.strip().lower().split())
    if not s:
        return None
    if m := _ISO.match(s):
        d = _make(int(m[1]), int(m[2]), int(m[3]))
        return ParsedDate(d, "day") if d else None
    if m := _ISO_MONTH.match(s):
        d = _make(int(m[1]), int(m[2]), 1)
        return ParsedDate(d, "month") if d else None
    if m := _NUMERIC.match(s):
        a, b, y = int(m[1]), int(m[2]), _year(m[3])
        d = _make(y, b, a) if dayfirst else _make(y, a, b)
        d = d or (_make(y, a, b) if dayfirst else _make(y, b, a))
        return ParsedDate(d, "day") if d else None
    if m := _DAY_MONTH_NAME.match(s):
        d = _make(_year(m[3]), MONTHS[m[2]], int(m[1]))
        return ParsedDate(d, "day") if d else None
    if m := _MONTH_NAME_DAY.match(s):
        d = _make(int(m[3]), MONTHS[m[1]], int(m[2]))
        return ParsedDate(d, "day") if d else None
    if m := _MONTH_YEAR.match(s):
        d = _make(_year(m[2]), MONTHS[m[1]], 1)
        return ParsedDate(d, "month") if d else None
    if _SERIAL.match(s):
        d = excel_serial_date(float(s))
        return ParsedDate(d, "day") if d else None
    for separator in _RANGE_SEPARATOR.finditer(s):
        if period := _period(s[: separator.start()], s[separator.end() :], dayfirst):
            return period
    return None


def _period(first: str, last: str, dayfirst: bool) -> ParsedDate | None:
    start, end = parse_date(first, dayfirst), parse_date(last, dayfirst)
    if not start or not end or end.date < start.date:
        return None
    months = (end.date.year - start.date.year) * 12 + end.date.month - start.date.month + 1
    precision = {1: "month", 3: "quarter", 12: "year"}.get(months)
    if precision is None:
        return None
    if precision == "quarter" and start.date.month not in (1, 4, 7, 10):
        precision = "month"  # a three-month span that is not a calendar quarter: keep its first month
    return ParsedDate(start.date.replace(day=1), precision)


_PERIOD_IN_TEXT = re.compile(
    r"\b"
    + _MONTH
    + r"[a-z]*[-/ .,']*(\d{4}|\d{2})\b(?:\s*(?:-|–|to)\s*"
    + _MONTH
    + r"[a-z]*[-/ .,']*(\d{4}|\d{2})\b)?",
    re.I,
)


def period_in_text(text: str, dayfirst: bool = True) -> ParsedDate | None:
    """A month or quarter named anywhere in a line of text (a title above the header, a sheet's name).

    >>> period_in_text("Payments over £500 - December 2013"), period_in_text("Report run on 14/11/2019")
    (ParsedDate(date=datetime.date(2013, 12, 1), precision='month'), None)
    >>> period_in_text("Spend July 2010-September 2010 (Q2)").precision
    'quarter'
    """
    whole = parse_date(text, dayfirst)
    if whole is not None:
        return whole if whole.precision != "day" else None
    for match in _PERIOD_IN_TEXT.finditer(text):
        parsed = parse_date(match[0], dayfirst)
        if parsed is not None and parsed.precision != "day":
            return parsed
    return None


def decide_dayfirst(values: list[str | None], default: bool = True) -> bool:
    """Day-first unless the evidence says month-first (a middle part above 12 and no first part above 12).

    >>> decide_dayfirst(['01/02/2020', '13/02/2020']), decide_dayfirst(['02/13/2020']), decide_dayfirst(['01/02/2020'])
    (True, False, True)
    >>> decide_dayfirst(['01/02/2020'], default=False)
    False
    """
    first_big = second_big = False
    for value in values:
        if value and (m := _NUMERIC.match(value.strip())):
            first_big |= int(m[1]) > 12
            second_big |= int(m[2]) > 12
    if first_big != second_big:
        return first_big
    return default


@dataclass
class Dates:
    """Parsed dates: ``dates`` (date32), ``precision`` (string), ``bad`` (non-blank but unparseable)."""

    dates: pa.Array
    precision: pa.Array
    bad: pa.Array


def parse_dates(texts: pa.Array, dayfirst: bool = True) -> Dates:
    """Parse a column of dates, once per distinct value."""
    encoded = pc.dictionary_encode(pc.cast(texts, pa.string()))
    parsed = [parse_date(v, dayfirst) for v in encoded.dictionary.to_pylist()]
    dates = pa.array([p.date if p else None for p in parsed], pa.date32())
    precision = pa.array([p.precision if p else None for p in parsed], pa.string())
    blank = pa.array([not (v or "").strip() for v in encoded.dictionary.to_pylist()], pa.bool_())
    idx = encoded.indices
    bad_values = pc.and_(pc.is_null(dates), pc.invert(blank))
    return Dates(
        dates=pc.take(dates, idx),
        precision=pc.take(precision, idx),
        bad=pc.fill_null(pc.take(bad_values, idx), False),
    )


# ---------------------------------------------------------------- yes/no flags

_TRUE = {"yes", "y", "true", "t", "x", "1", "sme", "vcse", "✓", "yes - sme", "yes - vcse"}
_FALSE = {"no", "n", "false", "f", "0", "non-sme", "non sme", "not sme", "non-vcse", "not vcse", "non vcse", "large"}


def parse_flag(text: str | None) -> bool | None:
    """A published yes/no flag (SME, VCSE); None when blank or neither.

    >>> parse_flag("Yes"), parse_flag(" N "), parse_flag("Non-SME"), parse_flag("unknown"), parse_flag("")
    (True, False, False, None, None)
    """
    value = " ".join((text or "").lower().split())
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


@dataclass
class Flags:
    """Parsed flags: ``flags`` (bool, null when blank or unreadable) and ``bad`` (non-blank but unreadable)."""

    flags: pa.Array
    bad: pa.Array


def parse_flags(texts: pa.Array) -> Flags:
    """Parse a column of yes/no flags, once per distinct value."""
    encoded = pc.dictionary_encode(pc.cast(texts, pa.string()))
    values = encoded.dictionary.to_pylist()
    parsed = [parse_flag(v) for v in values]
    bad = [p is None and bool((v or "").strip()) for v, p in zip(values, parsed)]
    idx = encoded.indices
    return Flags(
        flags=pc.take(pa.array(parsed, pa.bool_()), idx),
        bad=pc.fill_null(pc.take(pa.array(bad, pa.bool_()), idx), False),
    )
