"""One grid being read: its header, how its columns map now, and the header rows further down.

A header can reappear (a page header repeated in a print export) or change (a second export pasted
below the first, its amount one column to the left). :func:`segments` finds such rows in each batch
and re-maps the columns below a header that differs from the one in force.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow.compute as pc

from normalise.parsing.columns import PROFILE_ROWS, Choice, map_columns, profile
from normalise.parsing.encoding import repair_text
from normalise.parsing.header import MIN_FIELDS, row_fields
from normalise.parsing.tables import Batch, Grid
from normalise.parsing.vocabulary import CONTRACT_FIELDS, SPEND_FIELDS

#: rows per batch checked as possible header rows (rows without a usable amount and with several cells)
MAX_HEADER_CHECKS = 500
#: the money column that must be mapped for a header row to count, per kind of table
MONEY_FIELD = {"spend": "amount", "contracts": "value"}


@dataclass
class Sheet:
    """What is known about one grid once its header is found."""

    grid: Grid
    kind: str  # spend | contracts
    header_index: int  # 0-based record index of the first header row
    header_rows: int
    cells: list[str]
    width: int
    choices: dict[str, Choice]
    dataset: str
    dayfirst: bool
    period: tuple[dt.date, str, str] | None  # date, precision, title it came from, when no date column
    overrides: dict[str, str] = field(default_factory=dict)
    dayfirst_settled: bool = False
    remapped: list[dict] = field(default_factory=list)
    _checked: dict[tuple[str, ...], dict[str, Choice] | None] = field(default_factory=dict)

    @property
    def fields(self) -> tuple[str, ...]:
        return CONTRACT_FIELDS if self.kind == "contracts" else SPEND_FIELDS

    @property
    def name(self) -> str | None:
        return self.grid.sheet

    def index_of(self, canon: str) -> int | None:
        choice = self.choices.get(canon)
        return choice.index if choice else None


@dataclass
class Part:
    """A run of rows read under one mapping; ``header`` says what its first row is, if a header."""

    batch: Batch
    header: str | None = None  # repeated_header | new_header
    detail: str | None = None


def segments(sheet: Sheet, batch: Batch) -> Iterator[Part]:
    """The batch cut at every header row inside it; the sheet's mapping follows each new header."""
    start = 0
    while start < batch.num_rows:
        rest = _slice(batch, start, batch.num_rows)
        found = _first_header(sheet, rest)
        if found is None:
            yield Part(rest)
            return
        position, cells, choices = found
        if position:
            yield Part(_slice(rest, 0, position))
        header = _slice(rest, position, position + 1)
        if {k: v.index for k, v in choices.items()} == {k: v.index for k, v in sheet.choices.items()}:
            yield Part(header, "repeated_header")
        else:
            detail = _describe_change(sheet.choices, choices)
            row = int(rest.source_row[position].as_py())
            sheet.remapped.append({"row": row, "columns": {k: v.summary() for k, v in choices.items()}})
            sheet.cells, sheet.choices = cells, choices
            yield Part(header, "new_header", detail)
        start += position + 1


def _first_header(sheet: Sheet, batch: Batch) -> tuple[int, list[str], dict[str, Choice]] | None:
    """The first row of a batch that reads as a header naming an amount, under the mapping in force."""
    money = sheet.index_of(MONEY_FIELD[sheet.kind])
    if money is None or money >= len(batch.columns) or batch.num_rows == 0:
        return None
    # a header row holds words where the amount goes: rows whose amount cell has a digit are data
    candidates = pc.invert(pc.fill_null(pc.match_substring_regex(batch.columns[money], r"\d"), False))
    if not pc.any(candidates).as_py():
        return None
    for position in pc.indices_nonzero(candidates).to_pylist()[:MAX_HEADER_CHECKS]:
        cells = [repair_text(c[position].as_py() or "") for c in batch.columns]
        if sum(1 for c in cells if c) < MIN_FIELDS or not looks_like_header(cells, sheet):
            continue
        choices = _mapping(sheet, cells, batch, position)
        if choices is not None:
            return position, cells, choices
    return None


def looks_like_header(cells: list[str], sheet: Sheet) -> bool:
    """Words naming several fields, one of them the money column, and no cell that reads as a figure or date."""
    named = row_fields(cells, sheet.fields)
    if len(named) < MIN_FIELDS or not named & {MONEY_FIELD[sheet.kind], "gross_amount", "amount"}:
        return False
    values = profile([c for c in cells if c.strip()])
    return values.money == 0 and values.dates + values.serials == 0


def _mapping(sheet: Sheet, cells: list[str], batch: Batch, position: int) -> dict[str, Choice] | None:
    """The mapping a header row gives the rows below it (None without an amount), once per distinct header."""
    key = tuple(cells)
    if key not in sheet._checked:
        below = _slice(batch, position + 1, min(position + 1 + PROFILE_ROWS, batch.num_rows))
        sample = [list(row) for row in zip(*(c.to_pylist() for c in below.columns))]
        choices = map_columns(cells, sample, sheet.fields, sheet.overrides)
        if sheet.kind == "spend" and "amount" not in choices and "gross_amount" in choices:
            gross = choices["gross_amount"]
            choices["amount"] = Choice(gross.index, gross.source, "derived", gross.score)
        sheet._checked[key] = choices if MONEY_FIELD[sheet.kind] in choices else None
    return sheet._checked[key]


def _describe_change(before: dict[str, Choice], after: dict[str, Choice]) -> str:
    """E.g. 'columns re-mapped: amount from column 6 to column 5'."""
    moved = [
        f"{canon} from column {before[canon].index + 1} to column {choice.index + 1}"
        for canon, choice in after.items()
        if canon in before and before[canon].index != choice.index
    ]
    added = [f"{canon} in column {c.index + 1}" for canon, c in after.items() if canon not in before]
    return "columns re-mapped: " + ("; ".join(moved + added) or "same columns, new header words")


def _slice(batch: Batch, start: int, stop: int) -> Batch:
    length = stop - start
    return Batch(
        [c.slice(start, length) for c in batch.columns],
        batch.source_row.slice(start, length),
        batch.overflow.slice(start, length) if batch.overflow is not None else None,
    )
