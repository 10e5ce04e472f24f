"""A council's published partitions rebuilt from its parses: the normalise stage's unit of assembly.

A rebuild runs in a worker process (or on a Dask worker) and writes straight into the open
commit's staging folder, which the commit flushes as a whole; like :mod:`normalise.parsing.batch`
it imports nothing of Prefect or the flows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from normalise.parsing.cycles import rare_collections
from normalise.parsing.overlap import merge_overlapping
from normalise.parsing.parse import read_output
from normalise.schema import conform, dictionary_columns, empty_table
from normalise.store.layout import Layout
from normalise.store.work import Parse


@dataclass(frozen=True)
class CouncilBuild:
    """One council to rebuild from its parses (in preference order), into these staged paths of the stage's commit."""

    council_code: str
    parses: list[Parse]
    partitions: dict[str, Path]  # table -> staged partition folder
    rejects: Path


def rebuild_council(build: CouncilBuild, root: Path) -> dict[str, list[int]]:
    """Write one council's spend and contracts partitions and its rejects from its parses; return rows kept
    (in spend or contracts) and rows in rejects per source sha256."""
    layout = Layout(root)
    parts: dict[str, list[pa.Table]] = {"spend": [], "contracts": [], "rejects": []}
    for parse in build.parses:
        for table, path in parse.outputs(layout).items():
            parts[table].append(read_output(path, table))
    spend, duplicates = merge_overlapping(_concat(parts["spend"], "spend"))
    # the latest register first: a contract listed every quarter is kept as last published
    contracts, repeated = merge_overlapping(_concat(parts["contracts"][::-1], "contracts"), "contracts")
    rejects = pa.concat_tables([*parts["rejects"], duplicates, repeated])
    _write_partitions(build.partitions["spend"], spend, "spend")
    _write_partitions(build.partitions["contracts"], contracts, "contracts")
    write_staged(rejects, build.rejects, "rejects")
    kept = pa.concat_tables([spend.select(["source_sha256"]), contracts.select(["source_sha256"])])
    return _counts_by_source(kept, rejects)


def rebuild_councils(builds: list[CouncilBuild], root: Path) -> list[dict[str, list[int]]]:
    """Rebuild a group of councils in turn (one task: one hand-off for several councils)."""
    with rare_collections():
        return [rebuild_council(build, root) for build in builds]


def write_staged(rows: pa.Table, path: Path, table: str) -> None:
    """Write a file of the commit's staging folder (private to this stage and flushed by its commit: no temporary name)."""
    pq.write_table(conform(rows, table), path, compression="zstd")


def _concat(tables: list[pa.Table], table: str) -> pa.Table:
    return pa.concat_tables(tables) if tables else empty_table(table)


#: the date that places a row of each partitioned table in a year
_DATE_COLUMN = {"spend": "payment_date", "contracts": "start_date"}


def _write_partitions(partition: Path, rows: pa.Table, table: str) -> None:
    """One file per year of the table's date in a council's (staged) partition folder; undated rows under year=unknown.

    The rows are sorted once by date (undated last), then row id: each year is then one slice of them.
    """
    date_column = _DATE_COLUMN[table]
    rows = rows.sort_by([(date_column, "ascending"), ("row_id", "ascending")])
    runs = pc.run_end_encode(pc.year(rows.column(date_column)).combine_chunks())
    start = 0
    for end, year in zip(runs.run_ends.to_pylist(), runs.values.to_pylist()):
        target = Layout.partition_file(partition, year)
        target.parent.mkdir(parents=True, exist_ok=True)
        part = rows.slice(start, end - start)
        pq.write_table(part, target, compression="zstd", use_dictionary=dictionary_columns(table))
        start = end


def _counts_by_source(kept: pa.Table, rejects: pa.Table) -> dict[str, list[int]]:
    counts: dict[str, list[int]] = {}
    for index, table in enumerate((kept, rejects)):
        if len(table) == 0:
            continue
        tally = pc.value_counts(table.column("source_sha256").combine_chunks())
        for sha, n in zip(tally.field("values").to_pylist(), tally.field("counts").to_pylist()):
            counts.setdefault(sha, [0, 0])[index] = n
    return counts
