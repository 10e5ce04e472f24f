"""The crawl flow (real Prefect) on the hostile mock web: unreachable councils retried, the run's figures recorded.

Then the commands built on what it leaves: the per-council summary, ``sources check``, and the
trial options of ``crawl`` (``--dry-run``, ``--sample``) and ``serve`` (a bad schedule).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.summary import council_lines
from mockweb.generate import generate
from mockweb.server import MockWeb

runner = CliRunner()
LOOPBACK = {
    "COUNCILSPEND_DOWNLOAD_DELAY": "0",
    "COUNCILSPEND_AUTOTHROTTLE": "0",
    "COUNCILSPEND_TIMEOUT": "4",
    "COUNCILSPEND_MAX_FILE_BYTES": str(2 * 1024 * 1024),
}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory, prefect_harness):
    """One crawl flow over two councils and one whose site is down, with two retries."""
    from flows.crawl import crawl_flow

    tmp = tmp_path_factory.mktemp("flow")
    site = generate(tmp / "web", councils=2, faults=True)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in LOOPBACK.items():
            patch.setenv(name, value)
        with MockWeb(site.root, council_hosts=True, record=True) as web:
            sources = tmp / "sources.yaml"
            sources.write_text(site.sources_yaml(web.base_url, web.council_base_urls()), encoding="utf-8")
            result = crawl_flow(tmp / "out", sources, None, council_retries=2, retry_delay=0)
            log = list(web.log)
    return {"site": site, "out": tmp / "out", "sources": sources, "result": result, "log": log}


def test_an_unreachable_council_is_retried_alone_and_the_others_are_not(crawled):
    site, out, log = crawled["site"], crawled["out"], crawled["log"]
    [down] = site.down_councils
    pages = pq.read_table(out / "pages.parquet").to_pylist()
    downs = [p for p in pages if p["council_code"] == down]
    assert downs and all(p["failures_in_a_row"] == 3 and p["last_ok_at"] is None for p in downs)  # 1 + 2 retries
    others = [p for p in pages if p["council_code"] != down]
    assert {p["run_id"] for p in others} == {crawled["result"].run_ids[0]}  # read once, not crawled again
    landing = [
        hit
        for hit in log
        if hit.target.endswith("/spending") and hit.host == downs[0]["url"].split("/")[2].split(":")[0]
    ]
    # three crawls, each trying the dead page three times (RETRY_TIMES), plus at most one
    # automatic retry of Twisted's connection pool per crawl: bounded, not a storm
    assert 3 * 3 <= len(landing) <= 3 * 4


def test_the_runs_table_holds_the_crawls_figures(crawled):
    record = crawled["result"].record
    [row] = [r for r in pq.read_table(crawled["out"] / "runs.parquet").to_pylist() if r["run_id"] == record.run_id]
    assert row["flow"] == "crawl" and row["councils"] == 3 and row["councils_unreachable"] == 1
    assert row["files_new"] > 100 and row["files_failed"] >= 8 and row["requests"] > row["files_new"]
    assert row["pages_failed"] >= 2 * 3  # the dead council's two pages, on each of three crawls
    assert row["finished_at"] > row["started_at"]


def test_the_summary_names_each_council_and_why_one_could_not_be_read(crawled):
    lines = {line.council_code: line for line in council_lines(crawled["out"], crawled["result"].run_ids)}
    [down] = crawled["site"].down_councils
    assert set(lines) == {*crawled["site"].council_codes, down}
    assert lines[down].pages_read == 0 and lines[down].note.startswith("unreachable: ")
    busy = max(lines.values(), key=lambda line: line.files["new"])
    assert busy.files["new"] > 50 and busy.newest_period is not None and busy.found_via != "–"


def test_sources_check_reports_what_each_council_gave(crawled):
    result = runner.invoke(
        app, ["sources", "check", "--out", str(crawled["out"]), "--sources", str(crawled["sources"]), "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = {row["council_code"]: row for row in map(json.loads, result.output.splitlines())}
    [down] = crawled["site"].down_councils
    assert rows[down]["unreachable"] and rows[down]["files"] == 0 and rows[down]["failures"]
    for code in crawled["site"].council_codes:
        assert not rows[code]["unreachable"] and rows[code]["files_stored"] > 0 and rows[code]["newest_period"]
        assert rows[code]["evidence"] and rows[code]["last_crawled_at"]
    table = runner.invoke(app, ["sources", "check", "--out", str(crawled["out"]), "--sources", str(crawled["sources"])])
    assert table.exit_code == 0 and all(code in table.output for code in rows)


def test_dry_run_and_sample_fetch_and_write_nothing(crawled, tmp_path):
    out = tmp_path / "never"
    args = ["crawl", "--out", str(out), "--sources", str(crawled["sources"]), "--dry-run", "--sample", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Dry run: 2 councils" in result.output and "robots.txt obeyed" in result.output
    assert not out.exists()
    again = runner.invoke(app, args)
    assert again.output == result.output  # the same sample each time


def test_serve_refuses_a_bad_schedule_in_one_line(crawled):
    result = runner.invoke(app, ["serve", "--cron", "every monday", "--sources", str(crawled["sources"])])
    assert result.exit_code == 2 and "is not a cron expression" in result.output and "Traceback" not in result.output


def test_run_dry_run_names_every_stage_and_writes_nothing(crawled, tmp_path):
    out = tmp_path / "never"
    result = runner.invoke(app, ["run", "--out", str(out), "--sources", str(crawled["sources"]), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run: 3 councils" in result.output and "then: normalise" in result.output and "publish" in result.output
    assert not out.exists()


@pytest.mark.slow  # the whole national flow
def test_the_national_flow_over_the_hostile_web_records_every_failure(tmp_path, prefect_harness):
    """Every stage runs to the end; each hostile link is a files row with its reason; the site that
    is down is site_unreachable in compliance and listed in its report page."""
    from flows.national import NationalRun, national_flow
    from mockweb.answers import load_answer_key

    site = generate(tmp_path / "web", councils=2, faults=True)
    key = load_answer_key(site.root)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in LOOPBACK.items():
            patch.setenv(name, value)
        with MockWeb(site.root, council_hosts=True) as web:
            sources = tmp_path / "sources.yaml"
            sources.write_text(site.sources_yaml(web.base_url, web.council_base_urls()), encoding="utf-8")
            job = NationalRun(out=tmp_path / "out", sources=sources, as_of=site.as_of, council_retries=0)
            result = national_flow(job)
    files = {urlsplit(f["url"]).path: f for f in pq.read_table(tmp_path / "out" / "files.parquet").to_pylist()}
    for answer in key.files[key.files["expected_error"] != ""].itertuples():
        row = files[answer.url_path]
        assert answer.expected_error in row["error"] and row["sha256"] is None, answer.fault
    [down] = site.down_councils
    compliance = pq.read_table(tmp_path / "out" / "compliance.parquet").to_pylist()
    assert {r["status"] for r in compliance if r["council_code"] == down and r["dataset"] == "spend_over_500"} == {
        "site_unreachable"
    }
    page = (result.report.parent / f"{down}.html").read_text(encoding="utf-8")
    assert "Pages we could not read" in page and "forbidden by robots.txt" in page
    flows = [r["flow"] for r in pq.read_table(tmp_path / "out" / "runs.parquet").to_pylist()]
    assert flows[0] == "crawl" and flows[-1] == "publish"
