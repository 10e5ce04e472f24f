"""The answer key: what a perfect run over the mock council web must find.

Written by :func:`mockweb.generate.generate` under ``<root>/answers/`` as CSV, read back with
:func:`load_answer_key`. Compliance truth follows COMPLIANCE_RULES.md (see :func:`compute_compliance`).

``files``: one row per link on the site (and per portal resource).
  ``url_path`` the path of the link as published (a redirecting link keeps its own path; ``redirect_to``
  names where it leads); ``rows_total`` every non-blank data row a parser must account for (transactions
  plus junk: footer totals, a row whose amount is ``#VALUE!``), never title, header or blank rows;
  ``transactions`` rows that belong in spend; ``total_amount`` their net amounts summed exactly;
  ``expected_status`` ok (footer totals only) | partial (a row with a bad value) | failed |
  not_machine_readable | not_spend, empty for links that never answer 200 (``http_status`` 404/500);
  ``republishes`` the file whose transactions this one repeats (same rows, another format);
  ``columns`` the canonical spend columns the file provides (';'-joined); ``fault`` names a hostile case;
  ``expected_error`` is part of the error a careful crawler records for a link it must not or cannot
  fetch (``connection dropped``, ``timed out``, ``redirect loop``, ``too large``, ``HTTP 429``,
  ``asked to retry after``), with ``http_status`` the status it records (0: no response to record).
``suppliers``: each council's supplier names as written in machine-readable transaction rows, with the
  true ``org_id`` (empty for redacted names, sole traders, NHS bodies and card merchants), ``org_type``
  (``unmatched`` for card merchants no register holds), ``size_band`` (the organisation's true size,
  which its accounts may not show: a medium company filing full accounts; empty for public bodies,
  people and merchants) and ``sector``.
``compliance``: council x quarter; ``on_time`` is true/false/empty; ``required_fields_missing`` lists the
  Transparency Code fields no machine-readable covering file provides (all of them when none covers).
``disallowed``: links robots.txt forbids; a polite crawler never fetches them.
``documents``: papers listed beside the data (guides, field definitions, budget books, contract
  registers, policies): served, linked, and never spend data; a crawler never fetches them.
``pages``: pages a crawler must record as unreadable (``url_path``, ``kind``, ``expected_error``): the
  entry pages of a council whose site is down, whose quarters are all ``site_unreachable``.
``ignored``: links that are not web addresses (``mailto:``, ``javascript:``, ``ftp:``, ``file:``,
  ``data:``); a crawler neither requests nor records them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import pandas as pd

from mockweb.files import CONTRACT_CODE_FIELDS, missing_code_fields

MACHINE_READABLE = ("csv", "xlsx", "xls", "ods", "json", "zip")
FILE_COLUMNS = [
    "url_path",
    "council_code",
    "dataset",
    "format",
    "period_start",
    "period_end",
    "published_at",
    "rows_total",
    "transactions",
    "total_amount",
    "expected_status",
    "republishes",
    "columns",
    "link_text",
    "http_status",
    "fault",
    "redirect_to",
    "expected_error",
]
DOCUMENT_COLUMNS = ["council_code", "url_path", "link_text", "kind"]


@dataclass(frozen=True)
class AnswerKey:
    """The generator's truth about one mock council web."""

    files: pd.DataFrame
    suppliers: pd.DataFrame
    compliance: pd.DataFrame
    disallowed: pd.DataFrame  # links robots.txt forbids (a polite crawler never fetches them)
    documents: pd.DataFrame  # papers beside the data, never spend data
    pages: pd.DataFrame  # pages a crawler must record as unreadable (a council whose site is down)
    ignored: pd.DataFrame  # non-web links, never requested nor recorded


class AnswerKeyError(FileNotFoundError):
    """The folder holds no generated mock web."""


def load_answer_key(root: Path) -> AnswerKey:
    """Read the answer key of the mock web generated under ``root``."""
    folder = Path(root) / "answers"
    if not (folder / "files.csv").exists():
        raise AnswerKeyError(f"{root} holds no mock web answer key (run mockweb.generate.generate first)")

    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(folder / name, dtype=str, keep_default_na=False)

    files = read("files.csv")
    for col in ("period_start", "period_end"):
        files[col] = pd.to_datetime(files[col]).dt.date
    files["published_at"] = pd.to_datetime(files["published_at"].replace("", None), utc=True)
    for col in ("rows_total", "transactions", "http_status"):
        files[col] = files[col].astype("int64")
    compliance = read("compliance.csv")
    compliance["months_covered"] = pd.to_numeric(compliance["months_covered"]).astype("Int64")  # empty for contracts
    return AnswerKey(
        files=files,
        suppliers=read("suppliers.csv"),
        compliance=compliance,
        disallowed=read("disallowed.csv"),
        documents=read("documents.csv"),
        pages=read("pages.csv"),
        ignored=read("ignored.csv"),
    )


def quarter_bounds(label: str) -> tuple[date, date]:
    """First and last day of a quarter label.

    >>> quarter_bounds("2025-Q4")
    (datetime.date(2025, 10, 1), datetime.date(2025, 12, 31))
    """
    year, q = int(label[:4]), int(label[-1])
    start = date(year, q * 3 - 2, 1)
    end = date(year + 1, 1, 1) if q == 4 else date(year, q * 3 + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def quarter_deadline(label: str) -> date:
    """The last day of the month after the quarter ends.

    >>> quarter_deadline("2025-Q3")
    datetime.date(2025, 10, 31)
    """
    end = quarter_bounds(label)[1]
    nxt = date(end.year + (end.month == 12), end.month % 12 + 1, 1)
    return date.fromordinal(date(nxt.year + (nxt.month == 12), nxt.month % 12 + 1, 1).toordinal() - 1)


def quarters_between(first: date, as_of: date) -> list[str]:
    """Quarter labels from the one holding ``first`` through the last whose deadline is on or before ``as_of``.

    >>> quarters_between(date(2026, 2, 3), date(2026, 10, 15))
    ['2026-Q1', '2026-Q2']
    """
    out, year, q = [], first.year, (first.month - 1) // 3 + 1
    while True:
        label = f"{year}-Q{q}"
        if quarter_deadline(label) > as_of:
            return out
        out.append(label)
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)


def compute_compliance(
    files: pd.DataFrame,
    row_months: dict[str, set[tuple[int, int]]],
    outside_england: set[str],
    as_of: date,
    unreachable: Collection[str] = (),
) -> pd.DataFrame:
    """Every council's compliance state per quarter and duty, by the rules of COMPLIANCE_RULES.md.

    ``files`` has the key.files columns (``columns`` holds the ';'-joined canonical columns a file
    provides); ``row_months`` gives, per council, the (year, month)s with spend_over_500 rows.
    Files never served (HTTP errors) do not count as published. Two duties: spending over £500
    (months counted) and contracts over £5,000 (a register each quarter, months not counted).
    ``unreachable`` councils' sites are down: nothing of theirs can be read, so every quarter of
    every duty is ``site_unreachable``.
    """
    served = files[files["http_status"] == 200]
    spend = served[served["dataset"] == "spend_over_500"]
    councils = sorted(set(files["council_code"].unique()) | set(unreachable))
    quarters = quarters_between(min(spend["period_start"]), as_of)
    records = []
    duties = (("spend_over_500", None), ("contracts", CONTRACT_CODE_FIELDS))
    for dataset, fields in duties:
        published = served[served["dataset"] == dataset]
        for code in councils:
            own = published[published["council_code"] == code]
            for label in quarters:
                records.append(
                    _judge(code, label, own, row_months, outside_england, dataset, fields, code in unreachable)
                )
    return pd.DataFrame.from_records(records)


def _judge(
    code: str,
    label: str,
    own: pd.DataFrame,
    row_months: dict[str, set[tuple[int, int]]],
    outside_england: set[str],
    dataset: str,
    fields: dict[str, tuple[str, ...]] | None,
    unreachable: bool = False,
) -> dict:
    start, end = quarter_bounds(label)
    deadline = quarter_deadline(label)
    covering = own[(own["period_start"] <= end) & (own["period_end"] >= start)]
    readable = covering[covering["format"].isin(MACHINE_READABLE) & covering["expected_status"].isin(("ok", "partial"))]
    counted = fields is None
    months = sum(1 for m in range(start.month, end.month + 1) if (start.year, m) in row_months.get(code, set()))
    provided = {c for cols in readable["columns"] for c in cols.split(";") if c}
    # every field when no machine-readable file covers it
    missing = missing_code_fields(provided) if counted else missing_code_fields(provided, fields or {})
    evidence = min(covering["published_at"], default=None)
    on_time = None if evidence is None else evidence <= datetime.combine(deadline, time.max, UTC)
    ladder = (  # the first that holds (COMPLIANCE_RULES.md)
        ("not_applicable", code in outside_england),
        ("site_unreachable", covering.empty and unreachable),
        ("missing", covering.empty),
        ("not_machine_readable", readable.empty),
        ("incomplete", bool(missing) or (counted and months < 3)),
        ("late", on_time is False),
        ("unknown", on_time is None),
        ("compliant", True),
    )
    status = next(name for name, holds in ladder if holds)
    return {
        "council_code": code,
        "period": label,
        "dataset": dataset,
        "status": status,
        "on_time": "" if on_time is None else str(on_time).lower(),
        "months_covered": months if counted else None,
        "required_fields_missing": ";".join(missing),
        "deadline": deadline.isoformat(),
        "published": str(not covering.empty).lower(),
        "machine_readable": str(not readable.empty).lower(),
    }
