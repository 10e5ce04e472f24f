"""One transaction published in several files (a month file, then a year file) kept once.

Everything is columnar (Arrow compute and Acero group-bys): only the row_ids that occur more than
once are looked at row by row, so a council with millions of rows costs little beyond its table.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from normalise import schema

_SHA_LISTS = pa.list_(pa.string())


def merge_overlapping(spend: pa.Table, table: str = "spend") -> tuple[pa.Table, pa.Table]:
    """Keep the first occurrence of each ``row_id``; the repeats become ``duplicate`` rejects.

    ``spend`` is one council's rows (of ``table``: spend or contracts) from many files, preferred
    files first. The kept row's ``also_published_in`` lists the sha256 of every other file that
    repeats it (added to any it already had). Every input row ends up in exactly one of the two
    outputs.
    """
    spend = schema.conform(spend, table)
    if spend.num_rows == 0:
        return spend, schema.empty_table("rejects")
    position = _positions(spend.num_rows)
    row_ids = spend.column("row_id")
    groups = (
        pa.table({"row_id": row_ids, "position": position})
        .group_by("row_id", use_threads=False)
        .aggregate([("position", "min"), ("position", "count")])
    )
    repeated = groups.filter(pc.greater(groups.column("position_count"), 1))
    if repeated.num_rows == 0:
        return spend, schema.empty_table("rejects")
    first_of = pc.take(repeated.column("position_min"), pc.index_in(row_ids, repeated.column("row_id")))
    is_repeat = pc.fill_null(pc.not_equal(position, first_of), False)
    kept, repeats = spend.filter(pc.invert(is_repeat)), spend.filter(is_repeat)
    repeat_first = first_of.filter(is_repeat)
    kept_sha = pc.take(spend.column("source_sha256"), repeat_first)

    also = _also_published_in(
        existing=spend.column("also_published_in"),
        owner=repeat_first,
        sha=repeats.column("source_sha256"),
        kept_sha=kept_sha,
        order=position.filter(is_repeat),
    )
    kept_positions = position.filter(pc.invert(is_repeat))
    merged_at = pc.index_in(kept_positions, also.column("owner"))
    merged = pc.coalesce(pc.take(also.column("sha_list"), merged_at), kept.column("also_published_in"))
    kept = kept.set_column(kept.schema.get_field_index("also_published_in"), "also_published_in", merged)

    detail = pc.binary_join_element_wise(
        "duplicate of row_id ", repeats.column("row_id"), " kept from file ", pc.fill_null(kept_sha, "?"), ""
    )
    dataset = (
        repeats.column("dataset")
        if "dataset" in repeats.column_names
        else pa.repeat(pa.scalar(table, pa.string()), repeats.num_rows)
    )
    rejects = pa.table(
        {
            "council_code": repeats.column("council_code"),
            "dataset": dataset,
            "source_sha256": repeats.column("source_sha256"),
            "source_url": repeats.column("source_url"),
            "source_sheet": repeats.column("source_sheet"),
            "source_row": repeats.column("source_row"),
            "reason": pa.repeat("duplicate", repeats.num_rows),
            "detail": detail,
        }
    )
    return kept, schema.conform(rejects, "rejects")


def _positions(n: int) -> pa.Array:
    """Row positions ``0..n-1`` as int64, built without Python objects.

    >>> _positions(3).to_pylist()
    [0, 1, 2]
    """
    return pa.array(np.arange(n, dtype=np.int64))


def _also_published_in(
    existing: pa.ChunkedArray,
    owner: pa.Array,
    sha: pa.ChunkedArray,
    kept_sha: pa.ChunkedArray,
    order: pa.Array,
) -> pa.Table:
    """Per kept row (``owner``: its position) that other files repeat, its full sha256 list.

    The list is the kept row's ``existing`` entries, then each new sha256 (not the kept row's own,
    not already listed) in the order its first repeat came.
    """
    new = pa.table({"owner": owner, "sha": sha, "rank": order})
    new = new.filter(pc.fill_null(pc.not_equal(new.column("sha"), kept_sha), True))
    new = (
        new.group_by(["owner", "sha"], use_threads=False)
        .aggregate([("rank", "min")])
        .rename_columns(["owner", "sha", "rank"])
    )
    owners = pc.unique(new.column("owner"))
    listed = pc.take(existing, owners)
    old = pa.table(
        {
            "owner": pc.take(owners, pc.list_parent_indices(listed)),
            "sha": pc.list_flatten(listed),
        }
    )
    old = old.append_column("rank", pc.subtract(_positions(old.num_rows), old.num_rows))  # before every new one
    new = new.join(old.select(["owner", "sha"]), keys=["owner", "sha"], join_type="left anti", use_threads=False)
    elements = pa.concat_tables([old, new.select(["owner", "sha", "rank"])]).sort_by(
        [("owner", "ascending"), ("rank", "ascending")]
    )
    lists = elements.group_by("owner", use_threads=False).aggregate([("sha", "list")])
    return lists.set_column(1, "sha_list", lists.column("sha_list").cast(_SHA_LISTS))
