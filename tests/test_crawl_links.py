"""The crawl's link handling against a real HTTP server on 127.0.0.1: links with no file name.

A landing page lists asset-id links ("Download") whose month is in the table row. Their HEAD
answers decide: a Content-Disposition file name, a Content-Type, a server that refuses HEAD, a
web page in between (followed as a page), a Word document (not fetched). Non-HTTP links and a
guide beside the data are never requested.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[1]
CSV = b"Date,Supplier Name,Amount\r\n14/04/2025,Acme Ltd,600.00\r\n"
LANDING = """<!DOCTYPE html><html><head><title>Spending over £500</title></head><body><main>
<h1>Spending over £500</h1><table>
<tr><td>April 2025</td><td><a href="/asset?id=1">Download</a></td></tr>
<tr><td>May 2025</td><td><a href="/asset?id=2">Download</a></td></tr>
<tr><td>June 2025</td><td><a href="/asset?id=3">Download</a></td></tr>
<tr><td>July 2025</td><td><a href="/asset?id=4">Download</a></td></tr>
<tr><td>August 2025</td><td><a href="/asset?id=5">Download</a></td></tr>
</table>
<p><a href="javascript:fetch('/files/september-2025.csv')">September 2025 CSV</a>
<a href="mailto:data@council.example?subject=october-2025.csv">October 2025 CSV</a>
<a href="ftp://127.0.0.1/files/november-2025.csv">November 2025 CSV</a>
<a href="/files/spending-data-guide.pdf">Guide to the spending data (PDF)</a></p>
</main></body></html>"""
INTERSTITIAL = (
    b"<html><body><h1>Your download</h1><p>If it does not start, "
    b'<a href="/files/download.csv">use this link</a>.</p></body></html>'
)
#: path?query -> (HEAD status, headers, GET body)
ROUTES = {
    "/spend/": (200, {"Content-Type": "text/html; charset=utf-8"}, LANDING.encode()),
    "/asset?id=1": (
        200,
        {"Content-Type": "application/octet-stream", "Content-Disposition": 'attachment; filename="spend_2025_04.csv"'},
        CSV,
    ),
    "/asset?id=2": (200, {"Content-Type": "text/csv"}, CSV),
    "/asset?id=3": (405, {"Content-Type": "text/csv"}, CSV),  # refuses HEAD, serves GET
    "/asset?id=4": (200, {"Content-Type": "text/html; charset=utf-8"}, INTERSTITIAL),
    "/files/download.csv": (200, {"Content-Type": "text/csv"}, CSV),
    "/asset?id=5": (200, {"Content-Type": "application/msword"}, b"\xd0\xcf\x11\xe0 not data"),
    "/files/spending-data-guide.pdf": (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4"),
}


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_HEAD(self):  # noqa: N802 (http.server's naming)
        self._answer(head=True)

    def do_GET(self):  # noqa: N802
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        self.server.requests.append((self.command, self.path))
        if self.path == "/robots.txt":
            status, headers, body = 404, {}, b""
        else:
            status, headers, body = ROUTES.get(self.path, (404, {}, b"not found"))
        if not head and status == 405:
            status = 200
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[tuple[str, str]] = []
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def server():
    web = Server()
    thread = threading.Thread(target=web.serve_forever, daemon=True)
    thread.start()
    yield web
    web.shutdown()
    web.server_close()


def test_head_decides_links_without_a_file_name(server, tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"councils:\n  BIR:\n    landing_pages: ['{server.base_url}/spend/']\n", encoding="utf-8")
    out = tmp_path / "out"
    env = {"PATH": "/usr/bin:/bin", "COUNCILSPEND_DOWNLOAD_DELAY": "0", "COUNCILSPEND_AUTOTHROTTLE": "0"}
    command = [sys.executable, "-m", "crawler.run", "--sources", str(sources), "--out", str(out), "--run-id", "r1"]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr

    base = server.base_url
    files = {row["url"].removeprefix(base): row for row in pq.read_table(out / "files.parquet").to_pylist()}
    assert set(files) == {"/asset?id=1", "/asset?id=2", "/asset?id=3", "/files/download.csv"}
    periods = {url: str(row["period_start"]) for url, row in files.items()}
    assert periods == {
        "/asset?id=1": "2025-04-01",
        "/asset?id=2": "2025-05-01",
        "/asset?id=3": "2025-06-01",
        "/files/download.csv": "2025-07-01",  # from the row of the link that led to the page
    }
    assert all(row["format"] == "csv" and row["error"] is None for row in files.values())
    items = [json.loads(line) for line in (out / "_crawl/r1/items.jsonl").read_text().splitlines()]
    guesses = {item["url"].removeprefix(base): item["format_guess"] for item in items}
    assert guesses["/asset?id=1"] == "csv" and guesses["/asset?id=2"] == "csv"  # from the HEAD answer
    assert guesses["/asset?id=3"] == "unknown"  # HEAD refused: the GET's bytes decide

    asked = set(server.requests)
    assert {("HEAD", f"/asset?id={n}") for n in range(1, 6)} <= asked
    assert ("GET", "/asset?id=5") not in asked  # a Word document is not data
    assert not any("guide" in path or "2025.csv" in path for _, path in asked)  # nor the guide; no non-HTTP link
