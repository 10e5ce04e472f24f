"""The crawler end to end against a real HTTP server on 127.0.0.1 serving tests/fixtures/site.

The site has: a landing page with relative links, an extension-less link, two URLs
with the same bytes, a year sub-page, pagination, a PDF, an XLSX, a 404, a 500, a
file over the size limit, a robots.txt-disallowed file and a CKAN portal.
``python -m crawler.run`` runs in a subprocess, as the flows run it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import threading
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from mimetypes import guess_type
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyarrow.parquet as pq
import pytest

from normalise.store.layout import Layout
from normalise.store.manifest import merge_crawl

SITE = Path(__file__).parent / "fixtures" / "site"
REPO = Path(__file__).resolve().parents[1]
MAX_FILE_BYTES = 50_000


class SiteHandler(BaseHTTPRequestHandler):
    """Static files with ETag, Last-Modified and 304s; /broken/ answers 500; a CKAN package_show."""

    server: SiteServer

    def do_GET(self):  # noqa: N802 (http.server's naming)
        parts = urlsplit(self.path)
        self.server.requests.append(parts.path)
        if parts.path.startswith("/broken/"):
            return self._send(500, b"internal error", "text/plain")
        if parts.path == "/ckan/api/3/action/package_show":
            dataset = parse_qs(parts.query).get("id", [""])[0]
            package = self.server.root / "ckan" / "packages" / f"{dataset}.json"
            if not package.is_file():
                return self._send(404, b'{"success": false}', "application/json")
            body = package.read_text(encoding="utf-8").replace("{base}", self.server.base_url)
            return self._send(200, body.encode("utf-8"), "application/json")
        path = self.server.root / parts.path.lstrip("/")
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            return self._send(404, b"not found", "text/plain")
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        modified = int(path.stat().st_mtime)
        if self.headers.get("If-None-Match") == etag or (
            self.headers.get("If-None-Match") is None
            and self.headers.get("If-Modified-Since")
            and parsedate_to_datetime(self.headers["If-Modified-Since"]).timestamp() >= modified
        ):
            return self._send(304, b"", None, etag=etag)
        content_type = guess_type(path.name)[0] or "application/octet-stream"
        self._send(200, body, content_type, etag=etag, last_modified=formatdate(modified, usegmt=True))

    def _send(self, status, body, content_type, etag=None, last_modified=None):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if etag:
            self.send_header("ETag", etag)
        if last_modified:
            self.send_header("Last-Modified", last_modified)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def log_message(self, *args):
        pass


class SiteServer(ThreadingHTTPServer):
    def __init__(self, root: Path):
        super().__init__(("127.0.0.1", 0), SiteHandler)
        self.root = root
        self.requests: list[str] = []
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def site(tmp_path):
    """A copy of the fixture site (so tests may change files) served on a free port."""
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    rows = "".join(f"01/01/2025,Supplier {i:05d} Limited,{500 + i}.00\r\n" for i in range(2000))
    (root / "council/spend/files/spend-big.csv").write_text("Date,Supplier,Amount\r\n" + rows, encoding="utf-8")
    assert (root / "council/spend/files/spend-big.csv").stat().st_size > MAX_FILE_BYTES
    server = SiteServer(root)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def sources(site, tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(
        "councils:\n"
        "  BIR:\n"
        f"    landing_pages: ['{site.base_url}/council/spend/']\n"
        f"    ckan: [{{base_url: '{site.base_url}/ckan', dataset_ids: [testshire-spend]}}]\n",
        encoding="utf-8",
    )
    return path


def crawl(sources: Path, out: Path, run_id: str, *extra: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "COUNCILSPEND_DOWNLOAD_DELAY": "0",
        "COUNCILSPEND_AUTOTHROTTLE": "0",
        "COUNCILSPEND_CONCURRENCY": "8",
        "COUNCILSPEND_MAX_FILE_BYTES": str(MAX_FILE_BYTES),
    }
    command = [sys.executable, "-m", "crawler.run", "--sources", str(sources), "--out", str(out), "--run-id", run_id]
    return subprocess.run(
        [*command, "--log-file", str(out / f"{run_id}.log"), *extra],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def manifest(out: Path) -> dict[str, dict]:
    return {row["url"]: row for row in pq.read_table(out / "files.parquet").to_pylist()}


def raw_files(out: Path) -> list[Path]:
    return sorted(p for p in (out / "raw").rglob("*") if p.is_file())


def test_first_crawl_stores_records_and_respects_robots(site, sources, tmp_path):
    out = tmp_path / "out"
    result = crawl(sources, out, "run1")
    assert result.returncode == 0, result.stderr + (out / "run1.log").read_text()
    base = site.base_url
    files = manifest(out)
    spend = f"{base}/council/spend/files/spend-2025-03.csv"
    copy = f"{base}/council/spend/download/spend-2025-03-copy"
    ok = {
        spend,
        copy,
        f"{base}/council/spend/download/spend-feb-2025",
        f"{base}/council/spend/files/spend-2025-03.pdf",
        f"{base}/council/spend/files/gpc-2025-03.xlsx",
        f"{base}/council/spend/2024-25/files/spend-2024-04.csv",
        f"{base}/council/spend/files/grants-2024-25.csv",
        f"{base}/ckan/files/spend-2025-01.csv",
    }
    failed = {
        f"{base}/council/spend/files/spend-2025-01.csv": "HTTP 404",
        f"{base}/broken/spend-2024-12.csv": "HTTP 500",
        f"{base}/private/spend-2024-11.csv": "robots.txt",
        f"{base}/council/spend/files/spend-big.csv": "too large",
        f"{base}/ckan/files/missing.csv": "HTTP 404",
    }
    assert set(files) == ok | set(failed)

    # every original stored once, under its sha256 and sniffed extension
    for url in ok:
        row = files[url]
        body = (site.root / urlsplit(url).path.lstrip("/")).read_bytes()
        assert row["sha256"] == hashlib.sha256(body).hexdigest()
        assert row["size"] == len(body) and row["http_status"] == 200 and row["error"] is None
        path = out / "raw" / row["sha256"][:2] / f"{row['sha256']}.{row['format']}"
        assert path.read_bytes() == body
        assert row["first_seen_at"] is not None and row["fetched_at"] is not None and row["etag"]
    assert files[spend]["sha256"] == files[copy]["sha256"]
    assert len(raw_files(out)) == len(ok) - 1  # the copy shares its original

    # formats from the bytes; datasets and periods from the links
    assert files[f"{base}/council/spend/download/spend-feb-2025"]["format"] == "csv"
    assert files[f"{base}/council/spend/files/gpc-2025-03.xlsx"]["format"] == "xlsx"
    assert files[f"{base}/council/spend/files/gpc-2025-03.xlsx"]["dataset"] == "purchase_card"
    assert files[f"{base}/council/spend/files/spend-2025-03.pdf"]["format"] == "pdf"
    assert files[f"{base}/council/spend/files/grants-2024-25.csv"]["dataset"] == "grants"
    assert str(files[spend]["period_start"]) == "2025-03-01" and str(files[spend]["period_end"]) == "2025-03-31"
    assert files[spend]["landing_url"] in (f"{base}/council/spend/", f"{base}/council/spend/2024-25/")
    assert (
        files[f"{base}/council/spend/2024-25/files/spend-2024-04.csv"]["landing_url"]
        == f"{base}/council/spend/2024-25/"
    )
    assert files[f"{base}/ckan/files/spend-2025-01.csv"]["landing_url"] == f"{base}/ckan/dataset/testshire-spend"
    assert files[f"{base}/ckan/files/spend-2025-01.csv"]["dataset"] == "spend_over_500"
    assert {row["council_code"] for row in files.values()} == {"BIR"}

    # failures are rows with a reason; robots.txt was obeyed; the unrelated page was not followed
    for url, reason in failed.items():
        assert files[url]["sha256"] is None and files[url]["error"], url
        assert reason in files[url]["error"], (url, files[url]["error"])
    assert files[f"{base}/council/spend/files/spend-2025-01.csv"]["http_status"] == 404
    assert "/private/spend-2024-11.csv" not in site.requests
    assert "/robots.txt" in site.requests
    assert "/other/about.html" not in site.requests

    stats = json.loads((out / "_crawl/run1/stats.json").read_text())
    assert stats["files"] == {"new": len(ok), "failed": len(failed)}
    assert stats["responses_by_status"]["200"] >= len(ok) + 4  # files plus landing, year, page 2, CKAN pages
    assert stats["requests"] == len(site.requests)
    assert stats["bytes"] > 0


@pytest.mark.slow
def test_second_crawl_downloads_nothing_and_a_changed_file_is_parsed_again(site, sources, tmp_path):
    out = tmp_path / "out"
    assert crawl(sources, out, "run1").returncode == 0
    first = manifest(out)
    raw_before = raw_files(out)

    # the normaliser has parsed everything fetched
    table = pq.read_table(out / "files.parquet")
    parsed = table.to_pylist()
    for row in parsed:
        if row["sha256"]:
            row.update(parse_status="ok", rows=2, rows_rejected=0, columns_mapped=["amount"])
    pq.write_table(type(table).from_pylist(parsed, schema=table.schema), out / "files.parquet")

    site.requests.clear()
    result = crawl(sources, out, "run2")
    assert result.returncode == 0, result.stderr
    stats = json.loads((out / "_crawl/run2/stats.json").read_text())
    fetched = [url for url, row in first.items() if row["sha256"]]
    assert stats["files"] == {"unchanged": len(fetched), "failed": len(first) - len(fetched)}
    assert stats["responses_by_status"]["304"] == len(fetched)
    assert raw_files(out) == raw_before
    second = manifest(out)
    for url in fetched:
        assert second[url]["http_status"] == 304
        assert second[url]["sha256"] == first[url]["sha256"]
        assert second[url]["parse_status"] == "ok" and second[url]["rows"] == 2
        assert second[url]["first_seen_at"] == first[url]["first_seen_at"]
        assert second[url]["last_seen_at"] > first[url]["last_seen_at"]

    # the council republishes March with one more row
    changed_path = site.root / "council/spend/files/spend-2025-03.csv"
    changed_path.write_bytes(changed_path.read_bytes() + b"31/03/2025,Late Invoice Ltd,501.00\r\n")
    assert crawl(sources, out, "run3").returncode == 0
    third = manifest(out)
    url = f"{site.base_url}/council/spend/files/spend-2025-03.csv"
    assert third[url]["sha256"] == hashlib.sha256(changed_path.read_bytes()).hexdigest()
    assert third[url]["parse_status"] is None and third[url]["rows"] is None and third[url]["columns_mapped"] is None
    assert third[url]["first_seen_at"] == first[url]["first_seen_at"]
    copy = f"{site.base_url}/council/spend/download/spend-2025-03-copy"
    assert third[copy]["parse_status"] == "ok"  # same URL, same bytes: keeps its parse results
    assert len(raw_files(out)) == len(raw_before) + 1
    stats = json.loads((out / "_crawl/run3/stats.json").read_text())
    assert stats["files"]["changed"] == 1 and stats["files"]["unchanged"] == len(fetched) - 1

    # merging a run again changes nothing
    again, _ = merge_crawl(Layout(out), "run3", stats)
    assert (again.changed, again.unchanged) == (1, len(fetched) - 1)
    assert manifest(out) == third

    # a lost original is downloaded again rather than revalidated
    lost = out / "raw" / third[url]["sha256"][:2] / f"{third[url]['sha256']}.csv"
    lost.unlink()
    fourth = json.loads(crawl(sources, out, "run4").stdout)
    assert lost.read_bytes() == changed_path.read_bytes()
    assert fourth["responses_by_status"]["304"] == len(fetched) - 1
    assert fourth["files"] == {"unchanged": len(fetched), "failed": len(first) - len(fetched)}


def test_council_filter_and_bad_config(site, sources, tmp_path):
    out = tmp_path / "out"
    unknown = crawl(sources, out, "bad", "--councils", "BIR,XYZ")
    assert unknown.returncode == 2
    assert "XYZ" in unknown.stderr and "Traceback" not in unknown.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("councils: [not, a, mapping]\n", encoding="utf-8")
    bad = crawl(broken, out, "bad2")
    assert bad.returncode == 2 and "councils" in bad.stderr and "Traceback" not in bad.stderr
    missing = crawl(tmp_path / "nope.yaml", out, "bad3")
    assert missing.returncode == 2 and "nope.yaml" in missing.stderr
    assert not site.requests


def test_run_crawl_applies_scrapy_setting_overrides(site, sources, tmp_path):
    """The hook a distributed (Redis) crawl would use: per-run Scrapy settings."""
    out = tmp_path / "out"
    script = (
        "import sys; from pathlib import Path; from crawler.run import run_crawl; "
        "stats = run_crawl(Path(sys.argv[1]), Path(sys.argv[2]), 'open', None, Path(sys.argv[3]), "
        "settings={'ROBOTSTXT_OBEY': False}); print(stats['manifest']['new'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(sources), str(out), str(tmp_path / "open.log")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COUNCILSPEND_DOWNLOAD_DELAY": "0", "COUNCILSPEND_AUTOTHROTTLE": "0"},
    )
    assert result.returncode == 0, result.stderr
    private = manifest(out)[f"{site.base_url}/private/spend-2024-11.csv"]
    assert private["http_status"] == 200 and private["sha256"] and private["error"] is None
    assert "/private/spend-2024-11.csv" in site.requests and "/robots.txt" not in site.requests
    assert int(result.stdout.split()[-1]) == 10  # the 8 files of the first test, the private one and the big one
