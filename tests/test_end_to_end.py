"""The whole national flow against the mock council web, checked against the generator's answer key.

One demo run (and a second, incremental one) is shared by the tests of this module.
"""

from __future__ import annotations

import io
import json
import socket
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pyarrow.parquet as pq
import pytest
from rich.console import Console

from mockweb.answers import load_answer_key
from mockweb.scoring import score_suppliers
from normalise.publish.package import connect

pytestmark = pytest.mark.slow  # end-to-end: skip with -m "not slow" while you work

COUNCILS = 8
TABLES = ("spend", "contracts", "files", "rejects", "suppliers", "compliance", "runs")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(out: Path, port: int) -> str:
    """One demo run; the same port each time, as a user's demo has, so the URLs stay the same."""
    from flows.demo import run_demo

    buffer = io.StringIO()
    run_demo(out, councils=COUNCILS, port=port, workers=2, console=Console(file=buffer, width=200))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def demo(tmp_path_factory, prefect_harness):
    """Output folder, answer key and the state after the first run (before the second)."""
    out = tmp_path_factory.mktemp("demo")
    port = _free_port()
    printed = _run(out, port)
    first = {
        "port": port,
        "raw": sorted(p.name for p in (out / "raw").rglob("*") if p.is_file()),
        "spend_rows": pq.ParquetDataset(out / "spend").read().num_rows,
        "files": pq.read_table(out / "files.parquet").num_rows,
        "printed": printed,
    }
    return out, load_answer_key(out / "_mockweb"), first


@pytest.fixture(scope="module")
def con(demo):
    out, _, _ = demo
    with connect(out) as connection:
        yield connection


def _df(con, sql: str) -> pd.DataFrame:
    """A query's result with exact decimals (pandas via Arrow, not DuckDB's float conversion)."""
    return con.sql(sql).to_arrow_table().to_pandas()


def _scalar(con, sql: str):
    return con.sql(sql).fetchall()[0][0]


def _files(con) -> pd.DataFrame:
    files = _df(con, "SELECT * FROM files")
    files["url_path"] = files["url"].map(_route)
    return files


def _route(url: str) -> str:
    """A URL's path and query, as the answer key writes it (asset links differ only in their query)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_every_generated_file_is_accounted_for_row_by_row(demo, con):
    _, key, _ = demo
    files = _files(con)
    counts = _df(
        con,
        """SELECT source_sha256, count(*) AS n, sum(amount) AS total FROM (
               SELECT source_sha256, amount FROM spend UNION ALL SELECT source_sha256, value FROM contracts
           ) GROUP BY 1""",
    )
    counts = counts.set_index("source_sha256")
    rejects = _df(con, "SELECT source_sha256, count(*) AS n FROM rejects GROUP BY 1").set_index("source_sha256")
    fetched = key.files[key.files["http_status"] == 200]
    assert len(fetched) > 100
    merged = fetched.merge(files, on="url_path", how="left", suffixes=("_key", ""))
    assert merged["sha256"].notna().all(), merged.loc[merged["sha256"].isna(), "url_path"].tolist()
    problems = []
    for f in merged.itertuples():
        in_spend = int(counts["n"].get(f.sha256, 0))
        in_rejects = int(rejects["n"].get(f.sha256, 0))
        total = counts["total"].get(f.sha256, Decimal(0))
        if f.parse_status != f.expected_status:
            problems.append((f.url_path, "status", f.parse_status, f.expected_status))
        if in_spend + in_rejects != f.rows_total:
            problems.append((f.url_path, "rows", in_spend + in_rejects, f.rows_total))
        if f.republishes and in_spend != 0:
            problems.append((f.url_path, "republished rows kept", in_spend, 0))
        if not f.republishes:
            if in_spend != f.transactions:
                problems.append((f.url_path, "transactions", in_spend, f.transactions))
            if Decimal(total or 0) != Decimal(f.total_amount or "0"):
                problems.append((f.url_path, "total", total, f.total_amount))
    assert problems == [], "\n".join(map(str, problems))


def test_repeated_transactions_appear_once_with_both_sources(con, demo):
    _, key, _ = demo
    assert _scalar(con, "SELECT count(*) - count(DISTINCT row_id) FROM spend") == 0
    republished = int(key.files.loc[key.files["republishes"] != "", "transactions"].sum())
    assert republished > 0
    with_second_source = _scalar(con, "SELECT count(*) FROM spend WHERE len(also_published_in) > 0")
    duplicates = _scalar(con, "SELECT count(*) FROM rejects WHERE reason = 'duplicate'")
    assert with_second_source == duplicates == republished


def test_duckdb_reads_every_table(con):
    views = [name for (name,) in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()]
    assert set(TABLES) <= set(views)
    assert any(v.startswith("registers_") for v in views)
    counts = {view: _scalar(con, f"SELECT count(*) FROM {view}") for view in views}
    assert all(counts[table] > 0 for table in TABLES), counts


def test_compliance_matches_the_answer_key(demo, con):
    _, key, _ = demo
    got = _df(con, "SELECT council_code, period, dataset, status, months_covered FROM compliance")
    want = key.compliance[["council_code", "period", "dataset", "status", "months_covered"]]
    merged = want.merge(got, on=["council_code", "period", "dataset"], how="outer", suffixes=("_want", "_got"))
    months_want = merged["months_covered_want"].astype("float").fillna(-1)  # null: months are not counted
    months_got = merged["months_covered_got"].astype("float").fillna(-1)
    wrong = merged[(merged["status_want"] != merged["status_got"]) | (months_want != months_got)]
    assert wrong.empty, wrong.to_string()
    assert set(want["status"]) >= {"compliant", "late", "missing"}
    registers = want[want["dataset"] == "contracts"]
    assert {"compliant", "missing"} <= set(registers["status"]), "the mock web publishes some contracts registers"


def test_suppliers_are_matched_to_their_true_organisations(demo):
    out, _, _ = demo
    metrics = score_suppliers(out)
    assert metrics["names"] > 500, metrics
    assert metrics["precision"] >= 0.98, metrics
    assert metrics["recall"] >= 0.95, metrics
    assert {"charity", "cic", "mutual", "company", "public_body"} <= set(metrics["by_org_type"])


def test_match_eval_command_prints_the_scores(demo):
    from typer.testing import CliRunner

    from flows.cli import app

    out, _, _ = demo
    result = CliRunner().invoke(app, ["match-eval", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["names"] > 500
    assert metrics["precision"] >= 0.98 and metrics["recall"] >= 0.95, metrics


def test_second_run_downloads_and_adds_nothing(demo):
    out, _, first = demo
    printed = _run(out, first["port"])
    runs = pq.read_table(out / "runs.parquet").to_pandas()
    crawls = runs[runs["flow"] == "crawl"].sort_values("started_at")
    assert len(crawls) == 2
    last = crawls.iloc[-1]
    assert (last["files_new"], last["files_changed"]) == (0, 0)
    assert last["files_unchanged"] > 0
    assert sorted(p.name for p in (out / "raw").rglob("*") if p.is_file()) == first["raw"]
    assert pq.ParquetDataset(out / "spend").read().num_rows == first["spend_rows"]
    assert pq.read_table(out / "files.parquet").num_rows == first["files"]
    assert "0 new" in printed
