"""Small files that read alike, normalised as one table.

Most published files are small (a month of a council's payments: a few hundred rows), and turning
a batch of rows into canonical rows costs about a hundred pyarrow calls whatever its length: for
such files that fixed cost is most of the work. A publisher's files keep one layout month after
month, so a parse batch plans its small files first (each judged on its own: header, mapping,
rows cut into parts, see :meth:`ParseRun.plan`), then normalises the parts of sheets that read alike
(the same kind of table, header cells, mapping, dataset and date order) in one pass and hands each file
its own rows and rejects back, finished. Normalising is value by value and row by row, so a row comes
out the same whichever file shares its pass; so do its supplier key, its id as the first of its identity
and its provenance (its own file, URL and sheet: a sheet's name is not part of its layout, so workbooks
named by month read alike, see :mod:`.rowfacts`). What is per file (repeats counted into row ids, the
summary's counts) is done per file after.

Only a sheet read as one part without header rows inside it (no re-mapping) is grouped; every
other part is normalised on its own, as are the parts of a group that fails.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from normalise.parsing.contracts import normalise_contracts, settle_contract_dayfirst
from normalise.parsing.parse import Unit
from normalise.parsing.rowfacts import Origin, finished_rows, provenance, row_facts
from normalise.parsing.rows import Normalised, cells_of, normalise_spend, settle_dayfirst
from normalise.parsing.sheet import Part
from normalise.parsing.tables import Batch

#: while parts are normalised together, a row's unit rides in the high bits of its source row number
_UNIT_SHIFT = 32
_ROW_MASK = (1 << _UNIT_SHIFT) - 1


def normalise_together(units: list[Unit]) -> None:
    """Normalise the plain parts among ``units`` (spend or contracts) that read alike in groups, setting their
    ``normalised``.

    Units left alone (re-mapped sheets, a layout no other unit shares) keep ``normalised`` None and are
    normalised by their own file's run.
    """
    per_sheet = Counter(id(unit.sheet) for unit in units)
    groups: dict[tuple, list[Unit]] = defaultdict(list)
    for unit in units:
        if unit.part.header is None and per_sheet[id(unit.sheet)] == 1:
            _settle_dayfirst(unit)
            groups[layout(unit)].append(unit)
    for group in groups.values():
        if len(group) < 2:
            continue
        sheet = group[0].sheet
        normalise = normalise_contracts if sheet.kind == "contracts" else normalise_spend
        try:
            done = _split(group, normalise(sheet, _joined(group), group[0].source))
        except Exception:  # noqa: BLE001 - each file then normalises its own rows, where an error is its own
            continue
        for unit, normalised in zip(group, done):
            unit.normalised = normalised


def _settle_dayfirst(unit: Unit) -> None:
    """Day or month first, decided from the unit's own dates before it joins others (the order is part of its layout)."""
    sheet, batch = unit.sheet, unit.part.batch
    cell = cells_of(sheet, batch.columns, batch.num_rows)
    if sheet.kind == "contracts":
        settle_contract_dayfirst(sheet, cell, batch.num_rows)
    elif not sheet.period:
        settle_dayfirst(sheet, cell("payment_date"))


def layout(unit: Unit) -> tuple:
    """What normalising a plain part reads of its sheet: units with equal layouts give the same rows together."""
    sheet = unit.sheet
    return (
        sheet.kind,
        sheet.dataset,
        tuple(sheet.cells),
        tuple(sorted((canon, choice.index) for canon, choice in sheet.choices.items())),
        sheet.period,
        sheet.dayfirst,
        len(unit.part.batch.columns),
    )


def _joined(group: list[Unit]) -> Part:
    """The group's rows as one part, each row's unit in the high bits of its source row."""
    batches = [unit.part.batch for unit in group]
    columns = [pa.concat_arrays([b.columns[i] for b in batches]) for i in range(len(batches[0].columns))]
    rows = np.concatenate(
        [np.asarray(b.source_row, dtype=np.int64) + (k << _UNIT_SHIFT) for k, b in enumerate(batches)]
    )
    overflow = None
    if any(b.overflow is not None for b in batches):
        overflow = pa.concat_arrays(
            [b.overflow if b.overflow is not None else pa.nulls(b.num_rows, pa.string()) for b in batches]
        )
    return Part(Batch(columns, pa.array(rows), overflow))


def _split(group: list[Unit], together: Normalised) -> list[Normalised]:
    """Each unit's own rows (finished, with their :class:`.RowFacts`, worked out in one pass) and rejects, in order,
    so each unit's are one run, with its own provenance."""
    rows, row_units = _own_rows(together.rows, len(group))
    rejects, reject_units = _own_rows(together.rejects, len(group))
    kind, dataset = group[0].sheet.kind, group[0].sheet.dataset
    origins = [Origin(int(k), unit.source, unit.sheet.name) for k, unit in zip(row_units, group)]
    columns = provenance(origins, rows.num_rows)
    facts = row_facts(kind, dataset, columns["council_code"], rows)
    finished = finished_rows(kind, dataset, rows, facts, columns)
    rejected = [replace(origin, rows=int(k)) for origin, k in zip(origins, reject_units)]
    for column, values in provenance(rejected, len(rejects)).items():
        if (index := rejects.schema.get_field_index(column)) >= 0:
            rejects = rejects.set_column(index, rejects.field(index), values)
    kept_at, rejected_at = _starts(row_units), _starts(reject_units)
    out = []
    for k, unit in enumerate(group):
        kept = int(row_units[k])
        own_rejects = rejects.slice(rejected_at[k], reject_units[k])
        blank = unit.part.batch.num_rows - kept - int(reject_units[k])
        own, facts_of, finished_of = (
            rows.slice(kept_at[k], kept),
            facts.slice(kept_at[k], kept),
            finished.slice(kept_at[k], kept),
        )
        out.append(Normalised(own, own_rejects, blank, facts_of, finished_of))
    return out


def _own_rows(table: pa.Table, units: int) -> tuple[pa.Table, np.ndarray]:
    """The table with true source rows again, and how many of its rows each unit has."""
    encoded = table.column("source_row").to_numpy()
    counts = np.bincount(encoded >> _UNIT_SHIFT, minlength=units) if len(encoded) else np.zeros(units, np.int64)
    index = table.schema.get_field_index("source_row")
    restored = pc.bit_wise_and(table.column(index), pa.scalar(_ROW_MASK, pa.int64()))
    return table.set_column(index, table.field(index), restored), counts


def _starts(counts: np.ndarray) -> list[int]:
    return [0, *itertools.accumulate(int(c) for c in counts)][:-1]
