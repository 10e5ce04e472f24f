"""Files stream to disk while they download: memory stays flat however big they are, and limits hold.

A real HTTP server on 127.0.0.1 produces the bodies on the fly (nothing held in memory): a file of
160 MB, one sent chunked with no length, and a small gzip that inflates far past the size limit.
``python -m crawler.run`` crawls it in a child process whose peak memory is read from the kernel.
"""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[1]
LINE = b"01/01/2025,Streaming Supplier Limited,123.45\r\n"
BIG_LINES = 160 * 1024 * 1024 // len(LINE)
LIMIT = 50 * 1024 * 1024
#: Landing pages and the files they link to.
PAGES = {"/small/": ["small.csv"], "/big/": ["big.csv"], "/limits/": ["big.csv", "drip.csv", "bomb.csv"]}


HEADER = b"Date,Supplier,Amount\r\n"
BIG_SIZE = len(HEADER) + len(LINE) * BIG_LINES


def big_digest() -> str:
    """The big file's sha256, computed a block at a time as the server sends it."""
    digest = hashlib.sha256(HEADER)
    block = LINE * 20_000
    for _ in range(BIG_LINES // 20_000):
        digest.update(block)
    digest.update(LINE * (BIG_LINES % 20_000))
    return digest.hexdigest()


class Bodies(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers: connections can be reused
    connections = 0

    def setup(self) -> None:
        super().setup()
        type(self).connections += 1

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path.startswith("/many/f"):  # small files that revalidate: 304 when the ETag matches
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.send_header("ETag", '"v1"')
                self.end_headers()
                return None
            return self._send(200, HEADER + LINE, "text/csv", {"ETag": '"v1"'})
        if self.path == "/many/":
            links = "".join(f'<a href="/many/f{n}.csv">Spend {n} 2025 (CSV)</a>' for n in range(40))
            return self._send(200, f"<html><body>{links}</body></html>".encode(), "text/html")
        if self.path in PAGES:
            links = "".join(f'<a href="/spend/{n}">Spend {n} 2025 (CSV)</a>' for n in PAGES[self.path])
            return self._send(200, f"<html><body>{links}</body></html>".encode(), "text/html")
        if self.path == "/spend/small.csv":
            return self._send(200, HEADER + LINE * 10, "text/csv")
        if self.path == "/spend/big.csv":
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(BIG_SIZE))
            self.end_headers()
            self.wfile.write(HEADER)
            block = LINE * 20_000
            for _ in range(BIG_LINES // 20_000):
                self.wfile.write(block)
            self.wfile.write(LINE * (BIG_LINES % 20_000))
            return None
        if self.path == "/spend/drip.csv":  # no Content-Length: only the bytes received can stop it
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Connection", "close")
            self.end_headers()
            block = LINE * 20_000
            try:
                for _ in range(2 * LIMIT // len(block)):
                    self.wfile.write(block)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        if self.path == "/spend/bomb.csv":  # 0.4 MB on the wire, 400 MB once inflated
            return self._send(200, self.server.bomb, "text/csv", {"Content-Encoding": "gzip"})  # type: ignore[attr-defined]
        return self._send(404, b"not found", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def gzip_bomb(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
    chunk = b"0" * (1 << 20)
    parts = [compressor.compress(HEADER)]
    parts += [compressor.compress(chunk) for _ in range(size >> 20)]
    return b"".join(parts) + compressor.flush()


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Bodies)
    httpd.bomb = gzip_bomb(400 << 20)  # type: ignore[attr-defined]
    assert len(httpd.bomb) < 1 << 20  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


MEASURED = (
    "import resource, subprocess, sys\n"
    "result = subprocess.run(sys.argv[1:])\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, result.returncode)\n"
)
#: ``python -m crawler.run`` with Scrapy's own handler for every request: the defence removed.
STOCK = (
    "import sys; from crawler import run, settings\nsettings.DOWNLOAD_HANDLERS = {}\nsys.exit(run.main(sys.argv[1:]))\n"
)


def crawl(server: str, out: Path, page: str, limit: int, *, stock: bool = False) -> tuple[dict[str, dict], int]:
    """Crawl one landing page in a child; returns the manifest by file name and the crawler's peak RSS in KiB."""
    sources = out.with_suffix(".yaml")
    sources.write_text(f"councils:\n  BIR:\n    landing_pages: ['{server}{page}']\n", encoding="utf-8")
    env = {"COUNCILSPEND_DOWNLOAD_DELAY": "0", "COUNCILSPEND_MAX_FILE_BYTES": str(limit), "PATH": "/usr/bin:/bin"}
    arguments = ["--sources", str(sources), "--out", str(out), "--run-id", "r1", "--log-file", f"{out}.log"]
    crawler = ["-c", STOCK] if stock else ["-m", "crawler.run"]
    measured = subprocess.run(
        [sys.executable, "-c", MEASURED, sys.executable, *crawler, *arguments],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    peak, code = measured.stdout.split()[-2:]
    assert code == "0", measured.stderr + Path(f"{out}.log").read_text()
    files = {Path(row["url"]).name: row for row in pq.read_table(out / "files.parquet").to_pylist()}
    return files, int(peak)


def growth_mib(server: str, tmp_path: Path, *, stock: bool = False) -> tuple[dict, float]:
    """How much more memory crawling the 160 MB file takes than crawling a small one."""
    _, small = crawl(server, tmp_path / "small", "/small/", 300 << 20, stock=stock)
    files, big = crawl(server, tmp_path / "big", "/big/", 300 << 20, stock=stock)
    return files, (big - small) / 1024


def test_a_file_bigger_than_memory_allows_is_streamed_to_disk_and_hashed_on_the_way(server, tmp_path):
    files, growth = growth_mib(server, tmp_path)
    big = files["big.csv"]
    digest = big_digest()
    assert big["sha256"] == digest and big["size"] == BIG_SIZE and big["format"] == "csv"
    stored = tmp_path / "big" / "raw" / digest[:2] / f"{digest}.csv"
    assert stored.stat().st_size == big["size"]
    assert not any((tmp_path / "big" / "_work" / "incoming").glob("*"))  # spools moved or removed
    # holding the 160 MB body would add at least that much; streaming holds one chunk per download
    assert growth < 48, f"crawling the 160 MB file took {growth:.0f} MiB more than a small one"


def test_size_limits_hold_without_a_length_and_after_decompression(server, tmp_path):
    """A 160 MB file, a body with no length and a gzip bomb (0.4 MB inflating to 400 MB) all stop at 50 MB."""
    _, small = crawl(server, tmp_path / "small", "/small/", LIMIT)
    files, peak = crawl(server, tmp_path / "out", "/limits/", LIMIT)
    for name in ("big.csv", "drip.csv", "bomb.csv"):
        assert files[name]["sha256"] is None and "too large" in files[name]["error"], files[name]
    assert not any(p.is_file() for p in (tmp_path / "out" / "raw").rglob("*"))
    assert not any((tmp_path / "out" / "_work" / "incoming").glob("*"))
    assert (peak - small) / 1024 < 48


@pytest.mark.slow  # shows the defence matters: the same crawl with Scrapy's own handler for files
def test_without_streaming_the_same_crawl_holds_the_whole_file(server, tmp_path):
    files, growth = growth_mib(server, tmp_path, stock=True)
    assert files["big.csv"]["sha256"] == big_digest()
    assert growth > 150, f"crawling the 160 MB file took only {growth:.0f} MiB more"


def test_revalidated_files_reuse_their_connections(server, tmp_path):
    """A 304 (or an error page) is read to its end, so its connection serves the next request."""
    crawl(server, tmp_path / "many", "/many/", LIMIT)
    before = Bodies.connections
    files, _ = crawl(server, tmp_path / "many", "/many/", LIMIT)
    assert sum(1 for row in files.values() if row["http_status"] == 304) == 40
    assert Bodies.connections - before < 20, f"{Bodies.connections - before} connections for 40 revalidations"
