"""The crawler against the hostile mock web (``--faults``), each council on its own loopback address.

One crawl (and a second, incremental one) is shared by the tests of this module: every hostile
link must end as the answer key says (``mockweb/hostile.py``), robots.txt is obeyed, a 429's
``Retry-After`` is waited out with the whole host paused, a site that is down is recorded in
``pages.parquet``, and the second run is answered by 304s. Each test names the defence it
checks; taking that defence out of ``crawler/`` makes it fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest

from mockweb.answers import load_answer_key
from mockweb.generate import generate
from mockweb.hostile import OFFSITE_HOST
from mockweb.server import MockWeb

REPO = Path(__file__).resolve().parents[1]
#: Short limits, so the drip and the endless body fail in seconds (the slow file takes 2 s).
LIMITS = {
    "COUNCILSPEND_DOWNLOAD_DELAY": "0",
    "COUNCILSPEND_AUTOTHROTTLE": "0",
    "COUNCILSPEND_TIMEOUT": "4",
    "COUNCILSPEND_MAX_FILE_BYTES": str(2 * 1024 * 1024),
}


def crawl(sources: Path, out: Path, run_id: str) -> dict:
    """``python -m crawler.run`` as the flows run it; its stats."""
    command = [sys.executable, "-m", "crawler.run", "--sources", str(sources), "--out", str(out), "--run-id", run_id]
    command += ["--log-file", str(out / f"{run_id}.log")]
    result = subprocess.run(
        command, cwd=REPO, env={**os.environ, **LIMITS}, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The answer key, the server (with its request log) and the outputs of two crawls."""
    root = tmp_path_factory.mktemp("hostile") / "web"
    site = generate(root, councils=3, faults=True)
    out = root.parent / "out"
    with MockWeb(root, council_hosts=True, record=True) as web:
        sources = root.parent / "sources.yaml"
        sources.write_text(site.sources_yaml(web.base_url, web.council_base_urls()), encoding="utf-8")
        first = crawl(sources, out, "first")
        first_log = list(web.log)
        files = {path_of(r["url"]): r for r in pq.read_table(out / "files.parquet").to_pylist()}
        pages = {path_of(r["url"]): r for r in pq.read_table(out / "pages.parquet").to_pylist()}
        second = crawl(sources, out, "second")
        yield {
            "key": load_answer_key(root),
            "web": web,
            "out": out,
            "first": first,
            "log": first_log,
            "files": files,
            "pages": pages,
            "second": second,
        }


def test_every_hostile_link_ends_as_the_answer_key_says(hostile):
    """RedirectGuardMiddleware, RetryAfterMiddleware, DOWNLOAD_FAIL_ON_DATALOSS, DOWNLOAD_TIMEOUT, DOWNLOAD_MAXSIZE."""
    key, files = hostile["key"], hostile["files"]
    failing = key.files[key.files["expected_error"] != ""]
    assert len(failing) == 7
    for answer in failing.itertuples():
        row = files[answer.url_path]
        assert row["error"] and answer.expected_error in row["error"], (answer.fault, row["error"])
        assert row["sha256"] is None, answer.fault  # nothing half-downloaded is ever stored
        assert row["http_status"] == (answer.http_status or None), (answer.fault, row["http_status"])
    served = key.files[(key.files["expected_error"] == "") & (key.files["http_status"] == 200)]
    for answer in served.itertuples():
        assert files[answer.url_path]["sha256"], answer.url_path
    [moved] = key.files[key.files["fault"] == "offsite_redirect"].itertuples()
    row = files[moved.url_path]  # followed to the other host, recorded under the address asked for
    assert row["sha256"] and urlsplit(row["final_url"]).hostname == OFFSITE_HOST, row


def test_links_that_are_not_web_addresses_are_never_requested_or_recorded(hostile):
    """Discovery's scheme filter, resource_link's, and DOWNLOAD_HANDLERS (file:, ftp:, data:, s3: off)."""
    key, files = hostile["key"], hostile["files"]
    assert set(key.ignored["where"]) == {"landing_page", "ckan_resource"}
    recorded = {row["url"] for row in files.values()}
    assert all(urlsplit(url).scheme in ("http", "https") for url in recorded)
    assert not any("etc/passwd" in url or "pub/spend" in url for url in recorded)
    raw = b"".join(p.read_bytes() for p in (hostile["out"] / "raw").rglob("*") if p.is_file())
    assert b"root:x:0:0" not in raw


def test_robots_txt_is_fetched_per_host_and_obeyed(hostile):
    """ROBOTSTXT_OBEY."""
    key, files, pages, log = hostile["key"], hostile["files"], hostile["pages"], hostile["log"]
    for path in key.disallowed["url_path"]:
        assert files[path]["error"] == "forbidden by robots.txt"
    forbidden = key.pages[key.pages["expected_error"] == "robots.txt"]["url_path"]
    assert len(forbidden) == 1 and pages[forbidden.iloc[0]]["error"] == "forbidden by robots.txt"
    asked = {hit.target for hit in log}
    assert not any(path.startswith("/private/") for path in asked)
    hosts = {hit.host for hit in log if hit.target == "/robots.txt"}
    web = hostile["web"]
    assert hosts == {*web.council_hosts.values(), *web.mirror_hosts}  # every host a link led to was asked


def test_a_429_is_waited_out_with_its_whole_host_paused(hostile):
    """RetryAfterMiddleware: Retry-After honoured, the host paused, the file fetched in the end."""
    key, files, log = hostile["key"], hostile["files"], hostile["log"]
    path = key.files[key.files["fault"] == "rate_limited"]["url_path"].iloc[0]
    hits = [hit for hit in log if hit.target == path]
    assert [hit.status for hit in hits] == [429, 200]
    refused, retried = hits
    assert retried.at - refused.at >= 0.95  # Retry-After: 1
    others = [h for h in log if h.host == refused.host and refused.at + 0.05 < h.at < refused.at + 0.9]
    assert others == []  # nothing else was sent to that host while it asked us to wait
    assert files[path]["sha256"] and files[path]["error"] is None
    storm = key.files[key.files["fault"] == "rate_limited_always"]["url_path"].iloc[0]
    assert [h.status for h in log if h.target == storm] == [429, 429, 429]  # RETRY_TIMES: retries capped


def test_a_site_that_is_down_is_recorded_in_the_pages_table(hostile):
    """Spiders' page items and the pages pipeline: failures are data, not only log lines."""
    key, pages, first = hostile["key"], hostile["pages"], hostile["first"]
    for answer in key.pages.itertuples():
        row = pages[answer.url_path]
        assert row["council_code"] == answer.council_code and row["kind"] == answer.kind and row["entry"]
        assert answer.expected_error in row["error"] and row["last_ok_at"] is None
        assert row["failures_in_a_row"] == 1 and row["run_id"] == "first"
    assert first["pages"]["unreachable"] == sorted(set(key.pages["council_code"]))
    read = [p for p in pages.values() if p["error"] is None]
    assert read and all(p["last_ok_at"] and p["failures_in_a_row"] == 0 for p in read)
    assert sum(p["files_found"] for p in read if p["entry"]) > 50
    again = {path_of(r["url"]): r for r in pq.read_table(hostile["out"] / "pages.parquet").to_pylist()}
    for answer in key.pages.itertuples():
        assert again[answer.url_path]["failures_in_a_row"] == 2 and again[answer.url_path]["run_id"] == "second"


def test_the_second_run_is_answered_by_304s(hostile):
    """ConditionalGetMiddleware."""
    files, second = hostile["files"], hostile["second"]
    stored = [row for row in files.values() if row["sha256"]]
    assert second["responses_by_status"]["304"] == len(stored)
    assert second["manifest"]["unchanged"] == len(stored) and second["manifest"]["new"] == 0
    assert second["bytes"] < hostile["first"]["bytes"] / 10


def test_no_remote_control_or_telnet_in_a_crawl(hostile):
    """REMOTE_CONTROL_ENABLED and TELNETCONSOLE_ENABLED off: nothing listens inside a running crawl."""
    log = (hostile["out"] / "first.log").read_text(encoding="utf-8")
    assert "Enabled extensions" in log
    assert "RemoteControl" not in log and "TelnetConsole" not in log


def test_each_council_host_gets_at_most_two_requests_at_once(tmp_path):
    """CONCURRENT_REQUESTS_PER_DOMAIN, held by crawler.downloader.PoliteDownloader without a download delay."""
    site = generate(tmp_path / "web", councils=3)
    with MockWeb(site.root, council_hosts=True, latency=0.05) as web:
        sources = tmp_path / "sources.yaml"
        sources.write_text(site.sources_yaml(web.base_url, web.council_base_urls()), encoding="utf-8")
        stats = crawl(sources, tmp_path / "out", "run")
        busiest = dict(web.max_in_flight)
    assert stats["files"]["new"] > 100
    assert set(busiest) == set(web.council_hosts.values())
    assert max(busiest.values()) == 2, busiest


def test_a_local_file_is_never_read_whatever_asks_for_it(tmp_path):
    """DOWNLOAD_HANDLERS: file:, ftp:, data: and s3: are switched off in the crawler's settings.

    Discovery, portal resources, redirects and the sources config all refuse such addresses
    before a request is made; this is the last line, so it is tested with a bare spider.
    """
    secret = tmp_path / "secret.csv"
    secret.write_text("Date,Supplier,Amount\n01/01/2025,SECRET SUPPLIER,1.00\n", encoding="utf-8")
    script = f"""
import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

class Probe(scrapy.Spider):
    name = "probe"
    async def start(self):
        for url in ({secret.as_uri()!r}, "data:text/csv,SECRET%20SUPPLIER"):
            yield scrapy.Request(url, callback=self.read, errback=self.refused)
    def read(self, response):
        print("READ", response.body)
    def refused(self, failure):
        print("REFUSED", type(failure.value).__name__)

settings = Settings()
settings.setmodule("crawler.settings", priority="project")
settings.set("ITEM_PIPELINES", {{}})
settings.set("DOWNLOADER_MIDDLEWARES", {{}})
process = CrawlerProcess(settings)
process.crawl(Probe)
process.start()
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "SECRET" not in result.stdout and result.stdout.count("REFUSED") == 2, result.stdout


def test_unconfigured_councils_are_found_through_the_portal_search_and_well_known_paths(tmp_path):
    """crawler/spiders/fallback.py: the same files as their sources entries would find, none twice."""
    site = generate(tmp_path / "web", councils=3)
    key = load_answer_key(site.root)
    on_portal = set(key.files.loc[key.files["url_path"].str.startswith("/ckan/"), "council_code"])
    portal = sorted(on_portal)[0]
    pages_only = sorted(set(site.council_codes) - on_portal)[0]
    with MockWeb(site.root, council_hosts=True, record=True) as web:
        sources = tmp_path / "sources.yaml"
        text = site.sources_yaml(web.base_url, web.council_base_urls(), unconfigured=[portal, pages_only])
        sources.write_text(text, encoding="utf-8")
        stats = crawl(sources, tmp_path / "out", "run")
        asked = [hit.target for hit in web.log if hit.method == "GET"]
    files = pq.read_table(tmp_path / "out" / "files.parquet").to_pylist()
    for code in (portal, pages_only):
        expected = set(key.files.loc[key.files["council_code"] == code, "url_path"])
        found = {path_of(f["url"]) for f in files if f["council_code"] == code}
        assert found == expected, code
    fetched = Counter(asked)
    assert all(fetched[path] == 1 for path in key.files["url_path"] if path in fetched)  # found both ways, asked once
    pages = pq.read_table(tmp_path / "out" / "pages.parquet").to_pylist()
    kinds = {(p["council_code"], p["kind"]) for p in pages if p["error"] is None}
    assert {(portal, "ckan_search"), (pages_only, "directory"), (pages_only, "well_known")} <= kinds
    searched = [p for p in pages if p["council_code"] == portal and p["kind"] == "ckan_search"]
    assert searched[0]["files_found"] > 0 and "fq=organization:" in searched[0]["url"]
    assert stats["pages"]["unreachable"] == []
