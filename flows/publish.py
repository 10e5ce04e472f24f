"""Compliance and publish flows: the compliance table and report, then the descriptors researchers use."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger

from flows.runs import RunRecord, append_run
from normalise.compliance.report import write_report
from normalise.compliance.rules import compute_compliance, monthly_spend
from normalise.coverage import crawled_councils
from normalise.publish.package import write_data_dictionary, write_datapackage, write_duckdb
from normalise.publish.release import write_release
from normalise.store.commit import Transaction
from normalise.store.folder import open_folder
from normalise.store.parquet_io import read_table, write_table


@flow(name="compliance")
def compliance_flow(out: Path, as_of: date | None = None, councils: list[str] | None = None) -> Path:
    """Write ``compliance.parquet`` and the HTML report, committed together; returns the report's index page."""
    out, as_of = Path(out), as_of or date.today()
    record = RunRecord(flow="compliance")
    with open_folder(out, "compliance") as layout, Transaction(layout, "compliance") as tx:
        found = set(read_table(layout.manifest, "files").column("council_code").to_pylist())
        codes = councils or sorted(found | crawled_councils(out))
        monthly = monthly_spend(out, codes)  # one scan of spend serves the table and the report
        table = compute_compliance(out, as_of=as_of, councils=codes, monthly=monthly)
        write_table(table, tx.file(layout.table("compliance")), schema_of="compliance")
        write_report(out, table, as_of=as_of, monthly=monthly, report_dir=tx.directory(layout.report))
        append_run(out, record, tx)
    get_run_logger().info("compliance: %d council-quarters, report at %s", len(table), layout.report_index)
    return layout.report_index


@flow(name="publish")
def publish_flow(out: Path, release: str | None = None) -> dict[str, Path]:
    """Write ``datapackage.json``, the data dictionary and ``councilspend.duckdb``, committed together;
    with ``release``, then the immutable release of that name (``releases/<release>/``)."""
    out = Path(out)
    record = RunRecord(flow="publish")
    with open_folder(out, "publish") as layout:
        with Transaction(layout, "publish") as tx:
            write_datapackage(out, stage=tx.file)
            write_data_dictionary(out, stage=tx.file)
            write_duckdb(out, stage=tx.file)
        paths = {"datapackage": layout.datapackage, "dictionary": layout.dictionary, "duckdb": layout.duckdb}
        if release:
            paths["release"] = write_release(out, release)
        append_run(out, record)
    return paths
