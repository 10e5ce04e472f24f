"""``councilspend serve --cron``: a real Prefect deployment that runs on its schedule, then stops cleanly.

The command starts its own local Prefect server (no ``PREFECT_API_URL``), serves the national flow
every 10 seconds against a one-council mock web, and is stopped with SIGTERM as a service manager
would stop it, after two scheduled runs have written their outputs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import pytest

from mockweb.generate import generate
from mockweb.server import MockWeb

pytestmark = pytest.mark.slow  # a Prefect server's start (database migrations) and two national runs

REPO = Path(__file__).resolve().parents[1]


def crawl_runs(out: Path) -> int:
    runs = out / "runs.parquet"
    if not runs.exists():
        return 0
    return sum(flow == "publish" for flow in pq.read_table(runs, columns=["flow"]).column("flow").to_pylist())


def test_serve_runs_the_national_flow_on_schedule_and_stops_cleanly(tmp_path):
    site = generate(tmp_path / "web", councils=1)
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2",  # schedule new runs promptly
        COUNCILSPEND_DOWNLOAD_DELAY="0",
        COUNCILSPEND_AUTOTHROTTLE="0",
    )
    with MockWeb(site.root, council_hosts=True) as web:
        sources = tmp_path / "sources.yaml"
        sources.write_text(site.sources_yaml(web.base_url, web.council_base_urls()), encoding="utf-8")
        command = [sys.executable, "-m", "flows.cli", "serve", "--cron", "* * * * * */10", "--out", str(out)]
        command += ["--sources", str(sources), "--council-retries", "0", "--name", "test"]
        serving = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        process = psutil.Process(serving.pid)
        helpers: set[int] = set()
        try:
            deadline = time.monotonic() + 240
            while crawl_runs(out) < 2 and time.monotonic() < deadline and serving.poll() is None:
                helpers |= {p.pid for p in process.children(recursive=True)}
                time.sleep(1)
            assert crawl_runs(out) >= 2, "no two scheduled runs within 4 minutes"
            serving.send_signal(signal.SIGTERM)
            output, _ = serving.communicate(timeout=90)
        finally:
            if serving.poll() is None:
                serving.kill()
                serving.communicate()
    assert serving.returncode == 0, output[-3000:]
    assert "Pausing all deployments" in output and output.rstrip().endswith("stopped")
    left = [pid for pid in helpers if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert left == [], "the local Prefect server or a flow run outlived serve"
    crawls = pq.read_table(out / "runs.parquet").to_pylist()
    started = sorted(r["started_at"] for r in crawls if r["flow"] == "crawl")
    assert len(started) >= 2 and (started[1] - started[0]).total_seconds() >= 5  # on the schedule, not back to back
    assert (out / "report" / "index.html").is_file() and (out / "councilspend.duckdb").is_file()
