"""Crawl throughput on the mock council web: ``python benchmarks/bench_crawl.py [--councils 50] [--repeat 2]``.

Generates the mock web, serves it from its own process (as a real site would be), and runs
``python -m crawler.run`` over every council twice into one folder: the first run downloads every
file, the second is answered by 304s. Prints wall seconds, requests, responses per second and the
crawler's peak memory for each. The crawler runs with the demo's loopback settings (no delay, no
AutoThrottle); politeness per host stays as configured.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from bench_mockweb import _free_port, _serve  # the mock web served from its own process

from mockweb.generate import generate
from mockweb.server import MockWeb

REPO = Path(__file__).resolve().parents[1]
LOOPBACK = {"COUNCILSPEND_DOWNLOAD_DELAY": "0", "COUNCILSPEND_AUTOTHROTTLE": "0"}


def _wait_for(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"mock web did not start on port {port}")


def crawl_once(sources: Path, out: Path, run_id: str, env: dict[str, str]) -> tuple[float, int, dict]:
    """Wall seconds, peak RSS of the crawler and its stats for one ``crawler.run``."""
    cmd = [sys.executable, "-m", "crawler.run", "--sources", str(sources), "--out", str(out), "--run-id", run_id]
    cmd += ["--log-file", str(out / f"{run_id}.log")]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watched, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.1)
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"crawl failed: {stderr[-2000:]}")
    return time.monotonic() - started, peak, json.loads(stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--councils", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=1, help="measure the pair of runs this many times")
    parser.add_argument("--concurrency", default=None, help="COUNCILSPEND_CONCURRENCY for the crawler")
    parser.add_argument("--one-host", action="store_true", help="serve every council on 127.0.0.1 only")
    args = parser.parse_args()
    env = dict(os.environ, **LOOPBACK)
    if args.concurrency:
        env["COUNCILSPEND_CONCURRENCY"] = args.concurrency
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        root = Path(tmp) / "mockweb"
        site = generate(root, councils=args.councils)
        port = _free_port()
        hosts = not args.one_host
        server = multiprocessing.get_context("spawn").Process(target=_serve, args=(str(root), port, hosts), daemon=True)
        server.start()
        try:
            _wait_for(port)
            sources = Path(tmp) / "sources.yaml"
            own = MockWeb(root, port=port, council_hosts=hosts).council_base_urls()  # addresses only, not served here
            sources.write_text(site.sources_yaml(f"http://127.0.0.1:{port}", own), encoding="utf-8")
            print(f"{'councils':>8} {'run':>6} {'seconds':>8} {'requests':>8} {'resp/s':>7} {'peak MiB':>8}")
            for _ in range(args.repeat):
                out = Path(tmp) / "out"
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir()
                for label in ("first", "second"):
                    seconds, peak, stats = crawl_once(sources, out, label, env)
                    rate = stats["responses"] / stats["elapsed"] if stats["elapsed"] else 0.0
                    print(
                        f"{args.councils:>8} {label:>6} {seconds:>8.1f} {stats['requests']:>8} {rate:>7.0f}"
                        f" {peak / 2**20:>8.0f}",
                        flush=True,
                    )
        finally:
            server.terminate()
            server.join()


if __name__ == "__main__":
    main()
