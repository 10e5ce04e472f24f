"""Compliance rules on small synthetic output folders (real Parquet written and read back by DuckDB).

``Outputs`` builds such a folder; the report and publish tests reuse it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from normalise.compliance.rules import (
    ComplianceInputError,
    MonthTotal,
    compute_compliance,
    fields_missing,
    monthly_spend,
)
from normalise.schema import arrow_schema
from normalise.store.parquet_io import write_table

ALL_COLUMNS = (
    "payment_date",
    "department",
    "supplier_name",
    "purpose",
    "amount",
    "irrecoverable_vat",
    "expense_type",
    "transaction_id",
)
AS_OF = date(2025, 12, 1)  # last quarter due: 2025-Q3 (deadline 2025-10-31)
FIRST_CRAWL = datetime(2025, 11, 20, 10, 0, tzinfo=UTC)


def http_date(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


class Outputs:
    """Builds ``files.parquet``, hive-partitioned ``spend`` and ``runs.parquet`` in an output folder."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self.files: list[dict] = []
        self.spend: list[dict] = []
        self.runs: list[dict] = []

    def file(
        self,
        council: str,
        name: str,
        period: tuple[date, date] | None = None,
        *,
        format: str = "csv",
        parse_status: str | None = "ok",
        columns: tuple[str, ...] = ALL_COLUMNS,
        first_seen: datetime = FIRST_CRAWL,
        last_modified: datetime | None = None,
        dataset: str = "spend_over_500",
        fetched: bool = True,
    ) -> str:
        url = f"https://{council.lower()}.example.gov.uk/spend/{name}"
        sha = hashlib.sha256(url.encode()).hexdigest()
        self.files.append(
            {
                "council_code": council,
                "url": url,
                "landing_url": f"https://{council.lower()}.example.gov.uk/spend",
                "link_text": f"Spending over £500 {name}",
                "first_seen_at": first_seen,
                "last_seen_at": first_seen,
                "fetched_at": first_seen if fetched else None,
                "http_status": 200 if fetched else 404,
                "last_modified": http_date(last_modified) if last_modified else None,
                "sha256": sha if fetched else None,
                "format": format if fetched else None,
                "period_start": period[0] if period else None,
                "period_end": period[1] if period else None,
                "dataset": dataset,
                "parse_status": parse_status if fetched else None,
                "columns_mapped": list(columns) if parse_status in ("ok", "partial") else None,
                "error": None if fetched else "HTTP 404",
            }
        )
        return sha

    def rows(
        self,
        council: str,
        sha: str,
        days: list[date],
        *,
        amount: str = "600.00",
        precision: str = "day",
        dataset: str = "spend_over_500",
    ) -> None:
        for n, day in enumerate(days):
            self.spend.append(
                {
                    "row_id": hashlib.sha256(f"{sha}{n}".encode()).hexdigest()[:32],
                    "council_code": council,
                    "dataset": dataset,
                    "payment_date": day,
                    "date_precision": precision,
                    "amount": Decimal(amount),
                    "supplier_name": f"Supplier {n % 3} Ltd",
                    "supplier_key": f"supplier {n % 3}",
                    "redacted": False,
                    "department": "Adults",
                    "source_sha256": sha,
                    "source_url": f"https://example/{sha[:6]}",
                    "source_row": n + 2,
                }
            )

    def month_file(self, council: str, month: date, *, n_rows: int = 2, **kwargs) -> str:
        """A file covering one month, with ``n_rows`` payments in it."""
        end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        sha = self.file(council, f"{month:%Y-%m}.csv", (month, end), **kwargs)
        if kwargs.get("format", "csv") != "pdf":
            self.rows(council, sha, [month + timedelta(days=k) for k in range(n_rows)])
        return sha

    def run(self, flow: str, started: datetime, finished: datetime) -> None:
        self.runs.append(
            {"run_id": f"{flow}-{started:%H%M}", "flow": flow, "started_at": started, "finished_at": finished}
        )

    def write(self) -> Path:
        write_table(pa.Table.from_pylist(self.files, schema=arrow_schema("files")), self.out / "files.parquet")
        if self.runs:
            write_table(pa.Table.from_pylist(self.runs, schema=arrow_schema("runs")), self.out / "runs.parquet")
        spend = pa.Table.from_pylist(self.spend, schema=arrow_schema("spend"))
        for council in sorted({r["council_code"] for r in self.spend}):
            for year in sorted({r["payment_date"].year for r in self.spend if r["council_code"] == council}):
                part = [r for r in self.spend if r["council_code"] == council and r["payment_date"].year == year]
                table = pa.Table.from_pylist(part, schema=spend.schema)
                write_table(table, self.out / "spend" / f"council={council}" / f"year={year}" / "part-0.parquet")
        return self.out


def months(year: int, first: int, count: int) -> list[date]:
    return [date(year, first + k, 1) for k in range(count)]


def scenario(out: Path) -> Outputs:
    """Every status in one folder: quarters 2025-Q1..Q3 due on 2025-12-01."""
    o = Outputs(out)
    on_time, after = datetime(2025, 7, 10, tzinfo=UTC), datetime(2025, 11, 5, tzinfo=UTC)
    # BIR: Q1 missing (a dead link and a not-spend file do not count), Q2 on time by Last-Modified, Q3 late.
    o.file("BIR", "q1-dead.csv", (date(2025, 1, 1), date(2025, 3, 31)), fetched=False)
    o.file("BIR", "q1-contracts.csv", (date(2025, 1, 1), date(2025, 3, 31)), parse_status="not_spend")
    for month in months(2025, 4, 3):
        o.month_file("BIR", month, last_modified=on_time)
    for month in months(2025, 7, 3):
        o.month_file("BIR", month, last_modified=after)
    # MAN: no Last-Modified; first crawled 2025-11-20 (a purchase-card link found first). Q1 first seen on
    # a later crawl -> late; Q2 seen in the first crawl run (2.5 h after its first link) -> unknown.
    o.run("crawl", FIRST_CRAWL, FIRST_CRAWL + timedelta(hours=3))
    o.run("crawl", datetime(2025, 11, 27, 9, tzinfo=UTC), datetime(2025, 11, 27, 10, tzinfo=UTC))
    o.file("MAN", "cards.csv", (date(2025, 7, 1), date(2025, 9, 30)), dataset="purchase_card")
    for month in months(2025, 1, 3):
        o.month_file("MAN", month, first_seen=datetime(2025, 11, 27, 9, 30, tzinfo=UTC))
    for month in months(2025, 4, 3):
        o.month_file("MAN", month, first_seen=FIRST_CRAWL + timedelta(hours=2, minutes=30))
    # KEN: first crawled before the Q3 deadline, no Last-Modified -> Q3 on time by first_seen_at.
    for month in months(2025, 7, 3):
        o.month_file("KEN", month, first_seen=datetime(2025, 10, 31, 23, 59, tzinfo=UTC))
    # LDS: Q2 PDF only; Q3 a CSV without department or service area.
    o.file(
        "LDS",
        "q2.pdf",
        (date(2025, 4, 1), date(2025, 6, 30)),
        format="pdf",
        parse_status="not_machine_readable",
        last_modified=on_time,
    )
    no_department = tuple(c for c in ALL_COLUMNS if c != "department")
    for month in months(2025, 7, 3):
        o.month_file("LDS", month, columns=no_department, last_modified=on_time)
    # SHF: Q2 two of three months; Q3 one quarter-precision file with no period (taken from its rows).
    for month in months(2025, 4, 2):
        o.month_file("SHF", month, last_modified=on_time)
    sha = o.file("SHF", "2025-q3.xlsx", format="xlsx", last_modified=datetime(2025, 10, 31, 23, 59, 59, tzinfo=UTC))
    o.rows("SHF", sha, [date(2025, 7, 1)] * 4, amount="1000.50", precision="quarter")
    # CRF (Wales): publishes nothing for Q1 and everything else, never in scope.
    for month in months(2025, 4, 6):
        o.month_file("CRF", month, last_modified=on_time)
    return o


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    out = scenario(tmp_path_factory.mktemp("out")).write()
    return compute_compliance(out, as_of=AS_OF)


def row(table: pa.Table, council: str, period: str, dataset: str = "spend_over_500") -> dict:
    [found] = [
        r
        for r in table.to_pylist()
        if r["council_code"] == council and r["period"] == period and r["dataset"] == dataset
    ]
    return found


def spend_rows(table: pa.Table) -> list[dict]:
    return [r for r in table.to_pylist() if r["dataset"] == "spend_over_500"]


def test_one_row_per_council_due_quarter_and_duty(table: pa.Table) -> None:
    assert table.schema == arrow_schema("compliance")
    keys = [(r["dataset"], r["council_code"], r["period"]) for r in table.to_pylist()]
    assert keys == [
        (d, c, q)
        for d in ("spend_over_500", "contracts")
        for c in ("BIR", "CRF", "KEN", "LDS", "MAN", "SHF")
        for q in ("2025-Q1", "2025-Q2", "2025-Q3")
    ]
    assert row(table, "BIR", "2025-Q3")["deadline"] == date(2025, 10, 31)


def test_missing_when_only_dead_links_or_other_tables(table: pa.Table) -> None:
    r = row(table, "BIR", "2025-Q1")
    assert (r["status"], r["published"], r["machine_readable"], r["on_time"], r["rows"]) == (
        "missing",
        False,
        False,
        None,
        0,
    )
    assert r["total_amount"] == Decimal("0.00")
    assert r["required_fields_missing"] == sorted(
        ["amount", "beneficiary", "date", "department", "irrecoverable_vat", "merchant_category", "purpose"]
    )


def test_on_time_by_last_modified_even_when_first_seen_late(table: pa.Table) -> None:
    r = row(table, "BIR", "2025-Q2")
    assert (r["status"], r["on_time"], r["months_covered"], r["required_fields_missing"]) == ("compliant", True, 3, [])
    assert r["first_seen_at"] == FIRST_CRAWL
    assert (r["rows"], r["total_amount"]) == (6, Decimal("3600.00"))


def test_late_by_last_modified(table: pa.Table) -> None:
    r = row(table, "BIR", "2025-Q3")
    assert (r["status"], r["on_time"], r["published"], r["machine_readable"]) == ("late", False, True, True)


def test_first_seen_on_a_later_crawl_is_late(table: pa.Table) -> None:
    r = row(table, "MAN", "2025-Q1")
    assert (r["status"], r["on_time"]) == ("late", False)


def test_first_seen_in_the_first_crawl_run_is_unknown(table: pa.Table) -> None:
    r = row(table, "MAN", "2025-Q2")
    assert (r["status"], r["on_time"], r["first_seen_at"]) == (
        "unknown",
        None,
        FIRST_CRAWL + timedelta(hours=2, minutes=30),
    )


def test_first_seen_before_the_deadline_is_on_time(table: pa.Table) -> None:
    r = row(table, "KEN", "2025-Q3")
    assert (r["status"], r["on_time"]) == ("compliant", True)
    assert row(table, "MAN", "2025-Q3")["status"] == "missing"  # its purchase-card file is another dataset


def test_pdf_only_is_not_machine_readable(table: pa.Table) -> None:
    r = row(table, "LDS", "2025-Q2")
    assert (r["status"], r["published"], r["machine_readable"], r["months_covered"], r["on_time"]) == (
        "not_machine_readable",
        True,
        False,
        0,
        True,
    )


def test_missing_department_is_incomplete(table: pa.Table) -> None:
    r = row(table, "LDS", "2025-Q3")
    assert (r["status"], r["required_fields_missing"], r["months_covered"], r["on_time"]) == (
        "incomplete",
        ["department"],
        3,
        True,
    )


def test_two_of_three_months_is_incomplete(table: pa.Table) -> None:
    r = row(table, "SHF", "2025-Q2")
    assert (r["status"], r["months_covered"], r["required_fields_missing"], r["rows"]) == ("incomplete", 2, [], 4)


def test_quarter_precision_rows_cover_three_months_and_give_the_period(table: pa.Table) -> None:
    r = row(table, "SHF", "2025-Q3")
    assert (r["status"], r["months_covered"], r["published"], r["on_time"]) == ("compliant", 3, True, True)
    assert (r["rows"], r["total_amount"]) == (4, Decimal("4002.00"))


def test_outside_england_is_not_applicable(table: pa.Table) -> None:
    statuses = {r["period"]: r["status"] for r in spend_rows(table) if r["council_code"] == "CRF"}
    assert statuses == {"2025-Q1": "not_applicable", "2025-Q2": "not_applicable", "2025-Q3": "not_applicable"}
    assert row(table, "CRF", "2025-Q2")["published"] is True


def test_deadline_is_the_end_of_the_day_utc(tmp_path: Path) -> None:
    o = Outputs(tmp_path)
    for council, moment in (
        ("BIR", datetime(2025, 10, 31, 23, 59, 59, tzinfo=UTC)),
        ("MAN", datetime(2025, 11, 1, 0, 0, 0, tzinfo=UTC)),
    ):
        for month in months(2025, 7, 3):
            o.month_file(council, month, last_modified=moment)
    table = compute_compliance(o.write(), as_of=date(2025, 11, 1))
    assert [(r["council_code"], r["period"], r["status"]) for r in spend_rows(table)] == [
        ("BIR", "2025-Q3", "compliant"),
        ("MAN", "2025-Q3", "late"),
    ]


def test_councils_and_since_choose_the_rows(tmp_path: Path) -> None:
    out = scenario(tmp_path).write()
    table = compute_compliance(out, as_of=date(2025, 10, 30), councils=["shf", "BST"], since="2025-05-17")
    assert [(r["council_code"], r["period"], r["status"]) for r in spend_rows(table)] == [
        ("BST", "2025-Q2", "missing"),
        ("SHF", "2025-Q2", "incomplete"),
    ]


def test_empty_or_absent_outputs_give_an_empty_table(tmp_path: Path) -> None:
    assert compute_compliance(tmp_path, as_of=AS_OF).num_rows == 0
    table = compute_compliance(tmp_path, as_of=AS_OF, councils=["BIR"], since="2025-Q3")
    assert [(r["dataset"], r["council_code"], r["status"], r["rows"]) for r in table.to_pylist()] == [
        ("spend_over_500", "BIR", "missing", 0),
        ("contracts", "BIR", "missing", None),
    ]


def test_bad_inputs_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ComplianceInputError, match="unknown council codes"):
        compute_compliance(tmp_path, as_of=AS_OF, councils=["XXX"])
    with pytest.raises(ComplianceInputError, match="quarter such as 2024-Q1"):
        compute_compliance(tmp_path, as_of=AS_OF, councils=["BIR"], since="last spring")


def test_without_a_run_record_the_first_crawl_lasts_an_hour(tmp_path: Path) -> None:
    o = scenario(tmp_path)
    o.runs.clear()
    o.month_file("BST", date(2025, 7, 1), first_seen=FIRST_CRAWL)
    for minutes, name in ((59, "a.csv"), (61, "b.csv")):
        o.file("BST", name, (date(2025, 4, 1), date(2025, 6, 30)), first_seen=FIRST_CRAWL + timedelta(minutes=minutes))
    table = compute_compliance(o.write(), as_of=AS_OF)
    assert row(table, "MAN", "2025-Q2")["on_time"] is False  # 2.5 h after the first link, no run to say otherwise
    assert row(table, "BST", "2025-Q2")["on_time"] is None  # earliest covering file: 59 min after the first link


def test_fields_missing_accepts_either_source_column() -> None:
    assert (
        fields_missing(
            {
                "payment_date",
                "service_area",
                "supplier_name",
                "purpose",
                "amount",
                "irrecoverable_vat",
                "merchant_category",
            }
        )
        == []
    )
    assert fields_missing({"department"}) == [
        "amount",
        "beneficiary",
        "date",
        "irrecoverable_vat",
        "merchant_category",
        "purpose",
    ]


def test_monthly_spend_is_per_council_month_and_precision(tmp_path: Path) -> None:
    out = scenario(tmp_path).write()
    assert monthly_spend(out, ["SHF", "BST"]) == [
        MonthTotal("SHF", date(2025, 4, 1), "day", 2, Decimal("1200.00")),
        MonthTotal("SHF", date(2025, 5, 1), "day", 2, Decimal("1200.00")),
        MonthTotal("SHF", date(2025, 7, 1), "quarter", 4, Decimal("4002.00")),
    ]
    assert monthly_spend(out, []) == []


def test_only_the_asked_councils_partitions_are_read(tmp_path: Path) -> None:
    out = scenario(tmp_path).write()
    expected = compute_compliance(out, as_of=AS_OF, councils=["SHF"])
    (out / "spend" / "council=MAN" / "year=2025" / "part-1.parquet").write_bytes(b"not parquet")
    staging = out / "spend" / ".council=SHF.new" / "year=2025"
    staging.mkdir(parents=True)
    (staging / "part-0.parquet").write_bytes(b"half written")
    assert compute_compliance(out, as_of=AS_OF, councils=["SHF"]).equals(expected)
    with pytest.raises(duckdb.Error, match="part-1.parquet"):
        compute_compliance(out, as_of=AS_OF, councils=["MAN"])


def test_a_given_monthly_spend_replaces_the_scan(tmp_path: Path) -> None:
    out = scenario(tmp_path).write()
    scanned = compute_compliance(out, as_of=AS_OF)
    codes = sorted(set(scanned.column("council_code").to_pylist()))
    assert compute_compliance(out, as_of=AS_OF, monthly=monthly_spend(out, codes)).equals(scanned)
    without = spend_rows(compute_compliance(out, as_of=AS_OF, monthly=[]))
    assert {r["rows"] for r in without} == {0} and {r["months_covered"] for r in without} == {0}


def test_period_of_a_file_whose_rows_were_all_kept_from_another(tmp_path: Path) -> None:
    o = Outputs(tmp_path)
    quarter = o.month_file("BST", date(2025, 7, 1), n_rows=0)
    year_sha = o.file("BST", "2025.csv", last_modified=datetime(2025, 10, 1, tzinfo=UTC))
    o.rows("BST", quarter, [date(2025, 7, 3), date(2025, 8, 20), date(2025, 9, 30)])
    for r in o.spend:
        r["also_published_in"] = [year_sha]
    o.month_file("BST", date(2025, 4, 1), n_rows=0)  # a file with its own period only
    table = compute_compliance(o.write(), as_of=AS_OF)
    q3 = row(table, "BST", "2025-Q3")
    assert q3["published"] is True and q3["on_time"] is True and q3["rows"] == 3  # covered by the year file
    assert [r["period"] for r in spend_rows(table)] == ["2025-Q2", "2025-Q3"]


def test_a_council_whose_pages_could_not_be_read_is_unreachable_not_missing(tmp_path: Path) -> None:
    o = scenario(tmp_path)
    out = o.write()

    def page(council: str, url: str, run: str, error: str | None, dataset: str | None = "spend_over_500") -> dict:
        when = datetime(2025, 11, 27 if run == "new" else 20, 9, tzinfo=UTC)
        return {
            "council_code": council,
            "url": f"https://{council.lower()}.example.gov.uk/{url}",
            "kind": "landing",
            "entry": True,
            "dataset": dataset,
            "checked_at": when,
            "error": error,
            "run_id": run,
        }

    pages = [
        page("NEW", "spend", "new", "connection failed: connection refused"),  # never reached: no files at all
        page("BIR", "spend", "new", "HTTP 503 after 2 retries"),  # down now; its earlier files still count
        page("MAN", "spend", "new", None),
        page("MAN", "cards", "new", "timed out", dataset="purchase_card"),  # another dataset's page
        page("KEN", "spend", "old", "timed out"),  # failed once, read on its last crawl
        page("KEN", "spend-2", "new", None),
    ]
    write_table(pa.Table.from_pylist(pages, schema=arrow_schema("pages")), out / "pages.parquet")
    table = compute_compliance(out, as_of=AS_OF)
    statuses = {(r["council_code"], r["period"]): r["status"] for r in spend_rows(table)}
    assert {statuses[("NEW", q)] for q in ("2025-Q1", "2025-Q2", "2025-Q3")} == {"site_unreachable"}
    assert statuses[("BIR", "2025-Q1")] == "site_unreachable"  # nothing covers it, and we could not look
    assert statuses[("BIR", "2025-Q2")] == "compliant" and statuses[("BIR", "2025-Q3")] == "late"
    assert statuses[("MAN", "2025-Q3")] == "missing"  # its spend page was read: nothing there
    assert "site_unreachable" not in {s for (c, _), s in statuses.items() if c == "KEN"}
