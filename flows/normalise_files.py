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

import contextlib
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
from prefect import flow, get_run_logger

from flows.cluster import Workers, stage_workers
from flows.runs import RunRecord, append_run
from normalise.parsing.batch import ParseJob, batches, lost_batch, parse_batch
from normalise.parsing.cycles import rare_collections
from normalise.parsing.rebuild import CouncilBuild, rebuild_councils, write_staged
from normalise.parsing.version import PARSER_VERSION
from normalise.schema import empty_table
from normalise.sources import CouncilSource, load_sources
from normalise.store.atomic import write_json
from normalise.store.commit import Transaction
from normalise.store.folder import open_folder
from normalise.store.layout import PARTITIONED, Layout
from normalise.store.manifest import ParseRecord, with_parse_results
from normalise.store.parquet_io import read_table
from normalise.store.sync import local_original
from normalise.store.work import (
    Build,
    Parse,
    load_build,
    load_parse,
    summary_names,
)

PARSED_OK = ("ok", "partial")
#: What the stage's worker processes run (neither imports Prefect): loaded once by their fork server
WORKER_CODE = (parse_batch.__module__, rebuild_councils.__module__)


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


Parses = dict[tuple[str, str], Parse | None]


def load_parses(layout: Layout, files: list[dict], keys: set[tuple[str, str]] | None = None) -> Parses:
    """The last complete parse of each (council, sha256) of ``files`` (of ``keys`` only, when given).

    Each council's folder of parses is listed once, and only the summaries it holds are read: a file
    never parsed (every file of a first run) costs no failed open.
    """
    wanted = {(f["council_code"], f["sha256"]) for f in files if f["sha256"]} if keys is None else keys
    summaries: dict[str, set[str]] = {}
    parses: Parses = {}
    for council, sha256 in wanted:
        if council not in summaries:
            summaries[council] = summary_names(layout, council)
        held = f"{sha256}.json" in summaries[council]
        parses[(council, sha256)] = load_parse(layout, council, sha256) if held else None
    return parses


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


def parse_files(workers: Workers, jobs: list[ParseJob], root: Path, processes: int) -> list[dict]:
    """Parse the selected files in batches on the stage's workers (parsing is CPU-bound)."""
    outcomes = workers.run(parse_batch, batches(jobs, processes), "parsing files", lost_batch, root=root)
    return [outcome for batch in outcomes for outcome in batch]


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


def in_groups(items: list, workers: int, per_worker: int = 8) -> list[list]:
    """``items`` in about ``per_worker`` groups per worker, in order (fewer hand-offs, still balanced).

    >>> in_groups(list(range(5)), 1, per_worker=2)
    [[0, 1, 2], [3, 4]]
    >>> in_groups([], 2)
    []
    """
    size = max(1, -(-len(items) // (per_worker * max(1, workers))))
    return [items[i : i + size] for i in range(0, len(items), size)]


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


@dataclass
class StageResult:
    """What one normalise run did, and how long each phase took."""

    record: RunRecord
    retry: list[dict]  # files the machine failed to parse (the next run parses them)
    rebuilt: int  # councils rebuilt
    seconds: dict[str, float] = field(default_factory=dict)  # phase -> seconds


class Stopwatch:
    """Seconds per named phase: ``with watch("parse"): ...`` (a phase timed twice adds up)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] = round(self.seconds.get(phase, 0.0) + time.perf_counter() - start, 2)


def normalise_folder(
    layout: Layout, pool: Workers, processes: int, sources: dict[str, CouncilSource], selection: Selection
) -> StageResult:
    """The stage on a folder whose lock is held: select, parse on ``pool``, rebuild the stale councils on ``pool``, commit."""
    with rare_collections():  # this process holds Prefect's heap: a full collection would walk all of it
        return _normalise_folder(layout, pool, processes, sources, selection)


def _normalise_folder(
    layout: Layout, pool: Workers, processes: int, sources: dict[str, CouncilSource], selection: Selection
) -> StageResult:
    watch, record = Stopwatch(), RunRecord(flow="normalise")
    with watch("select"):
        files = read_table(layout.manifest, "files")
        rows = files.to_pylist()
        parses = load_parses(layout, rows)
        jobs = pending_jobs(layout, rows, parses, sources, selection)
    with watch("parse"):
        outcomes = parse_files(pool, jobs, layout.root, processes)
    retry = [o for o in outcomes if "retry" in o]
    parses |= {
        (o["council_code"], o["sha256"]): Parse(o["council_code"], o["sha256"], o["summary"])
        for o in outcomes
        if "summary" in o
    }
    with watch("select"):
        by_council = current_parses(rows, parses)
        builds = {c: b for c in by_council if (b := load_build(layout, c)) is not None}
        stale = [c for c in sorted(by_council) if needs_rebuild(layout, c, by_council[c], builds.get(c))]
    started = time.perf_counter()
    with Transaction(layout, "normalise") as tx:
        with watch("rebuild"):
            work = [
                CouncilBuild(
                    c,
                    by_council[c],
                    {t: tx.directory(layout.council_partition(t, c)) for t in PARTITIONED},
                    tx.file(layout.council_rejects(c)),
                )
                for c in stale
            ]
            done = pool.run(rebuild_councils, in_groups(work, processes), "rebuilding councils", root=layout.root)
            counts = [result for group in done for result in group]
        for council, result in zip(stale, counts):
            builds[council] = Build(build_inputs(by_council[council]), result)
            write_json(tx.file(layout.build_record(council)), builds[council].to_json(), durable=False, readable=False)
        if stale or not layout.table("rejects").exists():
            gather_rejects(layout, tx, sorted(by_council))
        recorded = with_parse_results(files, parse_results(by_council, builds))
        if not recorded.equals(files):
            write_staged(recorded, tx.file(layout.manifest), "files")
        record.files_new = len(jobs) - len(retry)
        record.files_failed = sum(1 for o in outcomes if "status" in o and o["status"] not in PARSED_OK)
        append_run(layout.root, record, tx)
    watch.seconds["record and commit"] = round(time.perf_counter() - started - watch.seconds["rebuild"], 2)
    return StageResult(record, retry, len(stale), watch.seconds)


@flow(name="normalise")
def normalise_flow(
    out: Path,
    sources: Path | None = None,
    workers: int = 2,
    reparse: bool = False,
    councils: list[str] | None = None,
    statuses: list[str] | None = None,
    dask: str | None = None,
) -> RunRecord:
    """Parse the files that need it and rebuild the councils whose parses changed.

    ``councils`` limits the run to those councils; ``reparse`` reads their files again (those whose
    last parse ended with one of ``statuses``, when given) even where the parser has not changed.
    ``workers`` processes parse and rebuild; with ``dask`` (a scheduler's address, or ``local`` for
    a LocalCluster of ``workers`` processes) the batches and rebuilds run on Dask instead (see
    :mod:`flows.cluster`).
    """
    logger = get_run_logger()
    out = Path(out)  # also keeps Path in the globals of a flow pickled by value (a served deployment)
    selection = Selection(reparse, frozenset(councils) if councils else None, frozenset(statuses) if statuses else None)
    with open_folder(out, "normalise") as layout, stage_workers(workers, dask, WORKER_CODE) as pool:
        result = normalise_folder(layout, pool, workers, load_sources(sources) if sources else {}, selection)
    record, retry = result.record, result.retry
    took = ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in result.seconds.items())
    logger.info("normalised %d files, rebuilt %d councils (%s)", record.files_new, result.rebuilt, took)
    if retry:  # what was parsed is committed; the run still fails, so an operator sees why
        raise ParsingIncomplete(
            f"{len(retry)} files could not be parsed now ({retry[0]['retry']}); the next run parses them"
        )
    return record
