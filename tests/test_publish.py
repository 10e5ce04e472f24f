"""datapackage.json, DATA_DICTIONARY.md and councilspend.duckdb over a small real output folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_compliance import AS_OF, scenario

from normalise.compliance.rules import compute_compliance
from normalise.publish.package import (
    connect,
    table_schema_type,
    write_data_dictionary,
    write_datapackage,
    write_duckdb,
)
from normalise.schema import TABLES
from normalise.store.commit import Transaction
from normalise.store.folder import open_folder
from normalise.store.parquet_io import write_table

DUCKDB_FILE = "councilspend.duckdb"  # the name DESIGN.md promises

VIEWS = {"spend", "files", "runs", "compliance", "registers_companies"}


@pytest.fixture()
def out(tmp_path: Path) -> Path:
    out = scenario(tmp_path / "data").write()
    write_table(compute_compliance(out, as_of=AS_OF), out / "compliance.parquet")
    companies = pa.table({"org_id": ["GB-COH-00000001"], "name": ["ACME LIMITED"], "sic_codes": [["62020"]]})
    write_table(companies, out / "registers" / "companies.parquet")
    return out


def expected_counts(out: Path) -> dict[str, int]:
    counts = {name: pq.read_metadata(out / f"{name}.parquet").num_rows for name in ("files", "runs", "compliance")}
    counts["spend"] = sum(pq.read_metadata(p).num_rows for p in (out / "spend").glob("**/*.parquet"))
    counts["registers_companies"] = 1
    return counts


def counts_via(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    views = [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()]
    return {v: con.execute(f"SELECT count(*) FROM {v}").fetchone()[0] for v in views}


def test_views_count_every_table_from_the_folder(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = write_duckdb(out)
    monkeypatch.chdir(out)
    with duckdb.connect(DUCKDB_FILE, read_only=True) as con:
        assert counts_via(con) == expected_counts(out)
        assert con.execute("SELECT sum(amount) FROM spend WHERE council_code = 'SHF' AND year = 2025").fetchone()[0] > 0
    assert db == out / DUCKDB_FILE


def test_views_work_from_another_directory_and_after_the_folder_moves(out: Path, tmp_path: Path) -> None:
    write_duckdb(out)
    expected = expected_counts(out)
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(out, moved)
    shutil.rmtree(out)
    with connect(moved) as con:
        assert counts_via(con) == expected
    # a fresh process in an unrelated directory, opening the database with the documented setting
    script = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True);"
        'con.execute("SET file_search_path = \'" + sys.argv[2] + "\'");'
        "print(con.execute('SELECT count(*) FROM spend').fetchone()[0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(moved / DUCKDB_FILE), str(moved)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(done.stdout) == expected["spend"]


def test_publishing_into_a_folder_named_relative_to_the_working_directory(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``councilspend demo`` writes into ``--out data`` by default: the DuckDB file is staged in that commit too."""
    monkeypatch.chdir(out.parent)
    relative = Path(out.name)
    with open_folder(relative, "publish") as layout, Transaction(layout, "publish") as tx:
        write_duckdb(relative, stage=tx.file)
    with connect(out) as con:
        assert counts_via(con) == expected_counts(out)


def test_without_the_search_path_elsewhere_a_view_fails_loudly(out: Path, tmp_path: Path) -> None:
    write_duckdb(out)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with duckdb.connect(str(out / DUCKDB_FILE), read_only=True) as con:
            with pytest.raises(duckdb.IOException):
                con.execute("SELECT count(*) FROM files").fetchone()
            assert "file_search_path" in " ".join(v for _, v in con.execute("SELECT * FROM about").fetchall())
    finally:
        os.chdir(cwd)


def test_connect_names_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run the publish step"):
        connect(tmp_path)


def test_datapackage_describes_every_table_as_its_parquet(out: Path) -> None:
    package = json.loads(write_datapackage(out).read_text(encoding="utf-8"))
    resources = {r["name"]: r for r in package["resources"]}
    partitions = sorted(p.relative_to(out).as_posix() for p in (out / "spend").glob("**/*.parquet"))
    spend = {name: r for name, r in resources.items() if name.startswith("spend_")}
    assert set(resources) - set(spend) == VIEWS - {"spend"}
    assert sorted(r["path"] for r in spend.values()) == partitions  # one resource per partition file
    assert {r["schema"] for r in spend.values()} == {"schemas/spend.json"}
    shared = json.loads((out / "schemas" / "spend.json").read_text(encoding="utf-8"))
    assert {lic["name"] for lic in package["licenses"]} == {"OGL-UK-3.0", "CC-BY-4.0"}
    assert any("mySociety" in s["title"] for s in package["sources"])
    for name, resource in resources.items():
        schema = shared if name in spend else resource["schema"]
        assert resource["format"] == "parquet"
        parquet = pq.read_schema(out / resource["path"])
        assert [f["name"] for f in schema["fields"]] == parquet.names, name
        assert [f["type"] for f in schema["fields"]] == [table_schema_type(f.type)["type"] for f in parquet], name
        assert all(f["description"] for f in schema["fields"]), name
    assert resources["compliance"]["schema"]["primaryKey"] == ["council_code", "period", "dataset"]
    described = {f["name"]: f["description"] for f in shared["fields"]}
    assert described["amount"] == next(c.description for c in TABLES["spend"] if c.name == "amount")
    assert "version" not in package and "created" not in package  # only releases carry them


def test_empty_folder_publishes_empty_descriptors(tmp_path: Path) -> None:
    package = json.loads(write_datapackage(tmp_path).read_text(encoding="utf-8"))
    assert package["resources"] == []
    with connect(write_duckdb(tmp_path)) as con:
        assert counts_via(con) == {}


def test_data_dictionary_lists_every_column(out: Path) -> None:
    text = write_data_dictionary(out).read_text(encoding="utf-8")
    for name, columns in TABLES.items():
        assert f"## {name}\n" in text
        for column in columns:
            assert f"| `{column.name}` |" in text
    assert "## registers_companies" in text
    assert "`rejects.parquet` (not in this folder yet)" in text
    assert "| `amount` | decimal(18,2) | yes |" in text
    assert "SET file_search_path" in text


def test_rewriting_is_idempotent(out: Path) -> None:
    """The package carries no timestamps, so re-runs are byte-identical."""
    first = write_datapackage(out).read_bytes()
    write_duckdb(out)
    write_duckdb(out)
    assert write_datapackage(out).read_bytes() == first
    with connect(out) as con:
        assert counts_via(con) == expected_counts(out)
