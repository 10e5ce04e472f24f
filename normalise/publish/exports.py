"""CSV exports for people without Parquet tools: spend per council and year, suppliers per council,
and the small tables whole, with their own ``csv/datapackage.json``.

The files are UTF-8 with a byte-order mark (so spreadsheet programs read £ and accents right),
comma-separated, with a header row; money is written as plain decimals (``-1234.50``), dates as
``YYYY-MM-DD``, timestamps as ISO 8601 UTC to the second (``2025-11-20T10:00:00Z``), booleans as ``true`` /
``false``, list columns as JSON arrays (``["a", "b"]``), and nulls as empty fields.

**Spreadsheet formula injection**: a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return (or their full-width forms) would be run as a formula by a spreadsheet
that opens the file, and supplier names and purposes come from council files anyone could have
typed into. Such cells are written with a leading apostrophe (``'=HYPERLINK(...)``), which
spreadsheets show as text; strip one leading apostrophe to get the published value back. Numbers
(amounts, including negative ones) are numeric columns and are never changed.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from normalise.publish.package import LICENSES, SOURCES, TABLE_DESCRIPTIONS, partition_resource_name, table_schema
from normalise.schema import TABLES, conform
from normalise.store.atomic import write_bytes, write_json, write_text
from normalise.store.layout import Layout

#: First characters that make a spreadsheet treat a cell as a formula (ASCII and full-width forms).
FORMULA_START = "^[=+\\-@\t\r\uff1d\uff0b\uff0d\uff20]"
BOM = "\ufeff".encode()
#: Tables exported whole (small); spend is exported per council and year, suppliers per council.
WHOLE_TABLES = ("supplier_shares", "compliance")


def guard_formulas(values: pa.Array) -> pa.Array:
    """Text cells a spreadsheet would run as formulas, with a leading apostrophe; others unchanged.

    >>> guard_formulas(pa.array(["=1+1", "-5 credit", "ACME LTD", "@SUM(A1)", None, ""])).to_pylist()
    ["'=1+1", "'-5 credit", 'ACME LTD', "'@SUM(A1)", None, '']
    """
    risky = pc.fill_null(pc.match_substring_regex(values, FORMULA_START), False)
    return pc.if_else(risky, pc.binary_join_element_wise("'", values, ""), values)


def csv_ready(table: pa.Table) -> pa.Table:
    """``table`` with text guarded, lists as JSON arrays and timestamps as ISO 8601 text.

    >>> import datetime as dt
    >>> row = csv_ready(pa.table({"s": ["+44 113"], "l": pa.array([["a"]]),
    ...     "t": pa.array([dt.datetime(2025, 1, 2, 3, 4, 5, 678)], pa.timestamp("us", tz="UTC"))})).to_pylist()[0]
    >>> row
    {'s': "'+44 113", 'l': '["a"]', 't': '2025-01-02T03:04:05Z'}
    """
    columns = []
    for column in table.columns:
        values = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
            values = pa.array([None if v is None else json.dumps(v, ensure_ascii=False) for v in values.to_pylist()])
        elif pa.types.is_timestamp(values.type):
            whole = pc.cast(pc.floor_temporal(values, unit="second"), pa.timestamp("s", tz="UTC"))
            values = pc.strftime(whole, format="%Y-%m-%dT%H:%M:%SZ")
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            values = guard_formulas(values)
        columns.append(values)
    return pa.table(columns, names=table.column_names)


def write_csv(table: pa.Table, path: Path) -> Path:
    """Write ``table`` (already :func:`csv_ready`) as UTF-8 CSV with a byte-order mark, atomically."""
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(quoting_style="needed"))
    return write_bytes(path, BOM + buffer.getvalue())


def write_csv_exports(root: Path) -> Path:
    """Write the CSV exports of the published tables in ``root`` and ``csv/datapackage.json``; return the latter."""
    layout = Layout(root)
    resources = []
    for part in layout.spend_files():
        council = part.parent.parent.name.removeprefix("council=")
        year = part.parent.name.removeprefix("year=")
        target = layout.csv_spend(council, year)
        write_csv(csv_ready(conform(pq.read_table(part), "spend")), target)
        resources.append(_resource("spend", partition_resource_name("spend", layout.relative(part)), layout, target))
    if layout.table("suppliers").is_file():
        suppliers = conform(pq.read_table(layout.table("suppliers")), "suppliers")
        for council in sorted(set(suppliers["council_code"].to_pylist())):
            target = layout.csv_suppliers(council)
            write_csv(csv_ready(suppliers.filter(pc.equal(suppliers["council_code"], council))), target)
            resources.append(_resource("suppliers", f"suppliers_{council.lower()}", layout, target))
    for name in WHOLE_TABLES:
        if layout.table(name).is_file():
            target = layout.csv_table(name)
            write_csv(csv_ready(conform(pq.read_table(layout.table(name)), name)), target)
            resources.append(_resource(name, name, layout, target))
    for name in sorted({r["councilspend:table"] for r in resources}):
        write_json(layout.csv_schema(name), table_schema(TABLES[name], "csv"))
    package = {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": "councilspend-csv",
        "title": "councilspend: CSV exports for spreadsheets",
        "description": "The councilspend tables as CSV: spend per council and year, suppliers per council, "
        "supplier shares and compliance whole. Text cells a spreadsheet would run as a formula begin with an "
        "apostrophe; strip it to get the published value.",
        "licenses": LICENSES,
        "sources": SOURCES,
        "resources": resources,
    }
    return write_text(layout.csv_datapackage, json.dumps(package, indent=2, ensure_ascii=False) + "\n")


def _resource(table: str, name: str, layout: Layout, path: Path) -> dict:
    return {
        "name": name,
        "path": path.relative_to(layout.csv).as_posix(),
        "type": "table",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8-sig",
        "description": TABLE_DESCRIPTIONS[table],
        "schema": layout.csv_schema(table).relative_to(layout.csv).as_posix(),
        "councilspend:table": table,
    }
