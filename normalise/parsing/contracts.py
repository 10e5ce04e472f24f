"""A batch of a contracts register's rows to canonical contract rows, rejects and row issues.

The Transparency Code asks for every contract over £5,000 with its reference, title, description,
department, supplier and its registration number, value, irrecoverable VAT, start, end and review
dates, how it was procured and whether the supplier is an SME or VCSE. A row is a contract when it
names one (a reference, title or supplier); what cannot be read in it goes into ``row_issues``.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from normalise.parsing.rowfacts import Source
from normalise.parsing.rows import (
    Normalised,
    add_registration_numbers,
    blank_to_null,
    build_rejects,
    cells_of,
    collapse,
    common_reasons,
    drop_blank,
    issue_lists,
    repair,
)
from normalise.parsing.sheet import Part, Sheet
from normalise.parsing.values import decide_dayfirst, parse_amounts, parse_dates, parse_flags

TEXT = ("reference", "title", "description", "department", "procedure", "supplier_id_published")
DATES = ("start_date", "end_date", "review_date")


def settle_contract_dayfirst(sheet: Sheet, cell: Callable[[str], pa.Array], rows: int) -> None:
    """Decide day or month first for the whole register from its first ``rows`` rows' dates (of every date column)."""
    if not sheet.dayfirst_settled and rows:
        samples = [v for canon in DATES for v in pc.unique(cell(canon)).to_pylist()]
        sheet.dayfirst, sheet.dayfirst_settled = decide_dayfirst(samples, default=sheet.dayfirst), True


def normalise_contracts(sheet: Sheet, part: Part, source: Source) -> Normalised:
    """Canonical contract columns (before row ids) and rejects for one part of a batch."""
    columns, overflow, source_row, blank = drop_blank(part.batch)
    n = len(source_row)
    cell = cells_of(sheet, columns, n)
    out: dict[str, pa.Array] = {"source_row": source_row}
    for canon in TEXT:
        out[canon] = blank_to_null(repair(collapse(cell(canon))))
    supplier = collapse(cell("supplier_name"))
    out["supplier_name"] = blank_to_null(repair(supplier))
    issues: dict[str, pa.Array] = {}
    raw_value = cell("value")
    value = parse_amounts(raw_value)
    out["value"] = value.amounts
    issues["unparseable_value"] = value.bad
    if "irrecoverable_vat" in sheet.choices:
        vat = parse_amounts(cell("irrecoverable_vat"))
        out["irrecoverable_vat"], issues["unparseable_irrecoverable_vat"] = vat.amounts, vat.bad
    settle_contract_dayfirst(sheet, cell, n)
    for canon in DATES:
        parsed = parse_dates(cell(canon), sheet.dayfirst)
        out[canon] = parsed.dates
        issues[f"unparseable_{canon}"] = parsed.bad
    for canon in ("sme", "vcse"):
        if canon in sheet.choices:
            flags = parse_flags(cell(canon))
            out[canon], issues[f"unparseable_{canon}"] = flags.flags, flags.bad
    add_registration_numbers(out, sheet, cell)
    named = pa.repeat(pa.scalar(False), n)
    for canon in ("reference", "title", "supplier_name", "description"):
        named = pc.or_(named, pc.is_valid(out[canon]))
    if "supplier_name" in sheet.choices:
        issues["missing_supplier"] = pc.and_(named, pc.is_null(out["supplier_name"]))
    null = pa.scalar(None, pa.string())
    says_total = pc.fill_null(
        pc.match_substring_regex(pc.coalesce(out["reference"], out["title"], ""), r"(?i)^\s*(grand |sub ?)?totals?\b"),
        False,
    )
    reason = pc.if_else(pc.invert(named), "junk", null)
    reason = pc.if_else(pc.and_(says_total, pc.is_null(out["supplier_name"])), "footer_total", reason)
    reason = common_reasons(sheet, part, columns, overflow, raw_value, reason)
    details = {"new_header": pa.repeat(pa.scalar(part.detail or "", pa.string()), n), "footer_total": raw_value}
    rejects = build_rejects(sheet, source, columns, overflow, source_row, reason, details)
    out["row_issues"] = issue_lists(issues, n)
    return Normalised(pa.table(out).filter(pc.is_null(reason)), rejects, blank)
