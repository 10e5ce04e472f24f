"""Small Parquet helpers shared by every stage: atomic writes and tolerant reads."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from normalise.schema import conform, empty_table
from normalise.store.atomic import write_parquet


def write_table(table: pa.Table, path: Path, *, schema_of: str | None = None) -> Path:
    """Write ``table`` to ``path`` atomically (a reader never sees half a file).

    With ``schema_of`` the table is first conformed to that published table's schema.
    """
    if schema_of:
        table = conform(table, schema_of)
    return write_parquet(Path(path), table)


def read_table(path: Path, table: str) -> pa.Table:
    """Read a published table, or an empty one with the right schema when the file is absent."""
    path = Path(path)
    if not path.exists():
        return empty_table(table)
    with pq.ParquetFile(path) as file:  # one file: no dataset discovery (half the cost of a small file's read)
        return conform(file.read(), table)
