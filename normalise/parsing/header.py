"""Find the header row of a grid: past titles, SQL preambles, blank and machine-name rows."""

from __future__ import annotations

from dataclasses import dataclass

from normalise.parsing.columns import header_score
from normalise.parsing.encoding import repair_text

MIN_MATCHES = 2


@dataclass(frozen=True)
class Header:
    """The header row (0-based record index), its cells, and the grid width to read rows with."""

    index: int
    cells: list[str]
    width: int


def find_header(head: list[list[str]], overridden: set[str] | None = None) -> Header | None:
    """The record that names the most canonical columns, one of them an amount.

    Ties go to the later record, so a machine-name row ('apar_name,amount')
    just above the human header loses to it. Headers named in a per-council
    override count as matches. None when no record qualifies.

    >>> find_header([["Report"], [], ["Date", "Supplier", "Amount"], ["01/01/2020", "A", "5"]]).index
    2
    >>> find_header([["hello", "world"]]) is None
    True
    """
    best: tuple[int, int] | None = None
    for i, row in enumerate(head):
        matches, has_amount = header_score(row, overridden or set())
        if has_amount and matches >= MIN_MATCHES and (best is None or matches >= best[0]):
            if best is None or matches > best[0] or i == best[1] + 1:
                best = (matches, i)
    if best is None:
        return None
    index = best[1]
    cells = [repair_text(c) for c in head[index]]
    return Header(index=index, cells=cells, width=_width(cells, head[index + 1 :]))


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
