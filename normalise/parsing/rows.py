"""A batch of a spend table's rows to canonical spend rows, rejects and row issues (pyarrow compute).

Keep the money: a row with a usable amount stays in spend whatever else is wrong with it; what
could not be read (an unreadable date, a missing supplier) is listed in its ``row_issues``. Only
rows without a usable amount are rejected, each with its reason: header rows, footer totals,
junk, missing or unreadable amounts, cells beyond the header's columns, oversized cells.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from normalise import schema
from normalise.orgids import company_number
from normalise.parsing.encoding import looks_mojibaked, repair_text
from normalise.parsing.header import named_width
from normalise.parsing.limits import MAX_CELL_BYTES
from normalise.parsing.rowfacts import RowFacts, Source
from normalise.parsing.sheet import Part, Sheet
from normalise.parsing.tables import Batch
from normalise.parsing.values import Amounts, decide_dayfirst, parse_amounts, parse_dates

#: reject reasons that mean a value could not be read (the file is then ``partial``)
VALUE_ERRORS = ("missing_amount", "unparseable_amount", "extra_cells", "oversized_cell")
TEXT_COLUMNS = ("department", "service_area", "expense_type", "purpose", "merchant_category")
_TOTAL = r"(?i)^\s*(grand |sub ?)?totals?\b"
#: characters of each cell kept in a reject's ``raw`` when a cell is oversized
RAW_CELL_CHARS = 1000


@dataclass
class Normalised:
    """One part of a batch: the rows kept (canonical columns, no ids yet), the rejects, and blank rows skipped;
    ``facts`` of the kept rows and the rows ``finished`` (:func:`.rowfacts.finished_rows`) when they were worked out
    with other files' (see :mod:`.together`)."""

    rows: pa.Table
    rejects: pa.Table
    blank: int
    facts: RowFacts | None = None
    finished: pa.Table | None = None


# ------------------------------------------------------------------ spend


def normalise_spend(sheet: Sheet, part: Part, source: Source) -> Normalised:
    """Canonical spend columns (before row ids) and rejects for one part of a batch."""
    columns, overflow, source_row, blank = drop_blank(part.batch)
    n = len(source_row)
    cell = cells_of(sheet, columns, n)
    raw_amount = cell("amount")
    amounts = parse_amounts(raw_amount)
    supplier = collapse(cell("supplier_name"))
    has_supplier = pc.fill_null(pc.greater(pc.utf8_length(supplier), 0), False)
    raw_date = cell("payment_date")
    if sheet.period:
        date_arr = pa.array([sheet.period[0]] * n, pa.date32())
        precision = pa.array([sheet.period[1]] * n, pa.string())
        bad_date = date_blank = pa.repeat(pa.scalar(False), n)
    else:
        settle_dayfirst(sheet, raw_date)
        parsed = parse_dates(raw_date, sheet.dayfirst)
        date_arr, precision, bad_date = parsed.dates, parsed.precision, parsed.bad
        date_blank = pc.fill_null(pc.equal(pc.utf8_length(raw_date), 0), True)
    transaction = blank_to_null(cell("transaction_id"))

    reason = _spend_reasons(sheet, part, columns, overflow, raw_amount, amounts, has_supplier, date_blank, transaction)
    keep = pc.is_null(reason)
    details = {
        "unparseable_amount": raw_amount,
        "footer_total": raw_amount,
        "new_header": pa.repeat(pa.scalar(part.detail or "", pa.string()), n),
    }
    rejects = build_rejects(sheet, source, columns, overflow, source_row, reason, details)

    issues: dict[str, pa.Array] = {"extra_cells": extra_cells(columns[named_width(sheet.cells) :], overflow, n)}
    if "payment_date" in sheet.choices and not sheet.period:
        issues["unparseable_date"] = bad_date
        issues["missing_date"] = date_blank
    if "supplier_name" in sheet.choices:
        issues["missing_supplier"] = pc.invert(has_supplier)
    spend: dict[str, pa.Array] = {
        "payment_date": date_arr,
        "date_precision": precision,
        "transaction_id": transaction,
        "amount": amounts.amounts,
        "supplier_name": blank_to_null(supplier),
        "source_row": source_row,
    }
    for canon in ("irrecoverable_vat", "vat_amount", "gross_amount"):
        if canon in sheet.choices:
            extra = parse_amounts(cell(canon))
            spend[canon] = extra.amounts
            issues[f"unparseable_{canon}"] = extra.bad
    for canon in TEXT_COLUMNS + ("supplier_id_published",):
        if canon in sheet.choices:
            spend[canon] = blank_to_null(repair(collapse(cell(canon))))
    add_registration_numbers(spend, sheet, cell)
    spend["row_issues"] = issue_lists(issues, n)
    return Normalised(pa.table(spend).filter(keep), rejects, blank)


def settle_dayfirst(sheet: Sheet, raw_dates: pa.Array) -> None:
    """Decide day or month first for the whole sheet from its first rows with any (far more evidence than the
    header's sample); blank cells say nothing either way."""
    if not sheet.dayfirst_settled and len(raw_dates):
        sheet.dayfirst = decide_dayfirst(pc.unique(raw_dates).to_pylist(), default=sheet.dayfirst)
        sheet.dayfirst_settled = True


def _spend_reasons(
    sheet: Sheet,
    part: Part,
    columns: list[pa.Array],
    overflow: pa.Array | None,
    raw_amount: pa.Array,
    amounts: Amounts,
    has_supplier: pa.Array,
    date_blank: pa.Array,
    transaction: pa.Array,
) -> pa.Array:
    """Why each row is not a transaction (null for rows kept), in order of precedence."""
    n = len(raw_amount)
    amount_ok = pc.is_valid(amounts.amounts)
    says_total = _says_total(sheet, columns, n)
    undated = pc.and_(date_blank, pc.is_null(transaction))
    lonely_amount = pc.and_(pc.and_(amount_ok, pc.invert(has_supplier)), undated)
    # 'Grand Total' in the supplier's own column, on a row with no date or reference ('Total Gas Ltd' has them)
    total_as_supplier = pc.and_(_says_total_in(cells_of(sheet, columns, n)("supplier_name")), undated)
    footer = pc.or_(pc.and_(says_total, pc.or_(pc.invert(has_supplier), total_as_supplier)), lonely_amount)
    junk = pc.and_(pc.invert(amount_ok), pc.invert(has_supplier))
    extra = extra_cells(columns[named_width(sheet.cells) :], overflow, n)
    reason = pc.if_else(amounts.bad, "unparseable_amount", pa.scalar(None, pa.string()))
    reason = pc.if_else(amounts.blank, "missing_amount", reason)
    reason = pc.if_else(pc.and_(extra, split_amount(sheet, columns, raw_amount)), "extra_cells", reason)
    reason = pc.if_else(junk, "junk", reason)
    reason = pc.if_else(footer, "footer_total", reason)
    return common_reasons(sheet, part, columns, overflow, raw_amount, reason)


#: an amount cut in two by an unquoted thousands comma: '£1' then '000.00'
_AMOUNT_HEAD = r"^[-(£$€\s]*\d{1,3}$"
_AMOUNT_TAIL = r"^\d{3}(\.\d*)?[\s)-]*$"


def split_amount(sheet: Sheet, columns: list[pa.Array], raw_amount: pa.Array) -> pa.Array:
    """Rows whose amount may be cut in two by an unquoted comma (the amount cell is 1-3 digits and the next
    cell 3 more): with cells beyond the header, no amount on such a row can be trusted.

    A row with an extra cell and no such sign keeps its amount (a stray trailing cell) with a row issue.
    """
    amount = sheet.index_of("amount")
    if amount is None or amount + 1 >= len(columns):
        return pa.repeat(pa.scalar(True), len(raw_amount))
    head = pc.match_substring_regex(raw_amount, _AMOUNT_HEAD)
    tail = pc.match_substring_regex(pc.utf8_trim_whitespace(columns[amount + 1]), _AMOUNT_TAIL)
    return pc.fill_null(pc.and_(head, tail), True)


def _says_total_in(column: pa.Array) -> pa.Array:
    return pc.fill_null(pc.match_substring_regex(column, _TOTAL), False)


def common_reasons(
    sheet: Sheet, part: Part, columns: list[pa.Array], overflow: pa.Array | None, raw_money: pa.Array, reason: pa.Array
) -> pa.Array:
    """Reasons every kind of table shares, overriding the rest: oversized cells and header rows."""
    n = len(reason)
    money = sheet.choices.get("amount") or sheet.choices.get("value")
    header_money = sheet.cells[money.index].strip().casefold() if money and money.index < len(sheet.cells) else None
    repeated = pc.fill_null(pc.equal(pc.utf8_lower(raw_money), header_money), False) if header_money else None
    reason = pc.if_else(oversized_cells(columns, overflow, n), "oversized_cell", reason)
    if repeated is not None:
        reason = pc.if_else(repeated, "repeated_header", reason)
    if part.header and n:
        first = np.zeros(n, bool)
        first[0] = True
        reason = pc.if_else(pa.array(first), pa.scalar(part.header), reason)
    return reason


def _says_total(sheet: Sheet, columns: list[pa.Array], n: int) -> pa.Array:
    says_total = pa.repeat(pa.scalar(False), n)
    supplier = sheet.index_of("supplier_name")
    candidates = columns[:3] + ([columns[supplier]] if supplier is not None and supplier < len(columns) else [])
    for column in candidates:
        if not pc.any(pc.match_substring(pc.ascii_lower(column), "total")).as_py():
            continue  # most columns never say it: one plain search over the column settles them
        start = pc.utf8_slice_codeunits(column, 0, 16)  # 'Total' opens the cell, after at most 'grand '/'sub '
        if pc.any(pc.match_substring_regex(start, "[Tt][Oo][Tt][Aa][Ll]")).as_py():
            says_total = pc.or_(says_total, _says_total_in(column))
    return says_total


# ------------------------------------------------------------------ shared by every kind of table


def drop_blank(batch: Batch) -> tuple[list[pa.Array], pa.Array | None, pa.Array, int]:
    """The batch without its blank rows (no cell holding more than whitespace), and how many there were."""
    columns, overflow, source_row = batch.columns, batch.overflow, batch.source_row
    filled = any_text(columns)
    if overflow is not None:
        filled = pc.or_(filled, pc.is_valid(overflow))
    blank = batch.num_rows - (pc.sum(filled).as_py() or 0)
    if blank:
        columns = [pc.filter(c, filled) for c in columns]
        source_row = pc.filter(source_row, filled)
        overflow = pc.filter(overflow, filled) if overflow is not None else None
    return columns, overflow, source_row, blank


def cells_of(sheet: Sheet, columns: list[pa.Array], n: int) -> Callable[[str], pa.Array]:
    def cell(canon: str) -> pa.Array:
        index = sheet.index_of(canon)
        if index is None or index >= len(columns):
            return pa.nulls(n, pa.string())
        return pc.utf8_trim_whitespace(columns[index])

    return cell


def build_rejects(
    sheet: Sheet,
    source: Source,
    columns: list[pa.Array],
    overflow: pa.Array | None,
    source_row: pa.Array,
    reason: pa.Array,
    details: dict[str, pa.Array],
) -> pa.Table:
    """The rejected rows: provenance, reason, a detail (the offending value) and the original cells as JSON."""
    idx = pc.indices_nonzero(pc.is_valid(reason))
    reasons = pc.take(reason, idx).to_pylist()
    m = len(reasons)
    if not m:
        return schema.empty_table("rejects")
    rows = [pc.take(c, idx).to_pylist() for c in columns]
    beyond = pc.take(overflow, idx).to_pylist() if overflow is not None else [None] * m
    detail_values = {why: pc.take(values, idx).to_pylist() for why, values in details.items()}
    raws: list[str] = []
    found: list[str | None] = []
    for j, why in enumerate(reasons):
        cells = [col[j] or "" for col in rows] + (json.loads(str(beyond[j])) if beyond[j] else [])
        while cells and not cells[-1].strip():
            cells.pop()
        if why == "oversized_cell":
            found.append(_oversized_detail(cells, sheet.cells))
            cells = [c if len(c) <= RAW_CELL_CHARS else c[:RAW_CELL_CHARS] + "…" for c in cells]
        raws.append(json.dumps(cells, ensure_ascii=False))
        if why == "extra_cells":
            found.append(raws[-1])
        elif why != "oversized_cell":
            found.append(detail_values[why][j] if why in detail_values else None)
    return schema.conform(
        pa.table(
            {
                "council_code": pa.repeat(pa.scalar(source.council_code, pa.string()), m),
                "dataset": pa.repeat(pa.scalar(sheet.dataset, pa.string()), m),
                "source_sha256": pa.repeat(pa.scalar(source.sha256, pa.string()), m),
                "source_url": pa.repeat(pa.scalar(source.source_url, pa.string()), m),
                "source_sheet": pa.repeat(pa.scalar(sheet.name, pa.string()), m),
                "source_row": pc.take(source_row, idx),
                "reason": pa.array(reasons, pa.string()),
                "detail": pa.array(found, pa.string()),
                "raw": pa.array(raws, pa.string()),
            }
        ),
        "rejects",
    )


def _oversized_detail(cells: list[str], header: list[str]) -> str:
    big = max(range(len(cells)), key=lambda i: len(cells[i].encode()))
    name = header[big] if big < len(header) and header[big].strip() else f"column {big + 1}"
    return f"cell of {len(cells[big].encode()):,} bytes in {name}"


def issue_lists(issues: dict[str, pa.Array], n: int) -> pa.Array:
    """Per row, the list of issue names whose mask is true there (null when none).

    >>> issue_lists({"a": pa.array([True, False, True]), "b": pa.array([True, False, False])}, 3).to_pylist()
    [['a', 'b'], None, ['a']]
    """
    names = [name for name, mask in issues.items() if pc.any(mask).as_py()]
    if not names or not n:
        return pa.nulls(n, pa.list_(pa.string()))
    matrix = np.column_stack([np.asarray(pc.fill_null(issues[name], False)) for name in names])
    rows, which = np.nonzero(matrix)
    counts = np.bincount(rows, minlength=n)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    values = pa.array(np.array(names, dtype=object)[which], pa.string())
    lists = pa.ListArray.from_arrays(pa.array(offsets), values)
    return pc.if_else(pa.array(counts > 0), lists, pa.nulls(n, pa.list_(pa.string())))


def add_registration_numbers(out: dict[str, pa.Array], sheet: Sheet, cell: Callable[[str], pa.Array]) -> None:
    """Published company and charity numbers, normalised (one free-text 'registration number' column serves both)."""
    if "company_number_published" in sheet.choices:
        out["company_number_published"] = by_value(cell("company_number_published"), company_number)
    if "charity_number_published" in sheet.choices:
        registration = cell("charity_number_published")
        out["charity_number_published"] = by_value(registration, charity_number)
        if "company_number_published" not in sheet.choices:
            out["company_number_published"] = by_value(registration, company_from_registration)


def any_text(columns: list[pa.Array]) -> pa.Array:
    """Rows with at least one cell holding more than whitespace (all cells joined, then trimmed: three kernels).

    >>> any_text([pa.array(["", " ", "x"]), pa.array(["", "\\t", None])]).to_pylist()
    [False, False, True]
    """
    if not columns:
        return pa.array([], pa.bool_())
    joined = pc.binary_join_element_wise(*columns, "", null_handling="replace", null_replacement="")
    return pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(joined)), 0), False)


def extra_cells(unnamed: list[pa.Array], overflow: pa.Array | None, n: int) -> pa.Array:
    """Rows with a non-empty cell beyond the columns the header names (an unquoted '£1,000.00' splits in two)."""
    extra = any_text(unnamed) if unnamed else pa.repeat(pa.scalar(False), n)
    return pc.or_(extra, pc.is_valid(overflow)) if overflow is not None else extra


def oversized_cells(columns: list[pa.Array], overflow: pa.Array | None, n: int) -> pa.Array:
    """Rows with a cell (or overflow) longer than ``MAX_CELL_BYTES``: not data."""
    big = pa.repeat(pa.scalar(False), n)
    for column in [*columns, *([overflow] if overflow is not None else [])]:
        if column.nbytes <= MAX_CELL_BYTES:
            continue  # the whole column is smaller than one oversized cell
        longest = pc.max(pc.binary_length(column)).as_py()
        if longest is not None and longest > MAX_CELL_BYTES:
            big = pc.or_(big, pc.fill_null(pc.greater(pc.binary_length(column), MAX_CELL_BYTES), False))
    return big


def collapse(values: pa.Array) -> pa.Array:
    """Runs of spaces inside a value become one (padding such as 'Social Services          ')."""
    if pc.any(pc.match_substring(values, "  ")).as_py():
        return pc.replace_substring_regex(values, r"\s{2,}", " ")
    return values


def blank_to_null(values: pa.Array) -> pa.Array:
    """Empty strings as nulls (a null condition keeps the null).

    >>> blank_to_null(pa.array(["a", "", None])).to_pylist()
    ['a', None, None]
    """
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def by_value(values: pa.Array, func: Callable[[str], str | None]) -> pa.Array:
    """Apply a Python function once per distinct value (names and ids repeat a lot)."""
    encoded = pc.dictionary_encode(values)
    mapped = pa.array([func(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return pc.take(mapped, encoded.indices)


def repair(values: pa.Array) -> pa.Array:
    """Repair mojibake, only in the (rare) columns that show it."""
    if pc.all(pc.string_is_ascii(values)).as_py() is not False:
        return values
    if pc.any(pc.match_substring_regex(values, "[ÂÃâ][\u0080-\u00bf\u2018-\u203a€™]|†")).as_py():
        return by_value(values, lambda v: repair_text(v) if v and looks_mojibaked(v) else v)
    return values


def company_from_registration(text: str | None) -> str | None:
    """A company number from a free-text registration field, when the text says it is one.

    >>> company_from_registration("Company No. 1234567"), company_from_registration("Charity No. 1103588")
    ('01234567', None)
    """
    if not text or "compan" not in text.lower():
        return None
    match = re.search(r"\b(?:[A-Za-z]{2}\d{6}|\d{6,8})\b", text)
    return company_number(match[0]) if match else None


def charity_number(text: str | None) -> str | None:
    """The digits of a published charity number; None when there are none or it names a company.

    >>> charity_number("Charity No. 1103588"), charity_number("GB-CHC-299533"), charity_number("none"), charity_number("Company No. 123")
    ('1103588', '299533', None, None)
    """
    if not text or "compan" in text.lower():
        return None
    match = re.search(r"\d{5,8}(?:-\d{1,2})?", text)
    return match[0] if match else None
