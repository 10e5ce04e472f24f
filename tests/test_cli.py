"""The command line as a user meets it: clear one-line errors, working read-only commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys

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


@pytest.mark.parametrize("command", ["normalise", "match", "compliance", "publish"])
def test_stages_after_the_crawl_say_what_to_run_in_an_empty_folder(tmp_path, command):
    result = _invoke(command, "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "nothing crawled" in result.output and "councilspend crawl" in result.output
    assert list(tmp_path.iterdir()) == []


def test_councils_missing_from_the_sources_config_are_named_before_crawling(tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text("councils:\n  BIR:\n    landing_pages: [http://127.0.0.1:9/spend]\n")
    result = _invoke("crawl", "--out", str(tmp_path / "out"), "--sources", str(sources), "--councils", "BIR,ZZZ")
    assert result.exit_code == 2
    assert "ZZZ not in the sources config" in result.output
    assert not (tmp_path / "out").exists()


def test_file_system_mistakes_are_one_line_errors(tmp_path):
    spend = tmp_path / "spend.csv"
    spend.write_text("Date,Supplier Name,Amount\n13/03/2025,Acme Ltd,10.00\n")
    result = _invoke("parse", str(spend), "--out", str(tmp_path))  # a folder, not a file
    assert result.exit_code == 2
    assert "error:" in result.output and "Traceback" not in result.output
    result = _invoke("discover", str(tmp_path), "--base-url", "http://127.0.0.1/")
    assert result.exit_code == 2 and "Is a directory" in result.output


def test_register_files_that_do_not_exist_are_named_before_loading(tmp_path):
    result = _invoke("registers", "load", "--out", str(tmp_path), "--companies", str(tmp_path / "nope.zip"))
    assert result.exit_code == 2
    assert "nope.zip does not exist" in result.output
    assert list(tmp_path.iterdir()) == []


def test_ports_out_of_range_are_refused():
    result = runner.invoke(app, ["demo", "--port", "99999"])
    assert result.exit_code == 2
    assert "65535" in result.output


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
        '13/03/2025,Acme Ltd,"1,234.50",Software,Finance\n'
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
    september = [line for line in lines if "file/4301/2018_september_supplier_spend" in line]
    assert september == [
        "csv     spend_over_500  2018-09-01..2018-09-30 https://www.harrogate.gov.uk/downloads/file/4301/"
        "2018_september_supplier_spend_-_csv_file  [format: link text; kind: link text; period: link text+file name]"
    ]
    assert len(lines) == 84  # one line per link (expectations in tests/discovery_expectations.py)


def test_discover_json_gives_links_evidence_and_sub_pages(tmp_path):
    page = tmp_path / "spend.html"
    page.write_text(
        "<h1>Spending over £500</h1><table><tr><td>April 2025</td><td><a href='/d/9'>CSV</a></td></tr></table>"
        "<a href='/spend/2024-25'>Spending 2024/25</a><a href='javascript:go()'>May 2025 CSV</a>",
        encoding="utf-8",
    )
    result = _invoke("discover", str(page), "--base-url", "https://c.example/spend", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["links"] == [
        {
            "url": "https://c.example/d/9",
            "text": "CSV",
            "format": "csv",
            "kind": "spend_over_500",
            "period_start": "2025-04-01",
            "period_end": "2025-04-30",
            "format_from": "link text",
            "kind_from": 'heading "Spending over £500"',
            "period_from": "row",
        }
    ]
    assert [sub["url"] for sub in found["follow"]] == ["https://c.example/spend/2024-25"]


def _run(*args: str) -> subprocess.CompletedProcess:
    """The command in its own process, as a user runs it, talking to the session's Prefect server."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_publish_writes_a_release_once_and_refuses_the_name_again(tmp_path, prefect_harness):
    from test_release import build

    out = build(tmp_path / "data")
    first = _run("publish", "--out", str(out), "--release", "2025-12")
    assert first.returncode == 0, first.stderr
    assert (out / "releases" / "2025-12" / "SHA256SUMS").is_file() and (out / "councilspend.duckdb").is_file()
    again = _run("publish", "--out", str(out), "--release", "2025-12")
    assert again.returncode == 2
    assert "already exists" in again.stderr and "Traceback" not in again.stderr + again.stdout


def test_registers_load_names_a_bad_link_table_in_one_line(tmp_path, prefect_harness):
    links = tmp_path / "links.csv"
    links.write_text("charity,company\n1,2\n")
    result = _run("registers", "load", "--out", str(tmp_path / "out"), "--links", str(links))
    assert result.returncode == 2
    assert "not a link table" in result.stderr and "Traceback" not in result.stderr + result.stdout
    missing = _run("registers", "load", "--out", str(tmp_path / "out"), "--links", str(tmp_path / "none.csv"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
