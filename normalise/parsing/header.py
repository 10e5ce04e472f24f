"""Find the header of a grid: past titles, SQL preambles, blank and machine-name rows, over two rows.

A header row names several canonical fields by its words (``vocabulary``); the best rows are then
mapped against the values beneath them (``columns.map_columns``) and the first whose mapping holds
an amount (or, for a contracts register, a value and its dates) wins. A second header row that
only adds words to the first ('Period' over 'From' and 'To') is merged into it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from normalise.parsing.columns import Choice, Profile, map_columns, profile, profiles_of
from normalise.parsing.encoding import repair_text
from normalise.parsing.vocabulary import CONTRACT_FIELDS, SPEND_FIELDS, readings

MIN_FIELDS = 2
#: rows read past the last header-like row before the search stops
LOOK_PAST = 8
#: rows tried as the header, best first, before giving up
CANDIDATES = 4
#: distinct cells whose named field is remembered per process
HEADINGS_LIMIT = 65_536
_MONEY_FIELDS = ("amount", "gross_amount")
_DIGIT = re.compile(r"\d")
#: what _wordy counts: ASCII letters and digits
_LETTER = re.compile(r"[A-Za-z]")
_ASCII_DIGIT = re.compile(r"[0-9]")


@dataclass(frozen=True)
class Header:
    """The header: its first row (0-based record index), how many rows it spans, its cells, the grid width to
    read rows with, the kind of table (``spend`` or ``contracts``) and the column mapping."""

    index: int
    rows: int
    cells: list[str]
    width: int
    kind: str
    choices: dict[str, Choice]
    distrusted: dict[str, str]
    profiles: list[Profile]

    @property
    def body_start(self) -> int:
        """Records before the first data row."""
        return self.index + self.rows


ALL_FIELDS = SPEND_FIELDS + CONTRACT_FIELDS


def row_fields(cells: Sequence[str], fields: Sequence[str] = ALL_FIELDS) -> set[str]:
    """Distinct fields of ``fields`` a row's cells name, each cell counted for its best reading.

    >>> sorted(row_fields(["Expenditure Category", "Date", "Total Invoice Amount", "SUPPLIER", "Column1"], SPEND_FIELDS))
    ['amount', 'expense_type', 'payment_date', 'supplier_name']
    >>> row_fields(["Report", "run on 14/11/2019"])
    set()
    """
    if fields is ALL_FIELDS:  # the header search's question, asked of every cell near the top of every file
        return {field for cell in cells if cell and (field := _named_field(cell))}
    return {field for cell in cells if cell and (field := _best_field(cell, fields))}


@lru_cache(maxsize=HEADINGS_LIMIT)
def _named_field(cell: str) -> str | None:
    """The field of any table a cell names by its best reading (a cell near the top of a file: headings and data recur)."""
    return _best_field(cell, ALL_FIELDS)


def _best_field(cell: str, fields: Sequence[str]) -> str | None:
    if len(cell) >= 120 or not _wordy(cell):
        return None
    return next((r.field for r in readings(cell) if r.field in fields), None)


def _wordy(cell: str) -> bool:
    """A cell that could be a heading: more letters than digits (figures and dates are data).

    >>> _wordy("2010/11 ABG Allocation £000"), _wordy("01/03/2025"), _wordy("1,200.50")
    (True, False, False)
    """
    if not _LETTER.search(cell):
        return False
    if not _ASCII_DIGIT.search(cell):
        return True  # most cells settle here, without counting
    digits = len(cell) - len(cell.translate(_DROP_DIGITS))
    letters = len(cell) - len(cell.translate(_DROP_LETTERS))
    return letters >= digits


def _holds_figures(row: Sequence[str]) -> bool:
    """Two or more cells that read as amounts or dates: a row of data, whatever words it has.

    >>> _holds_figures(["Adults", "2020-08-04", "18 SEA VIEW VILLAS", "1600"]), _holds_figures(["Date", "Amount", "2010/11"])
    (True, False)
    >>> _holds_figures(["Date", "Supplier", "Amount"])
    False
    """
    if not any(_DIGIT.search(c) for c in row):
        return False  # an amount, a date and a day number all hold a digit: most header rows end here
    values = profile([c for c in row if c.strip()])
    return round((values.money + values.dates + values.serials) * values.filled) >= 2


_DROP_DIGITS = str.maketrans("", "", string.digits)
_DROP_LETTERS = str.maketrans("", "", string.ascii_letters)


def find_header(
    head: list[list[str]], overrides: dict[str, str] | None = None, registers: bool = False
) -> Header | None:
    """The header of a grid, or None when no row names an amount and enough else.

    Ties go to the later record, so a machine-name row ('apar_name,amount') just above the
    human header loses to it. ``registers``: the file was linked as a contracts register, so a
    table with no payment date is read as one.

    >>> find_header([["Report"], [], ["Date", "Supplier", "Amount"], ["01/01/2020", "A", "5"]]).index
    2
    >>> find_header([["hello", "world"]]) is None
    True
    """
    overridden = {o.strip().casefold() for o in (overrides or {}).values()}
    counts: dict[int, int] = {}
    for i, row in enumerate(head):
        if counts and i > max(counts) + LOOK_PAST:
            break  # well into the data: a header has been seen and no better one follows
        count = len(row_fields(row))
        if overridden:
            count += sum(1 for c in row if c and c.strip().casefold() in overridden)
        if count >= MIN_FIELDS and not _holds_figures(row):
            counts[i] = count
    # the earliest of equally good rows, unless the next row is as good (a human header under machine names)
    kept = [i for i, n in counts.items() if counts.get(i + 1) != n]
    for index in sorted(kept, key=lambda i: (-counts[i], i))[:CANDIDATES]:
        header = _read_header(head, index, overrides, registers)
        if header is not None:
            return header
    return None


def _read_header(head: list[list[str]], index: int, overrides: dict[str, str] | None, registers: bool) -> Header | None:
    cells = [repair_text(c) for c in head[index]]
    rows = 1
    below = head[index + 1 :]
    if below and _continues(cells, below[0], below[1:]):
        cells = merge_header_rows(cells, [repair_text(c) for c in below[0]])
        rows = 2
    sample = head[index + rows :]
    linked_as_register = registers and not _PAYMENT_DATE.search(" | ".join(c.lower() for c in cells))
    kind = "contracts" if linked_as_register or is_contract_register(cells) else "spend"
    fields = CONTRACT_FIELDS if kind == "contracts" else SPEND_FIELDS
    distrusted: dict[str, str] = {}
    profiles = profiles_of(sample, len(cells))
    choices = map_columns(cells, sample, fields, overrides, distrusted, profiles)
    if kind == "contracts":
        if not ({"value", "supplier_name"} <= set(choices) or {"title", "supplier_name"} <= set(choices)):
            return None
    elif not set(_MONEY_FIELDS) & set(choices):
        return None
    return Header(index, rows, cells, _width(cells, sample), kind, choices, distrusted, profiles)


def is_contract_register(header: Sequence[str]) -> bool:
    """A contracts register: a value beside words of procurement (contract, tender, procedure, SME, VCSE,
    review date), at least two such signs or one with start and end dates, and no words of grants.

    >>> is_contract_register(["Contract Reference", "Title", "Supplier", "Value", "Start Date", "End Date"])
    True
    >>> is_contract_register(["Date", "Supplier", "Amount", "Contract ID"])
    False
    >>> is_contract_register(["Title", "Amount Awarded", "Planned Dates:Start Date", "Planned Dates:End Date"])
    False
    >>> is_contract_register(["Payment Date", "Supplier", "Amount", "Contract Ref", "Contract Start", "Contract End"])
    False
    """
    named = {readings(c)[0].field for c in header if c and readings(c)}
    text = " | ".join(c.lower() for c in header if c)
    if not named & {"amount", "value", "gross_amount"} or _GRANT_WORDS.search(text):
        return False
    if _PAYMENT_DATE.search(text):
        return False  # a payment date: a list of payments, whatever else it says about contracts
    signs = len(_PROCUREMENT_WORDS.findall(text)) + len(named & {"procedure", "review_date", "sme", "vcse"})
    return signs >= 2 or (signs >= 1 and {"start_date", "end_date"} <= named)


_PROCUREMENT_WORDS = re.compile(r"\b(contracts?|tender(?:ed|ing)?|procurement|framework)\b")
_PAYMENT_DATE = re.compile(r"\b(paid|payment|pay|transaction|trans)\s+date\b|\bdate\s+(paid|of payment)\b")
_GRANT_WORDS = re.compile(r"\b(grants?|awarded|recipient|funding org|beneficiar(?:y|ies))\b")


def _continues(header: list[str], row: list[str], after: list[list[str]]) -> bool:
    """Whether ``row`` is a second header row: a few short words, no figures, under a header it completes."""
    filled = [(i, c.strip()) for i, c in enumerate(row) if c and c.strip()]
    named = [c for c in header if c.strip()]
    if not filled or len(filled) * 2 > len(named):
        return False
    if any(_DIGIT.search(c) or len(c) > 40 for _, c in filled):
        return False
    if row_fields(row) and len(row_fields(row)) >= MIN_FIELDS:
        return False
    if not after:
        return False
    next_row = after[0]
    columns = [i for i, _ in filled]
    figures = [next_row[i] for i in columns if i < len(next_row) and next_row[i].strip()]
    under_gap = any(i >= len(header) or not header[i].strip() for i in columns)
    return under_gap or bool(figures and profile(figures).dates > 0.5)


def merge_header_rows(top: list[str], bottom: list[str]) -> list[str]:
    """Two header rows as one: each lower cell joins the upper cell it sits under, or the nearest one to its left.

    >>> merge_header_rows(["Date", "Period", "", "Amount"], ["", "From", "To", ""])
    ['Date', 'Period From', 'Period To', 'Amount']
    """
    merged, parent = [], ""
    for i in range(max(len(top), len(bottom))):
        upper = top[i].strip() if i < len(top) else ""
        lower = bottom[i].strip() if i < len(bottom) else ""
        parent = upper or parent
        merged.append(f"{upper or parent} {lower}".strip() if lower else upper)
    return merged


def named_width(header: list[str]) -> int:
    """How many columns the header names: up to its last non-empty cell.

    >>> named_width(["Date", "", "Amount", " ", ""]), named_width(["", ""])
    (3, 2)
    """
    return max((i + 1 for i, c in enumerate(header) if c.strip()), default=len(header))


def _width(header: list[str], rows: list[list[str]]) -> int:
    """Columns to read: the most common width of the rows that follow, at least the named header cells."""
    named = named_width(header)
    widths = [len(r) for r in rows if any(c.strip() for c in r)]
    common = max(set(widths), key=widths.count) if widths else len(header)
    return max(common, named)
