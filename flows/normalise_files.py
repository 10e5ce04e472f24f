"""Normalise flow: parse the fetched files that need it, rebuild the councils whose parses changed, commit.

Between runs the store's work area keeps each file's parse and what each council's published
partitions were built from (:mod:`normalise.store.work`). A run:

1. selects the files to parse: never parsed, parsed by an older parser (``PARSER_VERSION``), or
   chosen for a re-read (``councilspend normalise --reparse [--council CODES] [--status S]``);
2. parses them on a process pool, each parse committing its own summary. A failure of the machine
   (full disk, exhausted memory, a parser process killed) leaves the file to be parsed by the next
   run, never recorded as ``failed``; the stage commits the rest, then fails with
   :class:`ParsingIncomplete` so the run does not end as if all were well;
3. rebuilds every council whose parses differ from what it was last built from (compared by
   digest: a new parser version that changes nothing in a council rebuilds nothing there);
4. commits all of it in one step (:mod:`normalise.store.commit`): the council partitions
   ``spend/council=<C>/`` and ``contracts/council=<C>/``, each council's rejects and build record,
   ``rejects.parquet``, then what the rows say about each file in ``files.parquet`` (status, rows,
   parser version) and the run's row.

Killed anywhere, a run leaves the previous outputs, and the next run finds the same work (step 3
compares parses with build records, whatever was interrupted) and finishes it.
A council's partitions are rebuilt whole from its parses, so the overlap between a month file and
a later year file (or a contract listed in every quarter's register) is resolved over everything
the council published.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
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
from normalise.parsing.version import PARSER_VERSION
from normalise.schema import empty_table
from normalise.sources import CouncilSource, load_sources
from normalise.store.atomic import write_json
from normalise.store.commit import Transaction
from normalise.store.errors import is_transient
from normalise.store.folder import open_folder
from normalise.store.layout import PARTITIONED, Layout
from normalise.store.manifest import ParseRecord, with_parse_results
from normalise.store.parquet_io import read_table, write_table
from normalise.store.sync import local_original
from normalise.store.work import Build, Parse, discard_outputs, load_build, load_parse, new_outputs, save_parse

PARSED_OK = ("ok", "partial")


class ParsingIncomplete(RuntimeError):
    """Some files met a failure of the machine (full disk, memory); the rest of the stage is committed."""


_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Selection:
    """Which files to read again beyond those that need it, and in which councils to look.

    ``councils`` limits the run to those councils; ``reparse`` re-reads their files (only those
    whose last parse ended with one of ``statuses``, when given) even where the parser has not changed.
    """

    reparse: bool = False
    councils: frozenset[str] | None = None
    statuses: frozenset[str] | None = None

    def wants(self, council_code: str, parse: Parse | None) -> bool:
        """Whether to parse this council's file, given its last parse.

        >>> Selection().wants("BIR", None)
        True
        >>> Selection(councils=frozenset({"MAN"})).wants("BIR", None)
        False
        >>> Selection(reparse=True, statuses=frozenset({"failed"})).wants("BIR", None)
        True
        """
        if self.councils is not None and council_code not in self.councils:
            return False
        if parse is None or (parse.parser_version or 0) < PARSER_VERSION:
            return True
        return self.reparse and (self.statuses is None or parse.status in self.statuses)


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


Parses = dict[tuple[str, str], Parse | None]


def load_parses(layout: Layout, files: list[dict], keys: set[tuple[str, str]] | None = None) -> Parses:
    """The last complete parse of each (council, sha256) of ``files`` (of ``keys`` only, when given)."""
    wanted = {(f["council_code"], f["sha256"]) for f in files if f["sha256"]} if keys is None else keys
    return {key: load_parse(layout, *key) for key in wanted}


def pending_jobs(
    layout: Layout, files: list[dict], parses: Parses, sources: dict[str, CouncilSource], selection: Selection
) -> list[ParseJob]:
    """Stored files to parse now (one job per council and content)."""
    jobs: dict[tuple[str, str], ParseJob] = {}
    for f in files:
        key = (f["council_code"], f["sha256"])
        if not f["sha256"] or key in jobs:
            continue
        if not selection.wants(f["council_code"], parses.get(key)):
            continue
        path = local_original(layout, f["sha256"], f["format"] or "unknown")
        if path is None:
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


def parse_job(job: ParseJob, root: Path) -> dict:
    """Parse one file into the work area (run in a worker process).

    Returns its status, or ``retry`` with the reason when the machine (not the file) failed.
    """
    layout = Layout(root)
    token, spend = new_outputs(layout, job.council_code, job.sha256)
    outcome = {"council_code": job.council_code, "sha256": job.sha256}
    try:
        summary = parse_to_parquet(
            job.raw_path,
            spend,
            council_code=job.council_code,
            source_url=job.url,
            sha256=job.sha256,
            dataset=job.dataset,
            columns=job.columns or None,
            encoding=job.encoding,
        )
        parse = save_parse(layout, job.council_code, job.sha256, token, summary, PARSER_VERSION)
    except Exception as exc:
        discard_outputs(layout, job.council_code, job.sha256, token)
        if not is_transient(exc):
            raise
        reason = f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError) and exc.filename else repr(exc)
        return outcome | {"retry": reason}
    return outcome | {"status": parse.status}


@task
def parse_files(jobs: list[ParseJob], root: Path, workers: int) -> list[dict]:
    """Parse the selected files on a process pool (parsing is CPU-bound)."""
    if not jobs:
        return []
    with Progress(transient=True) as bar:
        if workers <= 1 or len(jobs) == 1:
            return [parse_job(job, root) for job in bar.track(jobs, description="parsing files")]
        outcomes = []
        # forkserver: never fork this process, whose threads (Prefect's) may hold locks
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("forkserver")) as pool:
            futures = {pool.submit(parse_job, job, root): job for job in jobs}
            for future in bar.track(as_completed(futures), total=len(jobs), description="parsing files"):
                job = futures[future]
                try:
                    outcomes.append(future.result())
                except BrokenProcessPool:
                    reason = "a parser process died (out of memory?)"
                    outcomes.append({"council_code": job.council_code, "sha256": job.sha256, "retry": reason})
    return outcomes


def _preference_key(f: dict, parse: Parse) -> tuple:
    """Which copy of a repeated transaction to keep: the narrowest period, then the earliest seen, then by URL."""
    start = f["period_start"] or _date(parse.summary.get("period_start"))
    end = f["period_end"] or _date(parse.summary.get("period_end"))
    span = (end - start).days if start and end else 10**6
    return (span, f["first_seen_at"] or _NEVER, f["url"])


def current_parses(files: list[dict], parses: Parses) -> dict[str, list[Parse]]:
    """Each council's parsed files, one per content, in preference order."""
    by_council: dict[str, list[tuple[tuple, Parse]]] = defaultdict(list)
    for f in files:
        parse = parses.get((f["council_code"], f["sha256"]))
        if parse is not None:
            by_council[f["council_code"]].append((_preference_key(f, parse), parse))
    ordered: dict[str, list[Parse]] = {}
    for council, keyed in by_council.items():
        seen: set[str] = set()
        ordered[council] = []
        for _, parse in sorted(keyed, key=lambda pair: pair[0]):
            if parse.sha256 not in seen:
                seen.add(parse.sha256)
                ordered[council].append(parse)
    return ordered


def build_inputs(parses: list[Parse]) -> list[list[str]]:
    return [[p.sha256, p.digest] for p in parses]


def needs_rebuild(layout: Layout, council_code: str, parses: list[Parse], build: Build | None) -> bool:
    """Whether the council's published partitions were built from anything but these parses (or have gone)."""
    if build is None or build.inputs != build_inputs(parses):
        return True
    has_rows = any(rows for rows, _ in build.counts.values())
    return has_rows and not any(layout.council_partition(t, council_code).is_dir() for t in PARTITIONED)


@task
def rebuild_council(
    layout: Layout, council_code: str, parses: list[Parse], partitions: dict[str, Path], rejects_path: Path
) -> dict[str, list[int]]:
    """Write one council's spend and contracts partitions (into ``partitions``, by table) and rejects from its parses.

    Returns rows kept (in spend or contracts) and rows in rejects per source sha256.
    """
    parts: dict[str, list[pa.Table]] = {"spend": [], "contracts": [], "rejects": []}
    for parse in parses:
        for table, path in parse.outputs(layout).items():
            parts[table].append(read_table(path, table))
    spend, duplicates = merge_overlapping(_concat(parts["spend"], "spend"))
    # the latest register first: a contract listed every quarter is kept as last published
    contracts, repeated = merge_overlapping(_concat(parts["contracts"][::-1], "contracts"), "contracts")
    rejects = pa.concat_tables([*parts["rejects"], duplicates, repeated])
    _write_partitions(partitions["spend"], spend, "payment_date")
    _write_partitions(partitions["contracts"], contracts, "start_date")
    write_table(rejects, rejects_path, schema_of="rejects")
    kept = pa.concat_tables([spend.select(["source_sha256"]), contracts.select(["source_sha256"])])
    return _counts_by_source(kept, rejects)


def _concat(tables: list[pa.Table], table: str) -> pa.Table:
    return pa.concat_tables(tables) if tables else empty_table(table)


def _write_partitions(partition: Path, rows: pa.Table, date_column: str) -> None:
    """One file per year of ``date_column`` in a council's (staged) partition folder; undated rows under year=unknown."""
    years = pc.year(rows.column(date_column)) if len(rows) else pa.array([], pa.int64())
    for year in pc.unique(years).to_pylist():
        mask = pc.is_null(years) if year is None else pc.equal(years, year)
        part = rows.filter(mask).sort_by([(date_column, "ascending"), ("row_id", "ascending")])
        write_table(part, Layout.partition_file(partition, year))


def _counts_by_source(kept: pa.Table, rejects: pa.Table) -> dict[str, list[int]]:
    counts: dict[str, list[int]] = {}
    for index, table in enumerate((kept, rejects)):
        if len(table) == 0:
            continue
        grouped = table.group_by("source_sha256").aggregate([("source_sha256", "count")])
        for sha, n in zip(grouped["source_sha256"].to_pylist(), grouped["source_sha256_count"].to_pylist()):
            counts.setdefault(sha, [0, 0])[index] = n
    return counts


def parse_results(by_council: dict[str, list[Parse]], builds: dict[str, Build]) -> dict[tuple[str, str], ParseRecord]:
    """What each parsed file's parse and its council's build say, as ``files.parquet`` columns."""
    results = {}
    for council, parses in by_council.items():
        counts = builds[council].counts if council in builds else {}
        for parse in parses:
            summary = parse.summary
            rows, rejected = counts.get(parse.sha256, [0, 0])
            columns = {
                "parse_status": summary.get("status"),
                "error": summary.get("error"),
                "columns_mapped": summary.get("columns_mapped") or [],
                "rows": rows,
                "rows_rejected": rejected,
                "parser_version": parse.parser_version,
            }
            fills = {"period_start": _date(summary.get("period_start")), "period_end": _date(summary.get("period_end"))}
            # a contracts register is one by its content, whatever its link said
            (columns if summary.get("table") == "contracts" else fills)["dataset"] = summary.get("dataset")
            results[(council, parse.sha256)] = ParseRecord(columns, fills)
    return results


def _date(value: object) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def gather_rejects(layout: Layout, tx: Transaction, councils: list[str]) -> int:
    """Stage ``rejects.parquet``: every council's rejects (as this commit leaves them), streamed council by council."""
    total = 0
    with pq.ParquetWriter(tx.file(layout.table("rejects")), empty_table("rejects").schema, compression="zstd") as out:
        for council in councils:
            part = tx.current(layout.council_rejects(council))
            if part.exists():
                table = read_table(part, "rejects")
                total += len(table)
                out.write_table(table)
    return total


# Rebuilding a council holds its rows in memory: rebuild two at a time, not ~400 at once
# (Prefect's default thread pool has no bound).
@flow(name="normalise", task_runner=ThreadPoolTaskRunner(max_workers=2))  # type: ignore[arg-type]
def normalise_flow(
    out: Path,
    sources: Path | None = None,
    workers: int = 2,
    reparse: bool = False,
    councils: list[str] | None = None,
    statuses: list[str] | None = None,
) -> RunRecord:
    """Parse the files that need it and rebuild the councils whose parses changed.

    ``councils`` limits the run to those councils; ``reparse`` reads their files again (those whose
    last parse ended with one of ``statuses``, when given) even where the parser has not changed.
    """
    logger = get_run_logger()
    out = Path(out)  # also keeps Path in the globals of a flow pickled by value (a served deployment)
    selection = Selection(reparse, frozenset(councils) if councils else None, frozenset(statuses) if statuses else None)
    record = RunRecord(flow="normalise")
    with open_folder(out, "normalise") as layout:
        files = read_table(layout.manifest, "files")
        rows = files.to_pylist()
        parses = load_parses(layout, rows)
        jobs = pending_jobs(layout, rows, parses, load_sources(sources) if sources else {}, selection)
        outcomes = parse_files(jobs, layout.root, workers)
        retry = [o for o in outcomes if "retry" in o]
        parses |= load_parses(layout, rows, {(job.council_code, job.sha256) for job in jobs})
        by_council = current_parses(rows, parses)
        builds = {c: b for c in by_council if (b := load_build(layout, c)) is not None}
        stale = [c for c in sorted(by_council) if needs_rebuild(layout, c, by_council[c], builds.get(c))]
        with Transaction(layout, "normalise") as tx:
            partitions = [{t: tx.directory(layout.council_partition(t, c)) for t in PARTITIONED} for c in stale]
            rejects = [tx.file(layout.council_rejects(c)) for c in stale]
            counts = rebuild_council.map(unmapped(layout), stale, [by_council[c] for c in stale], partitions, rejects)
            for council, result in zip(stale, counts.result()):
                builds[council] = Build(build_inputs(by_council[council]), result)
                write_json(tx.file(layout.build_record(council)), builds[council].to_json())
            if stale or not layout.table("rejects").exists():
                gather_rejects(layout, tx, sorted(by_council))
            recorded = with_parse_results(files, parse_results(by_council, builds))
            if not recorded.equals(files):
                write_table(recorded, tx.file(layout.manifest))
            record.files_new = len(jobs) - len(retry)
            record.files_failed = sum(1 for o in outcomes if "status" in o and o["status"] not in PARSED_OK)
            append_run(layout.root, record, tx)
    logger.info("normalised %d files, rebuilt %d councils", record.files_new, len(stale))
    if retry:  # what was parsed is committed; the run still fails, so an operator sees why
        raise ParsingIncomplete(
            f"{len(retry)} files could not be parsed now ({retry[0]['retry']}); the next run parses them"
        )
    return record
