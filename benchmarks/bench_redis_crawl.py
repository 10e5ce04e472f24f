"""A crawl shared through Redis by 1 and 2 crawler processes: ``python benchmarks/bench_redis_crawl.py``.

Options: ``[--councils 60] [--processes 1,2] [--repeat 2] [--latency 0,0.05] [--delay 0]``. Generates the mock web
(every council on its own loopback host), serves it from its own process, starts a real
``redis-server`` on a free loopback port, and for each process count runs that many
``python -m crawler.run --redis`` into a fresh folder (a new crawl name each time). Prints, per run:
wall seconds (first start to last exit, the leader's merge included), requests of the whole crawl,
requests per second, Redis commands per request, and each crawler process's CPU seconds (user +
system, from ``wait4``).

``--latency`` delays every answer of the mock web, as a real council server's would, and ``--delay``
is the crawler's download delay per host (``COUNCILSPEND_DOWNLOAD_DELAY``, shared by all processes;
AutoThrottle off). With neither, the crawl is bound by CPU (crawlers and mock web share this
machine's cores); with a delay (``--councils 8 --delay 0.25``) by per-host politeness: the
``floor`` column is the busiest host's requests (files and pages) times the delay, a wall time no
number of processes may beat. Two processes on a 2-core machine that also
runs the mock web and Redis are not a cluster: read the figures for what each process costs and
how the work splits, not as a speed-up to expect elsewhere.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import redis
from bench_crawl import LOOPBACK, REPO, _wait_for  # run from benchmarks/, as the README says
from bench_mockweb import _free_port

from mockweb.generate import generate
from mockweb.server import MockWeb


def _serve(root: str, port: int, latency: float) -> None:
    MockWeb(Path(root), port=port, council_hosts=True, latency=latency).serve_forever()


def shared_crawl(
    sources: Path, out: Path, redis_url: str, name: str, processes: int, delay: float
) -> tuple[float, list[float], dict]:
    """Wall seconds, CPU seconds of each crawler process and the leader's stats of one shared crawl."""
    env = os.environ | LOOPBACK | {"COUNCILSPEND_DOWNLOAD_DELAY": str(delay)}
    started = time.monotonic()
    running = []
    for i in range(processes):
        stdout = open(out.parent / f"{name}-{i}.out", "w+")  # noqa: SIM115 (read back below)
        cmd = [sys.executable, "-m", "crawler.run", "--sources", str(sources), "--out", str(out)]
        cmd += ["--redis", redis_url, "--crawl-name", name, "--log-file", str(out.parent / f"{name}-{i}.log")]
        running.append((subprocess.Popen(cmd, cwd=REPO, env=env, stdout=stdout, stderr=subprocess.STDOUT), stdout))
    cpu, results = [], []
    for proc, stdout in running:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        cpu.append(usage.ru_utime + usage.ru_stime)
        stdout.seek(0)
        text = stdout.read()
        if proc.returncode != 0:
            raise RuntimeError(f"crawler exited {proc.returncode}: {text[-2000:]}")
        results.append(json.loads(text.strip().splitlines()[-1]))
    wall = time.monotonic() - started
    return wall, cpu, next(r for r in results if "manifest" in r)


def politeness_floor(out: Path, delay: float) -> float:
    """Seconds the busiest host needs at one request per ``delay``: no number of processes goes below it."""
    import pyarrow.parquet as pq

    urls = [*pq.read_table(out / "files.parquet", columns=["url"]).column("url").to_pylist()]
    urls += pq.read_table(out / "pages.parquet", columns=["url"]).column("url").to_pylist()
    per_host = Counter(urlsplit(url).hostname for url in urls)
    return max(per_host.values()) * delay


def server_commands(port: int) -> int:
    """Commands the Redis server has run so far."""
    return int(redis.Redis(port=port).info("stats")["total_commands_processed"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--councils", type=int, default=60)
    parser.add_argument("--processes", default="1,2", help="comma-separated process counts")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--latency", default="0,0.05", help="comma-separated answer delays of the mock web (s)")
    parser.add_argument("--delay", type=float, default=0.0, help="the crawler's download delay per host (s)")
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is not installed (scripts/setup.sh installs it)")
    with tempfile.TemporaryDirectory(prefix="bench-redis-crawl-") as tmp:
        root = Path(tmp) / "mockweb"
        site = generate(root, councils=args.councils)
        redis_port = _free_port()
        redis_server = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--dir", tmp, "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        try:
            _wait_for(redis_port)
            print(
                f"{'councils':>8} {'latency':>7} {'delay':>5} {'procs':>5} {'wall s':>7} {'requests':>8} {'req/s':>6}"
                f" {'redis/req':>9} {'floor s':>7}  CPU s per process"
            )
            for latency in (float(x) for x in args.latency.split(",")):
                port = _free_port()
                server = multiprocessing.get_context("spawn").Process(
                    target=_serve, args=(str(root), port, latency), daemon=True
                )
                server.start()
                try:
                    _wait_for(port)
                    sources = Path(tmp) / "sources.yaml"
                    hosts = MockWeb(root, port=port, council_hosts=True).council_base_urls()  # addresses only
                    sources.write_text(site.sources_yaml(f"http://127.0.0.1:{port}", hosts), encoding="utf-8")
                    for attempt in range(args.repeat):
                        for processes in (int(x) for x in args.processes.split(",")):
                            name = f"bench-{latency}-{processes}-{attempt}"
                            out = Path(tmp) / name
                            before = server_commands(redis_port)
                            wall, cpu, stats = shared_crawl(
                                sources, out, f"redis://127.0.0.1:{redis_port}/0", name, processes, args.delay
                            )
                            print(
                                f"{args.councils:>8} {latency:>7.2f} {args.delay:>5.2f} {processes:>5} {wall:>7.1f} {stats['requests']:>8}"
                                f" {stats['requests'] / wall:>6.0f}"
                                f" {(server_commands(redis_port) - before) / stats['requests']:>9.1f}"
                                f" {politeness_floor(out, args.delay):>7.1f}"
                                f"  {' '.join(f'{c:.1f}' for c in cpu)}",
                                flush=True,
                            )
                            shutil.rmtree(out)
                finally:
                    server.terminate()
                    server.join()
        finally:
            redis_server.terminate()
            redis_server.wait()


if __name__ == "__main__":
    main()
