"""Normalise flow: parse every fetched file not yet parsed, then rebuild the touched councils.

Layout of the work it keeps between runs (so a re-run parses only new or changed files)::

    _work/parsed/<COUNCIL>/<sha256>.parquet           spend rows of one file, as parsed
    _work/parsed/<COUNCIL>/<sha256>.contracts.parquet the rows of a contracts register, as parsed
    _work/parsed/<COUNCIL>/<sha256>.rejects.parquet   its rejected rows
    _work/parsed/<COUNCIL>/<sha256>.json              the parse summary
    _work/rejects/<COUNCIL>.parquet                   every reject of the council, duplicates included

and the published outputs ``spend/council=<C>/year=<Y>/part-0.parquet``,
``contracts/council=<C>/year=<Y>/part-0.parquet`` and ``files.parquet``. A council's partitions are
rewritten whole from its parsed files, so the overlap between a month file and a later year file
(or a contract listed in every quarter's register) is resolved over everything the council published.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from multiprocessing import get_context
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from prefect import flow, get_run_logger, task, unmapped
from prefect.task_runners import ThreadPoolTaskRunner
from rich.progress import Progress

from flows.runs import RunRecord, append_run
from normalise.parsing.overlap import merge_overlapping
from normalise.parsing.parse import parse_to_parquet
from normalise.schema import empty_table
from normalise.sources import CouncilSource, load_sources
from normalise.store.atomic import replacing, write_json
from normalise.store.layout import Layout
from normalise.store.parquet_io import read_table, write_table

PARSED_OK = ("ok", "partial")
_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ParseJob:
    """One stored original to parse for one council."""

    council_code: str
    sha256: str
    raw_path: Path
    url: str | None
    dataset: str | None
    columns: dict
    encoding: str | None

    def staged(self, out: Path, suffix: str) -> Path:
        return Layout(out).parsed(self.council_code, self.sha256, suffix)


def pending_jobs(out: Path, sources: dict[str, CouncilSource]) -> list[ParseJob]:
    """Stored files whose content has not been parsed yet (one job per council and hash)."""
    layout = Layout(out)
    files = read_table(layout.manifest, "files").to_pylist()
    jobs: dict[tuple[str, str], ParseJob] = {}
    for f in files:
        if not f["sha256"] or f["parse_status"] is not None:
            continue
        key = (f["council_code"], f["sha256"])
        path = layout.raw_file(f["sha256"], f["format"] or "unknown")
        if key in jobs or not path.exists():
            continue
        source = sources.get(f["council_code"])
        jobs[key] = ParseJob(
            council_code=f["council_code"],
            sha256=f["sha256"],
            raw_path=path,
            url=f["url"],
            dataset=f["dataset"],
            columns=dict(source.columns) if source else {},
            encoding=source.encoding if source else None,
        )
    return list(jobs.values())


def parse_job(job: ParseJob, out: Path) -> dict:
    """Parse one file into the work area (run in a worker process); returns its summary."""
    target = job.staged(out, ".parquet")
    summary_path = job.staged(out, ".json")
    if summary_path.exists():  # parsed by an earlier run that stopped before recording it
        return json.loads(summary_path.read_text())
    target.parent.mkdir(parents=True, exist_ok=True)
    summary = parse_to_parquet(
        job.raw_path,
        target,
        council_code=job.council_code,
        source_url=job.url,
        sha256=job.sha256,
        dataset=job.dataset,
        columns=job.columns or None,
        encoding=job.encoding,
    )
    write_json(summary_path, summary)
    return summary


@task
def parse_files(jobs: list[ParseJob], out: Path, workers: int) -> list[dict]:
    """Parse the pending files on a process pool (parsing is CPU-bound)."""
    logger = get_run_logger()
    if not jobs:
        return []
    with Progress(transient=True) as bar:
        if workers <= 1 or len(jobs) == 1:
            summaries = [parse_job(job, out) for job in bar.track(jobs, description="parsing files")]
        else:
            # forkserver: never fork this process, whose threads (Prefect's) may hold locks
            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("forkserver")) as pool:
                done = pool.map(parse_job, jobs, [out] * len(jobs), chunksize=4)
                summaries = list(bar.track(done, total=len(jobs), description="parsing files"))
    failed = sum(1 for s in summaries if s.get("status") not in PARSED_OK)
    logger.info("parsed %d files (%d not usable as transactions)", len(summaries), failed)
    return summaries


def _preference_order(files: list[dict]) -> list[dict]:
    """Which copy of a repeated transaction to keep: the narrowest period, then the earliest seen, then by URL."""

    def key(f: dict) -> tuple:
        if f["period_start"] and f["period_end"]:
            span = (f["period_end"] - f["period_start"]).days
        else:
            span = 10**6
        return (span, f["first_seen_at"] or _NEVER, f["url"])

    return sorted(files, key=key)


@task
def rebuild_council(out: Path, council_code: str) -> dict[tuple[str, str], tuple[int, int]]:
    """Rewrite one council's spend and contracts partitions and rejects from its parsed files.

    Returns rows kept (in spend or contracts) and rows in rejects per (council, source sha256).
    """
    layout = Layout(out)
    files = read_table(layout.manifest, "files").filter(pc.equal(pc.field("council_code"), council_code)).to_pylist()
    seen: set[str] = set()
    parts: dict[str, list[pa.Table]] = {"spend": [], "contracts": [], "rejects": []}
    for f in _preference_order(files):
        sha = f["sha256"]
        if not sha or sha in seen or not layout.parsed(council_code, sha, ".json").exists():
            continue
        seen.add(sha)
        for table, suffix in (
            ("spend", ".parquet"),
            ("contracts", ".contracts.parquet"),
            ("rejects", ".rejects.parquet"),
        ):
            if (staged := layout.parsed(council_code, sha, suffix)).exists():
                parts[table].append(read_table(staged, table))
    spend, duplicates = merge_overlapping(_concat(parts["spend"], "spend"))
    # the latest register first: a contract listed every quarter is kept as last published
    contracts, repeated = merge_overlapping(_concat(parts["contracts"][::-1], "contracts"), "contracts")
    rejects = pa.concat_tables([*parts["rejects"], duplicates, repeated])
    _write_partitions(layout, "spend", council_code, spend, "payment_date")
    _write_partitions(layout, "contracts", council_code, contracts, "start_date")
    write_table(rejects, layout.council_rejects(council_code), schema_of="rejects")
    kept = pa.concat_tables([spend.select(["source_sha256"]), contracts.select(["source_sha256"])])
    return {(council_code, sha): counts for sha, counts in _counts_by_source(kept, rejects).items()}


def _concat(tables: list[pa.Table], table: str) -> pa.Table:
    return pa.concat_tables(tables) if tables else empty_table(table)


def _write_partitions(layout: Layout, table: str, council_code: str, rows: pa.Table, date_column: str) -> None:
    """Replace ``<table>/council=<C>/`` with one file per year of ``date_column`` (undated rows under year=unknown)."""
    council_dir = layout.council_partition(table, council_code)
    staging = council_dir.with_name(f".{council_dir.name}.new")
    shutil.rmtree(staging, ignore_errors=True)
    years = pc.year(rows.column(date_column)) if len(rows) else pa.array([], pa.int64())
    for year in pc.unique(years).to_pylist():
        mask = pc.is_null(years) if year is None else pc.equal(years, year)
        part = rows.filter(mask).sort_by([(date_column, "ascending"), ("row_id", "ascending")])
        label = "unknown" if year is None else str(year)
        write_table(part, staging / f"year={label}" / "part-0.parquet")
    shutil.rmtree(council_dir, ignore_errors=True)
    if staging.exists():
        staging.rename(council_dir)


def _counts_by_source(spend: pa.Table, rejects: pa.Table) -> dict[str, tuple[int, int]]:
    counts: dict[str, list[int]] = {}
    for index, table in enumerate((spend, rejects)):
        if len(table) == 0:
            continue
        grouped = table.group_by("source_sha256").aggregate([("source_sha256", "count")])
        for sha, n in zip(grouped["source_sha256"].to_pylist(), grouped["source_sha256_count"].to_pylist()):
            counts.setdefault(sha, [0, 0])[index] = n
    return {sha: (a, b) for sha, (a, b) in counts.items()}


@task
def record_parse_results(out: Path, summaries: list[dict], counts: dict[tuple[str, str], tuple[int, int]]) -> None:
    """Write parse status, row counts and what the rows say about each file into ``files.parquet``."""
    path = Layout(out).manifest
    manifest = read_table(path, "files")
    files = manifest.to_pylist()
    by_key = {(s.get("council_code"), s.get("sha256")): s for s in summaries}
    for f in files:
        if not f["sha256"]:
            continue
        summary = by_key.get((f["council_code"], f["sha256"]))
        if summary is not None:
            f["parse_status"] = summary.get("status")
            f["error"] = summary.get("error")
            f["columns_mapped"] = summary.get("columns_mapped") or []
            # a contracts register is one by its content, whatever its link said
            is_register = summary.get("table") == "contracts"
            f["dataset"] = summary.get("dataset") if is_register else f["dataset"] or summary.get("dataset")
            f["period_start"] = f["period_start"] or _date(summary.get("period_start"))
            f["period_end"] = f["period_end"] or _date(summary.get("period_end"))
        key = (f["council_code"], f["sha256"])
        if key in counts and f["parse_status"] is not None:
            f["rows"], f["rows_rejected"] = counts[key]
        elif f["parse_status"] is not None and f["rows"] is None:
            f["rows"], f["rows_rejected"] = 0, 0
    write_table(pa.Table.from_pylist(files, schema=manifest.schema), path)


def _date(value: object) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


@task
def publish_rejects(out: Path) -> int:
    """Gather every council's rejects into ``rejects.parquet``, streaming council by council."""
    layout = Layout(out)
    parts = sorted(layout.council_rejects_dir.glob("*.parquet"))
    schema = empty_table("rejects").schema
    total = 0
    with replacing(layout.table("rejects")) as tmp, pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for part in parts:
            table = read_table(part, "rejects")
            total += len(table)
            writer.write_table(table)
    return total


# Rebuilding a council holds its rows in memory: rebuild two at a time, not ~400 at once
# (Prefect's default thread pool has no bound).
@flow(name="normalise", task_runner=ThreadPoolTaskRunner(max_workers=2))  # type: ignore[arg-type]
def normalise_flow(out: Path, sources: Path | None = None, workers: int = 2) -> RunRecord:
    """Parse new files and rebuild the councils they belong to."""
    logger = get_run_logger()
    out = Path(out)
    record = RunRecord(flow="normalise")
    jobs = pending_jobs(out, load_sources(sources) if sources else {})
    summaries = parse_files(jobs, out, workers)
    for job, summary in zip(jobs, summaries):
        summary.setdefault("council_code", job.council_code)
        summary["sha256"] = job.sha256
    touched = sorted({job.council_code for job in jobs})
    record_parse_results(out, summaries, {})  # periods first: rebuild orders a council's files by them
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    for result in rebuild_council.map(unmapped(out), touched).result():
        counts.update(result)
    record_parse_results(out, [], counts)
    publish_rejects(out)
    record.files_new = len(jobs)
    record.files_failed = sum(1 for s in summaries if s.get("status") not in PARSED_OK)
    append_run(out, record)
    logger.info("normalised %d files for %d councils", len(jobs), len(touched))
    return record
