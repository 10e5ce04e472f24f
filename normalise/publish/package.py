"""Describe and open the published Parquet tables: ``datapackage.json``, ``DATA_DICTIONARY.md``, DuckDB views.

Everything is generated from :data:`normalise.schema.TABLES` (and, for loaded registers, from
the Parquet files' own schemas), so the descriptors never drift from the data.

Portable DuckDB views
---------------------
``councilspend.duckdb`` holds only views, and every view reads its Parquet files by a path
*relative to the output folder* (``files.parquet``, ``spend/**/*.parquet``). DuckDB resolves
relative paths against the working directory and then against its ``file_search_path``
setting, which is not stored in the database file. So the database works, unchanged, wherever
the folder is moved or copied, when it is opened

* from inside the folder: ``cd data && duckdb councilspend.duckdb``;
* from anywhere else with the search path set:
  ``duckdb -cmd "SET file_search_path='data'" data/councilspend.duckdb``;
* from Python with :func:`connect`, which sets the search path to the database's folder.

The database's ``about`` table repeats these instructions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from normalise.schema import TABLES, Column
from normalise.store.atomic import replacing, write_text
from normalise.store.layout import SPEND_GLOB, TABLE_FILES, Layout

PRIMARY_KEYS: dict[str, list[str]] = {
    "spend": ["row_id"],
    "files": ["url"],
    "runs": ["run_id"],
    "suppliers": ["council_code", "supplier_key"],
    "compliance": ["council_code", "period", "dataset"],
}

LICENSES = [
    {
        "name": "OGL-UK-3.0",
        "title": "Open Government Licence v3.0 (the councils' published spending data)",
        "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    },
    {
        "name": "CC-BY-4.0",
        "title": "Creative Commons Attribution 4.0 (council names and codes from mySociety)",
        "path": "https://creativecommons.org/licenses/by/4.0/",
    },
]

SOURCES = [
    {
        "title": "Spending data published by UK councils under the Local Government Transparency Code 2015",
        "path": "https://www.gov.uk/government/publications/local-government-transparency-code-2015",
    },
    {
        "title": "UK local authority names and codes, by mySociety (CC-BY-4.0)",
        "path": "https://github.com/mysociety/uk_local_authority_names_and_codes",
    },
]


@dataclass(frozen=True)
class PublishedTable:
    """One table present in the output folder."""

    name: str
    paths: list[str]  # relative to the output folder, POSIX separators
    view_source: str  # what a DuckDB view reads (relative path or glob)
    columns: list[Column]
    hive: bool = False

    @property
    def description(self) -> str:
        if self.name.startswith("registers_"):
            return f"Register loaded from bulk files: {self.name.removeprefix('registers_')}."
        return TABLE_DESCRIPTIONS[self.name]


TABLE_DESCRIPTIONS = {
    "spend": "Every council payment, one row per transaction, in one canonical schema (hive-partitioned by council and year).",
    "rejects": "Rows of published files that are not in spend, with the reason.",
    "files": "Manifest of every spending file link found, fetched and parsed.",
    "runs": "One row per crawl or flow run.",
    "suppliers": "One row per distinct supplier name per council, with its match to the official registers.",
    "compliance": "Each council's publication of spending over £500 per quarter against the Transparency Code.",
    "supplier_shares": "Who gets council money: per council (and nationally), financial year and dataset, the total "
    "paid and the amounts and shares paid to VCSE bodies, SMEs, large firms, public bodies, individuals and "
    "unmatched names.",
}


def published_tables(out_dir: Path) -> list[PublishedTable]:
    """The tables present (with at least one Parquet file) in ``out_dir``, in a stable order."""
    layout = Layout(out_dir)
    found: list[PublishedTable] = []
    for name, columns in TABLES.items():
        if name == "spend":
            parts = [layout.relative(p) for p in layout.spend_files()]
            if parts:
                found.append(PublishedTable(name, parts, SPEND_GLOB, columns, hive=True))
        elif layout.table(name).is_file():
            found.append(PublishedTable(name, [TABLE_FILES[name]], TABLE_FILES[name], columns))
    for path in sorted(layout.registers.glob("*.parquet")):
        relative = layout.relative(path)
        columns = [Column(f.name, f.type, "", not f.nullable) for f in pq.read_schema(path)]
        found.append(PublishedTable(f"registers_{_identifier(path.stem)}", [relative], relative, columns))
    return found


def _identifier(stem: str) -> str:
    """A register file's stem as a SQL- and Frictionless-safe name.

    >>> _identifier("companies-house 2026")
    'companies_house_2026'
    """
    return "".join(ch if ch.isalnum() else "_" for ch in stem.lower())


#: (Arrow type test, Frictionless Table Schema type), first match wins.
_TABLE_SCHEMA_TYPES = (
    (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t), "string"),
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_integer, "integer"),
    (lambda t: pa.types.is_decimal(t) or pa.types.is_floating(t), "number"),
    (pa.types.is_date, "date"),
    (pa.types.is_timestamp, "datetime"),
    (lambda t: pa.types.is_list(t) or pa.types.is_large_list(t), "array"),
)


def table_schema_type(type_: pa.DataType) -> dict:
    """Frictionless Table Schema type for an Arrow type.

    >>> table_schema_type(pa.decimal128(18, 2))
    {'type': 'number'}
    >>> table_schema_type(pa.timestamp("us", tz="UTC"))
    {'type': 'datetime'}
    """
    return {"type": next((name for test, name in _TABLE_SCHEMA_TYPES if test(type_)), "any")}


def readable_type(type_: pa.DataType) -> str:
    """How the data dictionary names an Arrow type.

    >>> readable_type(pa.list_(pa.string()))
    'list of text'
    >>> readable_type(pa.decimal128(18, 2))
    'decimal(18,2)'
    """
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        return f"list of {readable_type(type_.value_type)}"
    if pa.types.is_decimal(type_):
        return f"decimal({type_.precision},{type_.scale})"
    if pa.types.is_timestamp(type_):
        return f"timestamp ({type_.tz or 'local'})"
    names = {
        "string": "text",
        "large_string": "text",
        "bool": "boolean",
        "int64": "integer",
        "int32": "integer",
        "date32[day]": "date",
        "double": "float",
    }
    return names.get(str(type_), str(type_))


def _field(column: Column) -> dict:
    described = {"name": column.name, **table_schema_type(column.type)}
    if column.description:
        described["description"] = column.description
    described["constraints"] = {"required": column.required}
    if pa.types.is_decimal(column.type):
        described["decimalChar"] = "."
    return described


def write_datapackage(out_dir: Path) -> Path:
    """Write ``<out>/datapackage.json``: a Frictionless Data Package of every table present."""
    out_dir = Path(out_dir)
    resources = []
    for table in published_tables(out_dir):
        schema: dict = {"fields": [_field(c) for c in table.columns]}
        if table.name in PRIMARY_KEYS:
            schema["primaryKey"] = PRIMARY_KEYS[table.name]
        resources.append(
            {
                "name": table.name,
                "type": "table",
                "path": table.paths[0] if len(table.paths) == 1 and not table.hive else table.paths,
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                "description": table.description,
                "schema": schema,
            }
        )
    package = {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": "councilspend",
        "title": "councilspend: UK council spending, suppliers and Transparency Code compliance",
        "description": "Spending files published by UK councils, crawled, normalised to one schema, with "
        "suppliers matched to official registers and compliance with the Local Government "
        "Transparency Code 2015. Open councilspend.duckdb for SQL views over these files.",
        "licenses": LICENSES,
        "sources": SOURCES,
        "resources": resources,
    }
    return write_text(Layout(out_dir).datapackage, json.dumps(package, indent=2, ensure_ascii=False) + "\n")


def write_duckdb(out_dir: Path) -> Path:
    """Write ``<out>/councilspend.duckdb``: one view per table present, over folder-relative paths."""
    layout = Layout(Path(out_dir).resolve())
    with replacing(layout.duckdb) as tmp:
        try:
            with duckdb.connect(tmp) as con:
                con.execute("SET file_search_path = ?", [layout.root.as_posix()])
                for table in published_tables(layout.root):
                    con.execute(f"CREATE VIEW {table.name} AS SELECT * FROM {_reader(table)}")
                con.execute("CREATE TABLE about (key VARCHAR, value VARCHAR)")
                con.executemany("INSERT INTO about VALUES (?, ?)", list(_about_rows()))
                con.execute("CHECKPOINT")  # fold the write-ahead log into the file before it is renamed
        finally:
            tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    return layout.duckdb


def _reader(table: PublishedTable) -> str:
    source = table.view_source.replace("'", "''")
    if table.hive:
        return f"read_parquet('{source}', hive_partitioning = true, union_by_name = true)"
    return f"read_parquet('{source}')"


def _about_rows() -> Iterator[tuple[str, str]]:
    yield "paths", "Views read Parquet files by paths relative to the folder holding this database."
    yield "open_here", "cd into that folder, then: duckdb councilspend.duckdb"
    yield "open_elsewhere", "duckdb -cmd \"SET file_search_path='/path/to/folder'\" /path/to/folder/councilspend.duckdb"
    yield "python", "from normalise.publish.package import connect; con = connect('/path/to/folder')"
    for licence in LICENSES:
        yield "licence", f"{licence['title']}: {licence['path']}"


def connect(path: Path, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open ``councilspend.duckdb`` (give the file or its folder) with its views working from any directory."""
    path = Path(path)
    database = Layout(path).duckdb if path.is_dir() else path
    if not database.is_file():
        raise FileNotFoundError(f"no councilspend database at {database} (run the publish step first)")
    con = duckdb.connect(database, read_only=read_only)
    con.execute("SET file_search_path = ?", [database.resolve().parent.as_posix()])
    return con


def write_data_dictionary(out_dir: Path) -> Path:
    """Write ``<out>/DATA_DICTIONARY.md`` describing every published table and column."""
    out_dir = Path(out_dir)
    present = {t.name: t for t in published_tables(out_dir)}
    lines = [
        "# councilspend data dictionary",
        "",
        "Generated from `normalise/schema.py`. Every table is Parquet. Money is exact: decimal(18,2) pounds, "
        "never floats. Timestamps are UTC.",
        "",
        "`councilspend.duckdb` has one view per table, reading the Parquet files by paths relative to this "
        "folder, so the folder can be moved or copied whole. Open it from this folder (`duckdb councilspend.duckdb`), "
        "or from elsewhere with `duckdb -cmd \"SET file_search_path='<this folder>'\" <this folder>/councilspend.duckdb`, "
        "or in Python with `normalise.publish.package.connect('<this folder>')`.",
        "",
        "Licences: the councils' data is under the Open Government Licence v3.0; council names and codes "
        "come from mySociety's list of UK local authorities (CC-BY-4.0).",
        "",
    ]
    for name, columns in TABLES.items():
        lines += _table_section(name, TABLE_DESCRIPTIONS[name], _location(name), columns, name in present)
    for table in present.values():
        if table.name.startswith("registers_"):
            lines += _table_section(table.name, table.description, f"`{table.paths[0]}`", table.columns, True)
    return write_text(Layout(out_dir).dictionary, "\n".join(lines))


def _location(name: str) -> str:
    return f"`{SPEND_GLOB}` (partitions `council=<CODE>/year=<YYYY>`)" if name == "spend" else f"`{name}.parquet`"


def _table_section(name: str, description: str, location: str, columns: list[Column], present: bool) -> list[str]:
    key = PRIMARY_KEYS.get(name)
    lines = [f"## {name}", "", description, "", f"File: {location}" + ("" if present else " (not in this folder yet)")]
    if key:
        lines.append(f"Primary key: {', '.join(f'`{k}`' for k in key)}")
    lines += ["", "| column | type | required | description |", "|---|---|---|---|"]
    for c in columns:
        text = c.description.replace("|", "\\|")
        lines.append(f"| `{c.name}` | {readable_type(c.type)} | {'yes' if c.required else ''} | {text} |")
    return [*lines, ""]
