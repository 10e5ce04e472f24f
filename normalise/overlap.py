"""One transaction published in several files (a month file, then a year file) kept once."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from normalise import schema


def merge_overlapping(spend: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Keep the first occurrence of each ``row_id``; the repeats become ``duplicate`` rejects.

    ``spend`` is one council's rows from many files, preferred files first. The
    kept row's ``also_published_in`` lists the sha256 of every other file that
    repeats it (added to any it already had). Every input row ends up in
    exactly one of the two outputs.
    """
    spend = schema.conform(spend, "spend")
    n = spend.num_rows
    if n == 0:
        return spend, schema.empty_table("rejects")
    position = pa.array(range(n), pa.int64())
    keys = pa.table({"row_id": spend.column("row_id"), "position": position})
    first = keys.group_by("row_id", use_threads=False).aggregate([("position", "min")])
    first_of = pc.take(first.column("position_min"), pc.index_in(spend.column("row_id"), first.column("row_id")))
    is_first = pc.equal(position, first_of)
    kept = spend.filter(is_first)
    repeats = spend.filter(pc.invert(is_first))
    if repeats.num_rows == 0:
        return kept, schema.empty_table("rejects")

    kept_sha = dict(zip(kept.column("row_id").to_pylist(), kept.column("source_sha256").to_pylist()))
    others: dict[str, list[str]] = {}
    for rid, sha in zip(repeats.column("row_id").to_pylist(), repeats.column("source_sha256").to_pylist()):
        if sha != kept_sha[rid] and sha not in others.setdefault(rid, []):
            others[rid].append(sha)
    merged = [
        (list(existing or []) + [s for s in others.get(rid, []) if s not in (existing or [])]) or existing
        for rid, existing in zip(kept.column("row_id").to_pylist(), kept.column("also_published_in").to_pylist())
    ]
    kept = kept.set_column(
        kept.schema.get_field_index("also_published_in"), "also_published_in", pa.array(merged, pa.list_(pa.string()))
    )
    detail = [f"duplicate of row_id {rid} kept from file {kept_sha[rid]}" for rid in repeats.column("row_id").to_pylist()]
    rejects = pa.table({
        "council_code": repeats.column("council_code"),
        "dataset": repeats.column("dataset"),
        "source_sha256": repeats.column("source_sha256"),
        "source_url": repeats.column("source_url"),
        "source_sheet": repeats.column("source_sheet"),
        "source_row": repeats.column("source_row"),
        "reason": pa.array(["duplicate"] * repeats.num_rows, pa.string()),
        "detail": pa.array(detail, pa.string()),
    })
    return kept, schema.conform(rejects, "rejects")
