"""Property tests for amount and date parsing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from normalise.parsing.values import (
    decide_dayfirst,
    excel_serial_date,
    parse_amount,
    parse_amounts,
    parse_date,
    parse_dates,
)

pence = st.integers(min_value=-(10**12), max_value=10**12)
dates = st.dates(min_value=dt.date(1995, 1, 1), max_value=dt.date(2060, 12, 31))


def _money(p: int) -> Decimal:
    return Decimal(p).scaleb(-2)


def _with_commas(value: Decimal) -> str:
    return f"{abs(value):,.2f}"


@settings(deadline=None)
@given(pence, st.sampled_from(["plain", "pound", "commas", "quoted_space", "brackets", "trailing_minus", "gbp"]))
def test_every_published_form_of_an_amount_reads_back_exactly(p: int, form: str) -> None:
    value = _money(p)
    sign = "-" if value < 0 else ""
    text = {
        "plain": f"{value}",
        "pound": f"{sign}£{_with_commas(value)}",
        "commas": f"{sign}{_with_commas(value)}",
        "quoted_space": f" {sign}{_with_commas(value)} ",
        "brackets": f"({_with_commas(value)})" if value < 0 else _with_commas(value),
        "trailing_minus": f"{_with_commas(value)}-" if value < 0 else _with_commas(value),
        "gbp": f"GBP {value}",
    }[form]
    assert parse_amount(text) == value


@settings(deadline=None)
@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_float_noise_rounds_to_the_penny(p: int) -> None:
    value = _money(p)
    noisy = repr(float(value) + (1e-9 if p % 2 else -1e-9))
    assert parse_amount(noisy) == value


@settings(deadline=None)
@given(st.lists(st.text(max_size=20), max_size=30))
def test_any_text_gives_an_amount_a_blank_or_a_bad_value(texts: list[str]) -> None:
    result = parse_amounts(pa.array(texts, pa.string()))
    for amount, blank, bad in zip(result.amounts.to_pylist(), result.blank.to_pylist(), result.bad.to_pylist()):
        assert [amount is not None, blank, bad].count(True) == 1


@settings(deadline=None)
@given(
    dates,
    st.sampled_from(
        [
            "%d/%m/%Y",
            "%Y-%m-%d",
            "%d-%b-%Y",
            "%d %B %Y",
            "%d-%b-%y",
            "%d/%m/%y",
            "%d.%m.%Y",
            "%Y-%m-%d %H:%M:%S",
            "%-d %b %Y",
        ]
    ),
)
def test_day_first_formats_read_back(date: dt.date, fmt: str) -> None:
    text = date.strftime(fmt)
    if "%y" in fmt and not 1970 <= date.year <= 2069:
        return  # two-digit years are read in 1970-2069
    assert parse_date(text, dayfirst=True).date == date


@settings(deadline=None)
@given(dates)
def test_month_first_files_are_recognised_from_the_evidence(date: dt.date) -> None:
    texts = [date.strftime("%m/%d/%Y"), "12/31/2020"]
    dayfirst = decide_dayfirst(texts)
    assert dayfirst is False
    assert parse_date(texts[0], dayfirst).date == date


@settings(deadline=None)
@given(dates, st.sampled_from([0.0, 1 / 24, -1 / 24, 0.5]))
def test_excel_serials_and_their_one_hour_offsets(date: dt.date, offset: float) -> None:
    serial = (date - dt.date(1899, 12, 30)).days + offset
    assert excel_serial_date(serial) == date
    assert parse_date(repr(serial)).date == date


@settings(deadline=None)
@given(st.integers(min_value=1995, max_value=2060), st.integers(min_value=0, max_value=3))
def test_quarter_periods(year: int, quarter: int) -> None:
    first, last = dt.date(year, 3 * quarter + 1, 1), dt.date(year, 3 * quarter + 3, 1)
    parsed = parse_date(f"{first:%B %Y}-{last:%B %Y}")
    assert (parsed.date, parsed.precision) == (first, "quarter")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_parses_to_a_date_or_none(text: str) -> None:
    parsed = parse_date(text)
    assert parsed is None or (
        isinstance(parsed.date, dt.date) and parsed.precision in ("day", "month", "quarter", "year")
    )


def test_a_column_of_mixed_formats() -> None:
    result = parse_dates(pa.array(["22/12/2016", "22 December 2016", "22-Dec-2016", "6.3.2017", "", None, "Various"]))
    assert result.dates.to_pylist()[:4] == [dt.date(2016, 12, 22)] * 3 + [dt.date(2017, 3, 6)]
    assert result.bad.to_pylist() == [False, False, False, False, False, False, True]


def test_an_amount_too_large_for_the_schema_is_bad_not_fatal() -> None:
    result = parse_amounts(
        pa.array(["9999999999999999.995", "9999999999999999.994", "12345678901234567", "9e20", "5.00"])
    )
    assert result.amounts.to_pylist() == [None, Decimal("9999999999999999.99"), None, None, Decimal("5.00")]
    assert result.bad.to_pylist() == [True, False, True, True, False]


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=10**18))
def test_amounts_either_fit_decimal_18_2_or_are_bad(p: int) -> None:
    text = f"{p}.995"
    result = parse_amounts(pa.array([text]))
    amount = result.amounts[0].as_py()
    assert (amount is None) == result.bad[0].as_py()
    assert amount is None or amount == (Decimal(text) + Decimal("0.005")).quantize(
        Decimal("0.01"), rounding="ROUND_DOWN"
    )


def test_only_thousands_separator_commas_are_removed() -> None:
    good = {
        "1,234": "1234.00",
        "12,345,678.90": "12345678.90",
        "-1,000": "-1000.00",
        "£1,000.00": "1000.00",
        "(1,234.50)": "-1234.50",
        "1,234CR": "-1234.00",
        "GBP 2,000": "2000.00",
    }
    bad = ["1.234,56", "1,5", "1,23", "1,2345", "1234,567", "1,234,56", "1 234,56", ",5"]
    result = parse_amounts(pa.array(list(good) + bad))
    assert result.amounts.to_pylist() == [Decimal(v) for v in good.values()] + [None] * len(bad)
    assert result.bad.to_pylist() == [False] * len(good) + [True] * len(bad)


def test_only_real_month_names_and_abbreviations_are_months() -> None:
    months = {
        "Jan 2024": 1,
        "february 2024": 2,
        "SEPT 2024": 9,
        "Sep-24": 9,
        "September 2024": 9,
        "3 Sept 2023": 9,
        "1st March 2020": 3,
        "December 3, 2023": 12,
        "JUNE 24": 6,
    }
    for text, month in months.items():
        assert parse_date(text).date.month == month, text
    for text in ["junk 2024", "decision 24", "Mayday 2024", "marching 2020", "3 augustus 2023", "Octopus 3, 2023"]:
        assert parse_date(text) is None, text
