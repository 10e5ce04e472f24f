"""Describe and open the published Parquet tables: ``datapackage.json``, ``DATA_DICTIONARY.md``, DuckDB views.

Everything is generated from :data:`normalise.schema.TABLES` and, for loaded registers,
:data:`normalise.schema.REGISTER_TABLES` (matched to the Parquet files' own columns), so the
descriptors never drift from the data and every field is described.

Validating with frictionless
----------------------------
``datapackage.json`` validates with the frictionless library against the Parquet files
(``frictionless validate datapackage.json``). Frictionless reads Parquet through pandas, which
shows a null as ``nan`` or ``NaT`` (a nullable integer column arrives as floats), so each schema
lists those as ``missingValues``; and it sees a list column's cells as NumPy arrays, which its
``array`` type rejects, so list columns are typed ``any`` (their descriptions say they are lists;
the CSV exports write them as JSON arrays and type them ``array``). Spend has one resource per
partition file (``spend_bir_2025``), all sharing ``schemas/spend.json``: frictionless would read
only the first file of a multi-file Parquet resource.

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

import errno
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from normalise.schema import REGISTER_TABLES, TABLES, Column
from normalise.store.atomic import replacing, write_json, write_text
from normalise.store.layout import PARTITIONED, TABLE_FILES, Layout, partition_glob

#: Where to write an output instead of in place: a commit's staging path (``Transaction.file``).
Stage = Callable[[Path], Path]


def _in_place(path: Path) -> Path:
    return path


PRIMARY_KEYS: dict[str, list[str]] = {
    "spend": ["row_id"],
    "contracts": ["row_id"],
    "files": ["url"],
    "pages": ["council_code", "url"],
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
            return register_description(Path(self.paths[0]).stem)
        return TABLE_DESCRIPTIONS[self.name]


TABLE_DESCRIPTIONS = {
    "spend": "Every council payment, one row per transaction, in one canonical schema (hive-partitioned by council and year).",
    "contracts": "Contracts over £5,000 from councils' contracts registers (hive-partitioned by council and start year).",
    "rejects": "Rows of published files that are not in spend, with the reason.",
    "files": "Manifest of every spending file link found, fetched and parsed.",
    "pages": "Every page read (or not) while looking for councils' files: landing pages, portal calls, fallback lookups, with the last outcome.",
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
        if name in PARTITIONED:
            parts = [layout.relative(p) for p in layout.partition_files(name)]
            if parts:
                found.append(PublishedTable(name, parts, partition_glob(name), columns, hive=True))
        elif layout.table(name).is_file():
            found.append(PublishedTable(name, [TABLE_FILES[name]], TABLE_FILES[name], columns))
    for path in sorted(layout.registers.glob("*.parquet")):
        relative = layout.relative(path)
        described = {c.name: c for c in REGISTER_TABLES[_register_suffix(path.stem)]}
        columns = [
            described.get(f.name, Column(f.name, f.type, f"{f.name} (a column of an older register load)"))
            for f in pq.read_schema(path)
        ]
        found.append(PublishedTable(f"registers_{_identifier(path.stem)}", [relative], relative, columns))
    return found


REGISTER_TITLES = {
    "companies": "Companies House (BasicCompanyData)",
    "ccew": "the Charity Commission for England and Wales (public extract)",
    "oscr": "the Scottish Charity Regulator, OSCR (register export)",
    "ccni": "the Charity Commission for Northern Ireland (register export)",
    "mutuals": "the FCA Mutuals Public Register",
    "public_bodies": "councils (mySociety's list of UK local authorities), as public bodies",
    "link_tables": "link tables loaded with --links (find-that-charity's org_id_a,org_id_b form)",
    "same_name": "same-name charity and company pairs (normalise/registers/links.py)",
}
_REGISTER_KINDS = {
    "": "Organisations of {title}, with size band and sector.",
    "_names": "Every name the organisations of {title} are known by, with the key matching uses.",
    "_links": "Links between registers from {title}.",
}


def _register_suffix(stem: str) -> str:
    """``_names``, ``_links`` or ``""`` for a register file's stem.

    >>> [_register_suffix(s) for s in ("companies", "ccew_names", "same_name_links")]
    ['', '_names', '_links']
    """
    return next((suffix for suffix in ("_names", "_links") if stem.endswith(suffix)), "")


def register_description(stem: str) -> str:
    """What a register file holds, from its name.

    >>> register_description("ccni_links")
    'Links between registers from the Charity Commission for Northern Ireland (register export).'
    """
    suffix = _register_suffix(stem)
    source = stem.removesuffix(suffix)
    return _REGISTER_KINDS[suffix].format(title=REGISTER_TITLES.get(source, source))


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
#: How frictionless (through pandas) shows the nulls of Parquet columns (see the module docstring).
PARQUET_MISSING_VALUES = ["nan", "NaT"]


def table_schema_type(type_: pa.DataType, fmt: str = "parquet") -> dict:
    """Frictionless Table Schema type for an Arrow type, in a Parquet (or CSV) resource.

    >>> table_schema_type(pa.decimal128(18, 2))
    {'type': 'number'}
    >>> table_schema_type(pa.timestamp("us", tz="UTC"))
    {'type': 'datetime'}
    >>> table_schema_type(pa.list_(pa.string())), table_schema_type(pa.list_(pa.string()), "csv")
    ({'type': 'any'}, {'type': 'array'})
    """
    found = next((name for test, name in _TABLE_SCHEMA_TYPES if test(type_)), "any")
    return {"type": "any" if found == "array" and fmt == "parquet" else found}


def table_schema(columns: list[Column], fmt: str = "parquet", primary_key: list[str] | None = None) -> dict:
    """A Table Schema for ``columns`` as stored in Parquet, or as written to CSV by the exports.

    In CSV an empty string and a missing value look the same, so text columns are not required there.
    """
    fields = []
    for column in columns:
        field = {"name": column.name, **table_schema_type(column.type, fmt), "description": column.description}
        text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        field["constraints"] = {"required": column.required and not (fmt == "csv" and text)}
        if pa.types.is_decimal(column.type):
            field["decimalChar"] = "."
        fields.append(field)
    schema: dict = {"fields": fields, "missingValues": PARQUET_MISSING_VALUES if fmt == "parquet" else [""]}
    if primary_key:
        schema["primaryKey"] = primary_key
    return schema


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


def write_datapackage(
    out_dir: Path, *, version: str | None = None, created: str | None = None, stage: Stage = _in_place
) -> Path:
    """Write ``<out>/datapackage.json`` (and the schema files of partitioned tables): a Frictionless Data
    Package of every table present. ``stage`` maps each output to the path to write instead (a commit's).

    ``version`` and ``created`` (an ISO timestamp) are set for releases; the live folder's package
    carries neither, so rewriting it is byte-identical.
    """
    layout = Layout(out_dir)
    resources = []
    for table in published_tables(layout.root):
        base: dict[str, object] = {
            "type": "table",
            "format": "parquet",
            "mediatype": "application/vnd.apache.parquet",
            "description": table.description,
        }
        schema = table_schema(table.columns, "parquet", PRIMARY_KEYS.get(table.name))
        if table.hive:  # one resource per partition file, sharing one schema file
            write_json(stage(layout.schema_file(table.name)), schema)
            for path in table.paths:
                resources.append(
                    {
                        "name": partition_resource_name(table.name, path),
                        "path": path,
                        **base,
                        "schema": layout.relative(layout.schema_file(table.name)),
                    }
                )
        else:
            resources.append({"name": table.name, "path": table.paths[0], **base, "schema": schema})
    package = {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": "councilspend",
        "title": "councilspend: UK council spending, suppliers and Transparency Code compliance",
        "description": "Spending files published by UK councils, crawled, normalised to one schema, with "
        "suppliers matched to official registers and compliance with the Local Government "
        "Transparency Code 2015. Open councilspend.duckdb for SQL views over these files.",
        **({"version": version} if version else {}),
        **({"created": created} if created else {}),
        "licenses": LICENSES,
        "sources": SOURCES,
        "resources": resources,
    }
    return write_text(stage(layout.datapackage), json.dumps(package, indent=2, ensure_ascii=False) + "\n")


def partition_resource_name(table: str, path: str) -> str:
    """A Frictionless resource name for one hive partition file.

    >>> partition_resource_name("spend", "spend/council=BIR/year=2025/part-0.parquet")
    'spend_bir_2025'
    """
    values = [part.split("=", 1)[1] for part in path.split("/") if "=" in part]
    return _identifier("_".join([table, *values]))


def write_duckdb(out_dir: Path, *, stage: Stage = _in_place) -> Path:
    """Write ``<out>/councilspend.duckdb``: one view per table present, over folder-relative paths.

    A database that cannot be written whole (a full disk) is an ``OSError`` naming it, and leaves
    neither a database without views nor a write-ahead log behind.
    """
    layout = Layout(Path(out_dir).resolve())
    database = stage(layout.duckdb)
    with replacing(database) as tmp:
        try:
            with duckdb.connect(tmp) as con:
                con.execute("SET file_search_path = ?", [layout.root.as_posix()])
                for statement in view_statements(layout.root):
                    con.execute(statement)
                con.execute("CREATE TABLE about (key VARCHAR, value VARCHAR)")
                con.executemany("INSERT INTO about VALUES (?, ?)", list(_about_rows()))
                con.execute("CHECKPOINT")  # fold the write-ahead log into the file before it is renamed
        except (duckdb.IOException, duckdb.TransactionException) as exc:  # a file or log it could not write
            raise _write_error(exc, database) from None
        finally:
            tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    return database


def _write_error(exc: duckdb.Error, path: Path) -> OSError:
    """DuckDB's write failure as the OSError the rest of the store raises (it keeps no errno)."""
    code = errno.ENOSPC if "No space left on device" in str(exc) else errno.EIO
    return OSError(code, os.strerror(code), str(path))


def view_statements(out_dir: Path) -> list[str]:
    """``CREATE VIEW`` statements, one per table present, over paths relative to the folder."""
    return [f"CREATE VIEW {table.name} AS SELECT * FROM {_reader(table)};" for table in published_tables(out_dir)]


def write_views_sql(out_dir: Path) -> Path:
    """Write ``<out>/views.sql``: the views as SQL text (a release's stand-in for the database file,
    which DuckDB does not write byte for byte the same twice). Run it with ``duckdb -init views.sql``."""
    layout = Layout(out_dir)
    header = "-- councilspend views over this folder's Parquet files; run from this folder: duckdb -init views.sql\n"
    return write_text(layout.views_sql, header + "\n".join(view_statements(layout.root)) + "\n")


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


#: How the data dictionary says to open the views: the live folder's database, or a release's SQL file.
_OPEN_DATABASE = (
    "`councilspend.duckdb` has one view per table, reading the Parquet files by paths relative to this "
    "folder, so the folder can be moved or copied whole. Open it from this folder (`duckdb councilspend.duckdb`), "
    "or from elsewhere with `duckdb -cmd \"SET file_search_path='<this folder>'\" <this folder>/councilspend.duckdb`, "
    "or in Python with `normalise.publish.connect('<this folder>')`."
)
_OPEN_VIEWS_SQL = (
    "`views.sql` creates one DuckDB view per table over the Parquet files, by paths relative to this folder: "
    "from this folder, `duckdb -init views.sql`. `csv/` holds the same data as CSV for spreadsheets "
    "(see `csv/datapackage.json`); `SHA256SUMS` lists every file's checksum (`sha256sum -c SHA256SUMS`)."
)


def write_data_dictionary(out_dir: Path, *, release: bool = False, stage: Stage = _in_place) -> Path:
    """Write ``<out>/DATA_DICTIONARY.md`` describing every published table and column."""
    out_dir = Path(out_dir)
    present = {t.name: t for t in published_tables(out_dir)}
    lines = [
        "# councilspend data dictionary",
        "",
        "Generated from `normalise/schema.py`. Every table is Parquet. Money is exact: decimal(18,2) pounds, "
        "never floats. Timestamps are UTC.",
        "",
        _OPEN_VIEWS_SQL if release else _OPEN_DATABASE,
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
    return write_text(stage(Layout(out_dir).dictionary), "\n".join(lines))


def _location(name: str) -> str:
    if name in PARTITIONED:
        return f"`{partition_glob(name)}` (partitions `council=<CODE>/year=<YYYY>`)"
    return f"`{name}.parquet`"


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
