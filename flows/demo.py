"""``councilspend demo``: the whole national flow, offline, against the bundled mock council web."""

from __future__ import annotations

import os
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from flows.national import NationalRun, RegisterSources, national_flow
from flows.summary import council_lines, summary_table
from normalise.publish.package import connect
from normalise.store.layout import Layout

#: The mock web's fixed seed: the same URLs and files on every run, so a second run is incremental.
DEMO_SEED = 2026

#: The crawler's polite delays suit real councils, not a web on this machine. Each mock council
#: has its own loopback address, so the limit of two requests at once per host still holds.
LOOPBACK_CRAWL_SETTINGS = {
    "COUNCILSPEND_DOWNLOAD_DELAY": "0",
    "COUNCILSPEND_AUTOTHROTTLE": "0",
}

_REGISTER_FILES = {
    "companies": ("BasicCompanyData*",),
    "charities": ("publicextract.*",),
    "oscr": ("CharityExport*",),
    "ccni": ("*ccni*", "*roc*"),
    "mutuals": ("*mutual*",),
    "links": ("*links*",),
}


def register_urls(registers_dir: Path, base_url: str) -> RegisterSources:
    """The mock web's register downloads as URLs, by register."""
    found = {}
    for register, patterns in _REGISTER_FILES.items():
        names = sorted({p.name for pattern in patterns for p in registers_dir.glob(pattern)})
        found[register] = tuple(f"{base_url}/registers/{name}" for name in names)
    return RegisterSources(**found)


def run_demo(out: Path, *, councils: int, port: int, workers: int, console: Console) -> None:
    """Generate and serve the mock web, run the national flow against it, print a summary."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from mockweb.generate import generate
    from mockweb.server import MockWeb

    out = Path(out)
    started = time.monotonic()
    site = generate(Layout(out).demo_web, councils=councils, seed=DEMO_SEED)
    for name, value in LOOPBACK_CRAWL_SETTINGS.items():
        os.environ.setdefault(name, value)
    os.environ.pop("COUNCILSPEND_REDIS_URL", None)  # the demo's crawl is its own, never a shared national one
    with MockWeb(site.root, port=port, council_hosts=True) as web:
        sources = Layout(out).demo_sources
        sources.write_text(site.sources_yaml(web.base_url, web.council_base_urls()), encoding="utf-8")
        console.print(f"mock council web: {len(site.council_codes)} councils at {web.base_url}")
        job = NationalRun(
            out=out,
            sources=sources,
            councils=list(site.council_codes),
            registers=register_urls(site.registers_dir, web.base_url),
            as_of=site.as_of,
            workers=workers,
        )
        with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            result = national_flow(job)
    console.print(summary_table(council_lines(out, result.crawl.run_ids)))
    print_summary(out, result.report, time.monotonic() - started, console)


def print_summary(out: Path, report: Path, seconds: float, console: Console) -> None:
    """What the run produced, read back through the DuckDB views a researcher would use."""
    with connect(out) as con:
        spend_rows, spend_total = con.execute("SELECT count(*), coalesce(sum(amount), 0) FROM spend").fetchall()[0]
        files, failed = con.execute(
            "SELECT count(*), count(*) FILTER (parse_status NOT IN ('ok', 'partial')) FROM files"
        ).fetchall()[0]
        rejects = con.execute("SELECT count(*) FROM rejects").fetchall()[0][0]
        matched, suppliers = con.execute(
            "SELECT count(*) FILTER (org_id IS NOT NULL), count(*) FROM suppliers"
        ).fetchall()[0]
        statuses = con.execute(
            "SELECT status, count(*) FROM compliance GROUP BY status ORDER BY count(*) DESC"
        ).fetchall()
        last_crawl = con.execute(
            "SELECT files_new, files_changed, files_unchanged FROM runs WHERE flow = 'crawl' "
            "ORDER BY started_at DESC LIMIT 1"
        ).fetchall()
    table = Table(title=f"councilspend demo ({seconds:.0f} s)", show_header=False)
    table.add_row("files", f"{files:,} ({failed:,} not machine-readable or failed)")
    for new, changed, unchanged in last_crawl:
        table.add_row("this crawl", f"{new:,} new, {changed:,} changed, {unchanged:,} unchanged")
    table.add_row("spend rows", f"{spend_rows:,} totalling £{spend_total:,.2f}")
    table.add_row("rejected rows", f"{rejects:,}")
    table.add_row("suppliers matched", f"{matched:,} of {suppliers:,}")
    table.add_row("compliance", ", ".join(f"{status} {n}" for status, n in statuses))
    console.print(table)
    console.print(f"outputs in {out.resolve()}")
    console.print(f"  report:   {report.resolve()}")
    console.print(f"  DuckDB:   normalise.publish.connect({str(out.resolve())!r}) in Python")
    console.print(f"  Parquet:  {Layout(out).spend.resolve()} (hive partitions council=/year=)")
