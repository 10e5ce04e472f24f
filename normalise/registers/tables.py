"""The register Parquet layout and a writer that streams record batches into it.

For each register ``R`` (companies, ccew, oscr, ccni, mutuals, public_bodies):

* ``R.parquet``: one row per organisation (``ORGANISATIONS``).
* ``R_names.parquet``: every name an organisation is known by (``NAMES``): registered, previous,
  working and known-as names, each with its ``supplier_key``.
* ``R_links.parquet``: links to other registers (``LINKS``) the register publishes: a charity's
  company, a registered society's mutuals-register entry, a linked (subsidiary) charity's main
  charity.

Links that come from elsewhere sit beside them in the same layout: ``link_tables_links.parquet``
(cross-walks loaded with ``--links``) and ``same_name_links.parquet`` (charity–company pairs
inferred from their names; see ``normalise.registers.links``). Every column is described in
``normalise.schema`` (``REGISTER_TABLES``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from normalise.names import supplier_keys
from normalise.schema import register_schema
from normalise.store.atomic import fsync_dir, fsync_file, temporary_name

ORGANISATIONS = register_schema("")
NAMES = register_schema("_names")
LINKS = register_schema("_links")
REGISTER_NAMES = ("companies", "ccew", "oscr", "ccni", "mutuals", "public_bodies")
#: Sources of links that are not registers: their files hold links only (``<source>_links.parquet``).
LINK_SOURCES = ("link_tables", "same_name")


def register_file(folder: Path, register: str, suffix: str = "") -> Path:
    """A register's file in the registers folder: organisations (``""``), ``"_names"`` or ``"_links"``.

    >>> register_file(Path("registers"), "ccew", "_links").as_posix()
    'registers/ccew_links.parquet'
    """
    return Path(folder) / f"{register}{suffix}.parquet"


def links_batch(org_ids: pa.Array, linked: pa.Array, relation: str, method: str, source: str) -> pa.RecordBatch:
    """Link rows for the pairs where both ends are given."""
    keep = pc.and_(pc.is_valid(org_ids), pc.is_valid(linked))
    org_ids, linked = pc.filter(org_ids, keep), pc.filter(linked, keep)
    n = len(org_ids)
    return pa.RecordBatch.from_arrays(
        [org_ids, linked, *(pa.array([value] * n, pa.string()) for value in (relation, method, source))], schema=LINKS
    )


def blank_to_null(array: pa.Array) -> pa.Array:
    """Strings with surrounding spaces removed; empty ones null."""
    stripped = pc.utf8_trim_whitespace(array)
    return pc.if_else(pc.equal(stripped, ""), pa.scalar(None, pa.string()), stripped)


def parse_dates(array: pa.Array, *formats: str) -> pa.Array:
    """Dates from strings in the first of ``formats`` that parses; null where none does."""
    result = pa.nulls(len(array), pa.date32())
    text = blank_to_null(array)
    for fmt in formats:
        parsed = pc.cast(pc.strptime(text, format=fmt, unit="s", error_is_null=True), pa.date32())
        result = pc.coalesce(result, parsed)
    return result


def names_batch(org_ids: pa.Array, names: pa.Array, name_type: str) -> pa.RecordBatch:
    """Name rows for the non-blank ``names`` of ``org_ids``, with their keys."""
    names = blank_to_null(names)
    keep = pc.is_valid(names)
    org_ids, names = pc.filter(org_ids, keep), pc.filter(names, keep)
    keys = pa.array(supplier_keys(names.to_pylist()), pa.string())
    return pa.RecordBatch.from_arrays(
        [org_ids, names, pa.array([name_type] * len(names), pa.string()), keys], schema=NAMES
    )


class RegisterWriter:
    """Streams one register's organisations, names and links into its three Parquet files."""

    def __init__(self, out_dir: Path, register: str) -> None:
        self.register = register
        self.rows = 0
        self._final = {
            kind: register_file(out_dir, register, suffix)
            for kind, suffix in (("orgs", ""), ("names", "_names"), ("links", "_links"))
        }
        self._partial = {kind: temporary_name(path) for kind, path in self._final.items()}
        self._writers = {
            kind: pq.ParquetWriter(self._partial[kind], schema, compression="zstd")
            for kind, schema in zip(self._final, (ORGANISATIONS, NAMES, LINKS))
        }

    def organisations(self, columns: dict[str, pa.Array]) -> None:
        length = len(next(iter(columns.values())))
        arrays = [columns[f.name] if f.name in columns else pa.nulls(length, f.type) for f in ORGANISATIONS]
        self._writers["orgs"].write_batch(
            pa.RecordBatch.from_arrays(
                [pc.cast(a, f.type) for a, f in zip(arrays, ORGANISATIONS)], schema=ORGANISATIONS
            )
        )
        self.rows += length

    def names(self, batches: Sequence[pa.RecordBatch]) -> None:
        for batch in batches:
            if batch.num_rows:
                self._writers["names"].write_batch(batch)

    def links(self, org_ids: pa.Array, linked: pa.Array, relation: str, source: str) -> None:
        """Links the register publishes (``source`` names the column they come from)."""
        batch = links_batch(org_ids, linked, relation, "register", f"{self.register}: {source}")
        if batch.num_rows:
            self._writers["links"].write_batch(batch)

    def close(self, ok: bool = True) -> None:
        """Keep the register's files (flushed, then renamed over the old ones) or discard them."""
        for kind, writer in self._writers.items():
            writer.close()
            partial = self._partial[kind]
            if ok:
                fsync_file(partial)
                partial.replace(self._final[kind])
                fsync_dir(partial.parent)
            else:
                partial.unlink(missing_ok=True)
