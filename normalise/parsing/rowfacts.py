"""What each kept row gets before its id is counted: supplier key, redaction, identity, and its provenance.

None of it depends on the row's file beyond its council and where it came from (``Origin``), so the rows of
alike small files get theirs in one pass (:mod:`normalise.parsing.together`); only the count of earlier identical
rows, which makes a repeated transaction's id, is kept file by file (:func:`normalise.parsing.rowid.counted_row_ids`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from normalise import schema
from normalise.councils import councils
from normalise.names import supplier_key
from normalise.parsing.rowid import first_row_ids, identities, identity_name
from normalise.redaction import redacted_mask

#: Distinct published names remembered per process
SUPPLIER_CACHE = 200_000
#: (supplier_key, identity name, redacted) of each published name met in this process: a council's
#: suppliers recur in every one of its files. Cleared when full.
_SUPPLIERS: dict[str, tuple[str | None, str, bool]] = {}


def supplier_facts(names: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Supplier keys, identity names and redaction flags of distinct published names, each name worked out once.

    >>> keys, folded, redacted = supplier_facts(pa.array(["The Acme Ltd", "REDACTED"]))
    >>> keys.to_pylist(), folded.to_pylist(), redacted.to_pylist()
    (['acme', 'redacted'], ['the acme ltd', 'redacted'], [False, True])
    """
    listed = names.to_pylist()
    new = [name for name in dict.fromkeys(listed) if name not in _SUPPLIERS]
    if new:
        if len(_SUPPLIERS) + len(new) > SUPPLIER_CACHE:
            _SUPPLIERS.clear()
        flags = redacted_mask(pa.array(new, pa.string())).to_pylist()
        for name, flag in zip(new, flags):
            _SUPPLIERS[name] = (supplier_key(name), identity_name(name), flag)
    facts = [_SUPPLIERS[name] for name in listed]
    return (
        pa.array([f[0] for f in facts], pa.string()),
        pa.array([f[1] for f in facts], pa.string()),
        pa.array([f[2] for f in facts], pa.bool_()),
    )


@dataclass(frozen=True)
class RowFacts:
    """What a part's kept rows get that no other part of their file bears on: supplier keys, redaction flags,
    identities and ids as if each row were the first of its identity (:func:`.rowid.first_row_ids`). Rows of
    alike small files get theirs in one pass (:mod:`.together`); repeats are then counted file by file."""

    supplier_key: pa.Array
    redacted: pa.Array
    identities: pa.Array
    first_ids: pa.Array
    keys: np.ndarray

    def slice(self, offset: int, length: int) -> RowFacts:
        """The facts of ``length`` rows from ``offset`` (one file's run of a group's rows)."""
        end = offset + length
        return RowFacts(
            self.supplier_key.slice(offset, length),
            self.redacted.slice(offset, length),
            self.identities.slice(offset, length),
            self.first_ids.slice(offset, length),
            self.keys[offset:end],
        )


def row_facts(kind: str, dataset: str, council: str | pa.Array, table: pa.Table) -> RowFacts:
    """The :class:`RowFacts` of kept rows of ``kind`` (spend or contracts) from one council or, as a column, several."""
    n = table.num_rows
    supplier = table.column("supplier_name").combine_chunks() if n else pa.array([], pa.string())
    encoded = pc.dictionary_encode(supplier)
    keys, folded, redacted = (pc.take(facts, encoded.indices) for facts in supplier_facts(encoded.dictionary))
    if kind == "spend":
        date, reference, money = "payment_date", table.column("transaction_id").combine_chunks(), "amount"
    else:
        date, money = "start_date", "value"
        reference = pc.binary_join_element_wise(
            pc.fill_null(table.column("reference").combine_chunks(), ""),
            pc.fill_null(pc.utf8_lower(table.column("title").combine_chunks()), ""),
            "~",
        )
    identity = identities(
        council, dataset, table.column(date).combine_chunks(), reference, folded, table.column(money).combine_chunks()
    )
    return RowFacts(keys, pc.fill_null(redacted, False), identity, *first_row_ids(identity))


@dataclass(frozen=True)
class Source:
    """Where the rows come from (provenance written on every row and reject)."""

    council_code: str
    sha256: str
    source_url: str | None


@dataclass(frozen=True)
class Origin:
    """A run of rows from one source: how many, and the sheet they were read from."""

    rows: int
    source: Source
    sheet: str | None


def finished_rows(kind: str, dataset: str, rows: pa.Table, facts: RowFacts, origin: dict[str, pa.Array]) -> pa.Table:
    """Kept rows of ``kind`` as canonical rows: supplier keys, redaction, ids as first of their identity, and the
    ``origin`` columns (:func:`provenance`). The rows of alike small files are finished in one pass (see
    :mod:`.together`); an identity repeated within a file has its id fixed after, file by file."""
    n = rows.num_rows
    extra = {"row_id": facts.first_ids, "supplier_key": facts.supplier_key, "redacted": facts.redacted} | origin
    if kind == "spend":
        extra["dataset"] = pa.repeat(pa.scalar(dataset, pa.string()), n)
    return schema.table_of(dict(zip(rows.column_names, rows.columns)) | extra, n, kind)


def provenance(origins: Sequence[Origin], n: int) -> dict[str, pa.Array]:
    """The provenance columns of ``n`` rows from ``origins`` in turn (each value repeated, or taken run by run)."""
    values: dict[str, list[str | None]] = {
        "council_code": [o.source.council_code for o in origins],
        "gss_code": [_gss_code(o.source.council_code) for o in origins],
        "source_sha256": [o.source.sha256 for o in origins],
        "source_url": [o.source.source_url for o in origins],
        "source_sheet": [o.sheet for o in origins],
    }
    if len(origins) == 1:
        return {name: pa.repeat(pa.scalar(v[0], pa.string()), n) for name, v in values.items()}
    runs = np.repeat(np.arange(len(origins)), [o.rows for o in origins])
    return {name: pc.take(pa.array(v, pa.string()), runs) for name, v in values.items()}


def _gss_code(council_code: str) -> str | None:
    council = councils().get(council_code)
    return council.gss_code if council else None
