"""merge_overlapping: repeats across files are kept once, with the other files named."""

from __future__ import annotations

import pyarrow as pa

from normalise import schema
from normalise.parsing.overlap import merge_overlapping

A, B, C = "a" * 64, "b" * 64, "c" * 64


def rows(*specs: tuple[str, str, int], also: list[list[str] | None] | None = None) -> pa.Table:
    """Spend rows from ``(row_id, source_sha256, source_row)`` triples."""
    table = pa.table(
        {
            "row_id": [r for r, _, _ in specs],
            "council_code": ["BIR"] * len(specs),
            "dataset": ["spend_over_500"] * len(specs),
            "source_sha256": [s for _, s, _ in specs],
            "source_url": [f"http://127.0.0.1/{s[0]}.csv" for _, s, _ in specs],
            "source_row": [n for _, _, n in specs],
            "also_published_in": pa.array(also or [None] * len(specs), pa.list_(pa.string())),
        }
    )
    return schema.conform(table, "spend")


def identities(table: pa.Table) -> list[tuple[str, int]]:
    return list(zip(table.column("source_sha256").to_pylist(), table.column("source_row").to_pylist()))


def test_triple_repeat_across_three_files_names_the_other_two() -> None:
    spend = rows(("r1", A, 2), ("r2", A, 3), ("r1", B, 2), ("r3", B, 3), ("r1", C, 7), ("r2", C, 8))
    kept, rejects = merge_overlapping(spend)
    assert kept.column("row_id").to_pylist() == ["r1", "r2", "r3"]
    assert kept.column("also_published_in").to_pylist() == [[B, C], [C], None]
    assert identities(rejects) == [(B, 2), (C, 7), (C, 8)]
    assert rejects.column("reason").to_pylist() == ["duplicate"] * 3
    assert rejects.column("detail").to_pylist() == [
        f"duplicate of row_id r1 kept from file {A}",
        f"duplicate of row_id r1 kept from file {A}",
        f"duplicate of row_id r2 kept from file {A}",
    ]
    assert kept.schema == schema.arrow_schema("spend") and rejects.schema == schema.arrow_schema("rejects")
    assert sorted(identities(kept) + identities(rejects)) == sorted(identities(spend))


def test_same_file_twice_never_lists_itself() -> None:
    spend = rows(("r1", A, 2), ("r2", A, 3), ("r1", A, 2), ("r2", A, 3), ("r1", B, 4))
    kept, rejects = merge_overlapping(spend)
    assert kept.column("also_published_in").to_pylist() == [[B], None]
    assert identities(rejects) == [(A, 2), (A, 3), (B, 4)]
    assert kept.num_rows + rejects.num_rows == spend.num_rows


def test_first_occurrence_wins_whatever_the_file() -> None:
    spend = rows(("r1", B, 9), ("r1", A, 2), ("r2", A, 3))
    kept, rejects = merge_overlapping(spend)
    assert identities(kept) == [(B, 9), (A, 3)]
    assert kept.column("also_published_in").to_pylist() == [[A], None]
    assert rejects.column("detail").to_pylist() == [f"duplicate of row_id r1 kept from file {B}"]


def test_existing_lists_are_kept_and_extended_without_repeats() -> None:
    spend = rows(
        ("r1", A, 2),
        ("r2", A, 3),
        ("r3", A, 4),
        ("r1", B, 2),
        ("r1", C, 2),
        ("r2", C, 3),
        also=[[B], [], [C], None, None, None],
    )
    kept, _ = merge_overlapping(spend)
    assert kept.column("also_published_in").to_pylist() == [[B, C], [C], [C]]


def test_no_repeats_returns_the_rows_unchanged() -> None:
    spend = rows(("r1", A, 2), ("r2", B, 2), also=[[C], None])
    kept, rejects = merge_overlapping(spend)
    assert kept.equals(spend) and rejects.num_rows == 0
    empty_kept, empty_rejects = merge_overlapping(spend.slice(0, 0))
    assert empty_kept.num_rows == 0 and empty_rejects.schema == schema.arrow_schema("rejects")


def test_many_chunks_and_many_repeats_keep_every_row_once() -> None:
    month = rows(*[(f"r{i}", A, i) for i in range(3000)])
    year = rows(*[(f"r{i}", B, i) for i in range(0, 6000, 2)])
    quarter = rows(*[(f"r{i}", C, i) for i in range(0, 6000, 3)])
    spend = pa.concat_tables([month, year, quarter])
    kept, rejects = merge_overlapping(spend)
    assert kept.num_rows == 3000 + 1500 + 500  # month rows, year-only evens, quarter-only odd multiples of 3
    assert rejects.num_rows == spend.num_rows - kept.num_rows
    assert len(set(kept.column("row_id").to_pylist())) == kept.num_rows
    also = dict(zip(kept.column("row_id").to_pylist(), kept.column("also_published_in").to_pylist()))
    assert also["r0"] == [B, C] and also["r2"] == [B] and also["r3"] == [C] and also["r1"] is None
    assert also["r3000"] == [C] and also["r3002"] is None and also["r3003"] is None
    assert sorted(identities(kept) + identities(rejects)) == sorted(identities(spend))
