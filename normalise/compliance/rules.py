"""Compliance with the Local Government Transparency Code: one row per council, quarter and dataset.

Two quarterly duties are judged (:data:`DUTIES`): expenditure over £500 (``spend_over_500``) and
contracts over £5,000 (``contracts``, a register republished every quarter). The rules (shared
with the mock web's answer key) are, for each:

* a file *covers* a quarter when its period overlaps it (``files.period_*``, falling back to the
  earliest and latest payment dates of its spend rows); only downloaded files (with a sha256)
  count, and files found not to be spend at all (``parse_status = not_spend``) do not;
* *published*: a covering file exists; *machine readable*: a covering file is csv/xlsx/xls/ods/
  json/zip and parsed ``ok`` or ``partial``;
* *months covered* (spend only; null for contracts): months of the quarter with a spend row
  (month/quarter/year-precision rows count for every month they stand for);
* *required fields missing*: Transparency Code fields of the duty that no machine-readable
  covering file provides, judged from ``files.columns_mapped``;
* *publication evidence*: the earliest of ``first_seen_at`` and ``Last-Modified`` over the
  covering files; on time when it is on or before the deadline day (UTC). When that evidence is a
  ``first_seen_at`` after the deadline from our first crawl of the council, nobody can tell
  whether the file was there before we looked, so ``on_time`` is null;
* *site unreachable*: no covering file, and the council's last crawl could read none of the
  pages where the duty's files are looked for (``normalise.coverage``): we could not look, so
  the quarter is not called missing;
* status: not_applicable (outside England), site_unreachable, missing, not_machine_readable,
  incomplete (a field missing, or for spend fewer than three months with rows), late, unknown,
  compliant: the first that holds.

Spend is aggregated by DuckDB straight from the Parquet partitions of the councils asked about
(streaming; only one row per council, month and date precision comes back to Python). That
aggregate, :func:`monthly_spend`, is also what the report charts, so a caller producing both can
scan spend once and hand it to :func:`compute_compliance` and ``report.write_report``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from normalise.compliance import periods
from normalise.councils import councils as council_registry
from normalise.coverage import crawled_councils, unreachable_councils
from normalise.schema import arrow_schema
from normalise.store.layout import Layout
from normalise.store.parquet_io import read_table

DATASET = "spend_over_500"
MACHINE_READABLE_FORMATS = frozenset({"csv", "xlsx", "xls", "ods", "json", "zip", "gzip"})
PARSED = frozenset({"ok", "partial", "empty"})  # an empty file is readable, it just holds no rows

#: Transparency Code field -> canonical spend columns any one of which provides it.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "amount": ("amount",),
    "beneficiary": ("supplier_name",),
    "date": ("payment_date",),
    "department": ("department", "service_area"),
    "irrecoverable_vat": ("irrecoverable_vat",),
    "merchant_category": ("merchant_category", "expense_type"),
    "purpose": ("purpose", "expense_type"),
}
#: Transparency Code field -> canonical contracts columns any one of which provides it.
CONTRACT_FIELDS: dict[str, tuple[str, ...]] = {
    "reference": ("reference",),
    "title": ("title",),
    "description": ("description", "title"),
    "department": ("department",),
    "supplier": ("supplier_name",),
    "supplier_registration_number": ("company_number_published", "charity_number_published"),
    "value": ("value",),
    "irrecoverable_vat": ("irrecoverable_vat",),
    "start_date": ("start_date",),
    "end_date": ("end_date",),
    "review_date": ("review_date",),
    "procedure": ("procedure",),
    "sme_vcse": ("sme", "vcse"),
}


@dataclass(frozen=True)
class Duty:
    """One quarterly publication duty of the Code: its dataset, its fields, and whether months are counted."""

    dataset: str
    fields: dict[str, tuple[str, ...]]
    counts_months: bool


DUTIES = (Duty(DATASET, REQUIRED_FIELDS, True), Duty("contracts", CONTRACT_FIELDS, False))

#: Without a run record, links first seen this soon after a council's first link belong to the first crawl.
FIRST_CRAWL_GRACE = timedelta(hours=1)
CRAWL_FLOWS = ("crawl", "national")


class ComplianceInputError(ValueError):
    """The inputs cannot be assessed (unknown council code, bad ``since``)."""


@dataclass(frozen=True)
class SourceFile:
    """One downloaded file of the dataset, with the period it covers."""

    start: date
    end: date
    machine_readable: bool
    columns_mapped: frozenset[str]
    first_seen_at: datetime | None
    last_modified: datetime | None


@dataclass
class SpendSummary:
    """Spend of the dataset aggregated per council: rows and totals per quarter, months with rows."""

    rows: dict[tuple[str, str], int] = field(default_factory=dict)
    totals: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    months: dict[str, set[date]] = field(default_factory=lambda: defaultdict(set))

    def add(self, month: MonthTotal) -> None:
        key = (month.council_code, periods.quarter_of(month.month))
        self.rows[key] = self.rows.get(key, 0) + month.rows
        self.totals[key] = self.totals.get(key, Decimal("0.00")) + month.total
        self.months[month.council_code].update(periods.month_span(month.month, month.date_precision))


@dataclass(frozen=True)
class MonthTotal:
    """Rows and total of the dataset's spend of one council in one month, at one date precision."""

    council_code: str
    month: date
    date_precision: str | None
    rows: int
    total: Decimal


def compute_compliance(
    out_dir: Path,
    *,
    as_of: date,
    councils: Sequence[str] | None = None,
    since: str | None = None,
    monthly: Sequence[MonthTotal] | None = None,
) -> pa.Table:
    """The compliance table for every council in the run and every quarter due by ``as_of``.

    ``councils`` defaults to the councils in ``files.parquet``; ``since`` (a quarter label such
    as ``2024-Q1`` or an ISO date) overrides the first quarter, which otherwise is the earliest
    quarter any of those councils' files covers. ``monthly`` is :func:`monthly_spend` of those
    councils when the caller already has it (otherwise spend is scanned here).
    """
    out_dir = Path(out_dir)
    manifest = read_table(Layout(out_dir).manifest, "files").to_pylist()
    codes = _run_councils(manifest, councils, crawled_councils(out_dir))
    files = {duty.dataset: _source_files(manifest, codes, out_dir, duty.dataset) for duty in DUTIES}
    quarters = _quarters(files[DATASET], since, as_of)
    spend = SpendSummary()
    if quarters:
        for month in monthly_spend(out_dir, codes) if monthly is None else monthly:
            spend.add(month)
    first_crawl_ends = _first_crawl_ends(manifest, read_table(Layout(out_dir).table("runs"), "runs").to_pylist())
    registry = council_registry()
    unreachable = {duty.dataset: unreachable_councils(out_dir, duty.dataset) for duty in DUTIES}
    covering = {
        (duty.dataset, code): files_by_quarter(files[duty.dataset].get(code, [])) for duty in DUTIES for code in codes
    }
    rows = [
        _assess(
            duty,
            code,
            quarter,
            covering[duty.dataset, code].get(quarter, []),
            spend,
            first_crawl_ends.get(code),
            registry[code].in_england,
            code in unreachable[duty.dataset],
        )
        for duty in DUTIES
        for code in codes
        for quarter in quarters
    ]
    return pa.Table.from_pylist(rows, schema=arrow_schema("compliance"))


def _run_councils(manifest: list[dict], councils: Sequence[str] | None, crawled: set[str]) -> list[str]:
    codes = sorted(
        {c.strip().upper() for c in councils}
        if councils is not None
        else {f["council_code"] for f in manifest if f["council_code"]} | crawled
    )
    unknown = [c for c in codes if c not in council_registry()]
    if unknown:
        raise ComplianceInputError(f"unknown council codes {unknown} (see normalise/data/councils.csv)")
    return codes


def spend_files(out_dir: Path, codes: Iterable[str]) -> list[str]:
    """The spend Parquet files of these councils' hive partitions (``spend/council=<C>/...``)."""
    layout = Layout(out_dir)
    return [p.as_posix() for code in sorted(set(codes)) for p in layout.spend_files(code)]


#: The spend rows of the files passed as the ``$files`` query parameter.
_SPEND_ROWS = "read_parquet($files, hive_partitioning = true, union_by_name = true)"


def _source_files(
    manifest: list[dict], codes: Sequence[str], out_dir: Path, dataset: str = DATASET
) -> dict[str, list[SourceFile]]:
    """Downloaded files of the dataset per council, with their (possibly row-derived) periods."""
    wanted = set(codes)
    candidates = [
        f
        for f in manifest
        if f["council_code"] in wanted and f["dataset"] == dataset and f["sha256"] and f["parse_status"] != "not_spend"
    ]
    needing_rows = [f for f in candidates if f["period_start"] is None or f["period_end"] is None]
    from_rows = _periods_from_rows(
        spend_files(out_dir, {f["council_code"] for f in needing_rows}), sorted({f["sha256"] for f in needing_rows})
    )
    files: dict[str, list[SourceFile]] = defaultdict(list)
    for f in candidates:
        row_start, row_end = from_rows.get(f["sha256"], (None, None))
        start, end = f["period_start"] or row_start, f["period_end"] or row_end
        if start is None or end is None:
            continue
        files[f["council_code"]].append(
            SourceFile(
                start=start,
                end=end,
                machine_readable=f["format"] in MACHINE_READABLE_FORMATS and f["parse_status"] in PARSED,
                columns_mapped=frozenset(f["columns_mapped"] or ()),
                first_seen_at=f["first_seen_at"],
                last_modified=parse_http_date(f["last_modified"]),
            )
        )
    return files


def files_by_quarter(files: Iterable[SourceFile]) -> dict[str, list[SourceFile]]:
    """The files that cover each quarter (share a day with it), in their given order.

    One pass over each file's own quarters, so a council's ten years of monthly files cost
    as many steps as there are files, not files times quarters.

    >>> f = SourceFile(date(2025, 9, 1), date(2025, 10, 31), True, frozenset(), None, None)
    >>> sorted(files_by_quarter([f]))
    ['2025-Q3', '2025-Q4']
    """
    found: dict[str, list[SourceFile]] = defaultdict(list)
    for f in files:
        first, last = periods.month_index(f.start) // 3, periods.month_index(f.end) // 3
        for quarter in range(first, last + 1):
            found[f"{quarter // 4}-Q{quarter % 4 + 1}"].append(f)
    return found


def _periods_from_rows(files: list[str], sha256s: list[str]) -> dict[str, tuple[date, date]]:
    """First and last day the spend rows of each file stand for (rows repeated elsewhere included).

    ``files`` are the spend partitions of the councils those files belong to; the wanted hashes
    are joined in as a table, so each row is one hash lookup however many files are asked about.
    """
    if not files or not sha256s:
        return {}
    query = f"""
        WITH spend AS (
            SELECT source_sha256, also_published_in, payment_date, date_precision FROM {_SPEND_ROWS}
            WHERE payment_date IS NOT NULL
        ),
        dated AS (
            SELECT source_sha256 AS sha256, payment_date, date_precision FROM spend
            UNION ALL
            SELECT unnest(also_published_in) AS sha256, payment_date, date_precision FROM spend
            WHERE len(also_published_in) > 0
        )
        SELECT sha256,
               min(payment_date) AS first_day,
               max(CASE WHEN coalesce(date_precision, 'day') = 'day' THEN payment_date
                        ELSE CAST(date_trunc('month', payment_date)
                             + to_months(CASE date_precision WHEN 'quarter' THEN 3 WHEN 'year' THEN 12 ELSE 1 END)
                             - INTERVAL 1 DAY AS DATE) END) AS last_day
        FROM dated SEMI JOIN wanted USING (sha256)
        GROUP BY sha256
    """
    with duckdb.connect() as con:
        con.register("wanted", pa.table({"sha256": pa.array(sha256s, pa.string())}))
        result = con.execute(query, {"files": files}).fetchall()
    return {sha: (first, last) for sha, first, last in result}


def monthly_spend(out_dir: Path, codes: Iterable[str]) -> list[MonthTotal]:
    """Rows and total of the dataset's dated spend per council, month and date precision.

    One streaming scan of these councils' partitions; sorted by council, month and precision.
    """
    files = spend_files(out_dir, codes)
    if not files:
        return []
    query = f"""
        SELECT council_code, CAST(date_trunc('month', payment_date) AS DATE) AS month, date_precision,
               count(*) AS rows, sum(amount) AS total
        FROM {_SPEND_ROWS}
        WHERE dataset = '{DATASET}' AND payment_date IS NOT NULL
        GROUP BY ALL ORDER BY council_code, month, date_precision NULLS FIRST
    """
    with duckdb.connect() as con:
        result = con.execute(query, {"files": files}).fetchall()
    return [
        MonthTotal(council, month, precision, rows, Decimal(total)) for council, month, precision, rows, total in result
    ]


def _quarters(files: dict[str, list[SourceFile]], since: str | None, as_of: date) -> list[str]:
    last = periods.last_due_quarter(as_of)
    if since is not None:
        first = _since_quarter(since)
    else:
        starts = [f.start for council_files in files.values() for f in council_files]
        if not starts:
            return []
        first = periods.quarter_of(min(starts))
    return periods.quarters_between(first, last)


def _since_quarter(since: str) -> str:
    try:
        return periods.quarter_of(periods.quarter_start(since))
    except periods.BadQuarter:
        pass
    try:
        return periods.quarter_of(date.fromisoformat(since.strip()))
    except ValueError:
        raise ComplianceInputError(
            f"since must be a quarter such as 2024-Q1 or a date such as 2024-01-01, not {since!r}"
        ) from None


def _first_crawl_ends(manifest: list[dict], runs: list[dict]) -> dict[str, datetime]:
    """Per council, the instant our first crawl of it ended.

    That is the end of the crawl run during which its earliest link was seen, or
    :data:`FIRST_CRAWL_GRACE` after that link when no run record holds it (whichever is later).
    """
    earliest: dict[str, datetime] = {}
    for f in manifest:
        seen, code = f["first_seen_at"], f["council_code"]
        if seen is not None and (code not in earliest or seen < earliest[code]):
            earliest[code] = seen
    crawls = [r for r in runs if r["flow"] in CRAWL_FLOWS and r["finished_at"] is not None]
    ends = {}
    for code, seen in earliest.items():
        run_ends = [r["finished_at"] for r in crawls if r["started_at"] <= seen <= r["finished_at"]]
        ends[code] = max([seen + FIRST_CRAWL_GRACE, *run_ends])
    return ends


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP date header as an aware UTC datetime; None when absent or unreadable.

    >>> parse_http_date("Tue, 15 Apr 2025 10:00:00 GMT").isoformat()
    '2025-04-15T10:00:00+00:00'
    >>> parse_http_date("yesterday") is None
    True
    """
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def fields_missing(columns_mapped: Iterable[str], fields: dict[str, tuple[str, ...]] = REQUIRED_FIELDS) -> list[str]:
    """Transparency Code fields (sorted) that none of these canonical columns provides.

    >>> fields_missing({"payment_date", "supplier_name", "amount", "expense_type", "service_area"})
    ['irrecoverable_vat']
    """
    provided = set(columns_mapped)
    return sorted(name for name, columns in fields.items() if provided.isdisjoint(columns))


def _on_time(covering: list[SourceFile], quarter: str, first_crawl_end: datetime | None) -> bool | None:
    passed_at = periods.deadline_passed_at(quarter)
    seen = min((f.first_seen_at for f in covering if f.first_seen_at is not None), default=None)
    modified = min((f.last_modified for f in covering if f.last_modified is not None), default=None)
    if modified is not None and (seen is None or modified <= seen):
        return modified < passed_at
    if seen is None:
        return None
    if seen < passed_at:
        return True
    found_on_first_crawl = first_crawl_end is not None and seen <= first_crawl_end
    return None if found_on_first_crawl else False


def _assess(
    duty: Duty,
    code: str,
    quarter: str,
    covering: list[SourceFile],
    spend: SpendSummary,
    first_crawl_end: datetime | None,
    in_england: bool,
    unreachable: bool,
) -> dict:
    """One council's duty in one quarter, from the files that cover the quarter."""
    readable = [f for f in covering if f.machine_readable]
    published, machine_readable = bool(covering), bool(readable)
    months = spend.months.get(code, set()).intersection(periods.quarter_months(quarter))
    months_covered = len(months) if duty.counts_months else None
    missing = fields_missing(set().union(*(f.columns_mapped for f in readable)), duty.fields)
    on_time = _on_time(covering, quarter, first_crawl_end) if covering else None
    if not in_england:
        status = "not_applicable"
    elif not published and unreachable:
        status = "site_unreachable"
    elif not published:
        status = "missing"
    elif not machine_readable:
        status = "not_machine_readable"
    elif missing or (months_covered is not None and months_covered < 3):
        status = "incomplete"
    elif on_time is False:
        status = "late"
    elif on_time is None:
        status = "unknown"
    else:
        status = "compliant"
    counted = duty.counts_months
    return {
        "council_code": code,
        "period": quarter,
        "dataset": duty.dataset,
        "published": published,
        "first_seen_at": min((f.first_seen_at for f in covering if f.first_seen_at is not None), default=None),
        "deadline": periods.deadline(quarter),
        "on_time": on_time,
        "months_covered": months_covered,
        "machine_readable": machine_readable,
        "required_fields_missing": missing,
        "rows": spend.rows.get((code, quarter), 0) if counted else None,
        "total_amount": spend.totals.get((code, quarter), Decimal("0.00")) if counted else None,
        "status": status,
    }
