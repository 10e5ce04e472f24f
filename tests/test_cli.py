"""The command line as a user meets it: clear one-line errors, working read-only commands."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_parse_of_a_missing_file_is_a_one_line_error(tmp_path):
    result = _invoke("parse", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_bad_as_of_date_is_a_one_line_error(tmp_path):
    result = _invoke("compliance", "--out", str(tmp_path), "--as-of", "31/10/2025")
    assert result.exit_code == 2
    assert "--as-of must be a date" in result.output


def test_missing_sources_config_is_a_one_line_error(tmp_path):
    result = _invoke("crawl", "--out", str(tmp_path), "--sources", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_match_names_without_registers_says_what_to_run(tmp_path):
    names = tmp_path / "names.csv"
    names.write_text("name\nOxfam\n")
    result = _invoke("match-names", str(names), "--registers", str(tmp_path / "registers"))
    assert result.exit_code == 2
    assert "registers load" in result.output


def test_parse_prints_a_json_summary_and_writes_parquet(tmp_path):
    spend = tmp_path / "spend.csv"
    spend.write_text(
        "Date,Supplier Name,Amount,Expense Type,Department\n"
        "13/03/2025,Acme Ltd,\"1,234.50\",Software,Finance\n"
        "14/03/2025,Oxfam,-20.00,Grants,Communities\n",
        encoding="utf-8",
    )
    out = tmp_path / "rows.parquet"
    result = _invoke("parse", str(spend), "--council", "BIR", "--out", str(out))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["status"], summary["rows"], summary["total_amount"]) == ("ok", 2, "1214.50")
    import pyarrow.parquet as pq

    table = pq.read_table(out)
    assert table.column("council_code").to_pylist() == ["BIR", "BIR"]


def test_parse_of_a_pdf_exits_non_zero_with_status(tmp_path):
    pdf = tmp_path / "spend.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
    result = _invoke("parse", str(pdf))
    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "not_machine_readable"


@pytest.mark.usefixtures("shared_dir")
def test_discover_lists_links_of_a_saved_page(shared_dir):
    page = shared_dir / "realdata" / "pages" / "harrogate__council-spending.html"
    result = _invoke("discover", str(page), "--base-url", "https://www.harrogate.gov.uk/council-spending")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert any(line.startswith("csv") and "2018_september_supplier_spend" in line for line in lines)
