"""Crawl flow: run the Scrapy crawl in a subprocess; it stores the files and merges the manifest.

Scrapy's Twisted reactor cannot be restarted inside one process, so every crawl runs as
``python -m crawler.run`` (NOTES.md: "Scrapy inside Prefect").
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from prefect import flow, get_run_logger, task

from flows.runs import RunRecord, append_run
from normalise.store.layout import Layout


class CrawlFailed(RuntimeError):
    """The crawler process could not run (bad config, crash)."""


@task
def run_crawler(sources: Path, out: Path, run_id: str, councils: list[str] | None) -> dict:
    """Run one crawl in a subprocess and return its stats (the last line it prints, as JSON)."""
    log_file = Layout(out).crawl_run(run_id) / "crawl.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "crawler.run",
        "--sources",
        str(sources),
        "--out",
        str(out),
        "--run-id",
        run_id,
        "--log-file",
        str(log_file),
    ]
    if councils:
        cmd += ["--councils", ",".join(councils)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        message = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        raise CrawlFailed(f"crawl failed: {message} (log: {log_file})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


@flow(name="crawl")
def crawl_flow(out: Path, sources: Path, councils: list[str] | None = None) -> RunRecord:
    """Crawl the configured councils into ``out`` and record the run."""
    logger = get_run_logger()
    record = RunRecord(flow="crawl")
    stats = run_crawler(Path(sources), Path(out), record.run_id, councils)
    update = stats["manifest"]
    record.requests = int(stats.get("requests", 0))
    record.bytes_downloaded = int(stats.get("bytes", 0))
    record.errors = int(stats.get("errors", 0))
    record.files_new, record.files_changed = update["new"], update["changed"]
    record.files_unchanged, record.files_failed = update["unchanged"], update["failed"]
    append_run(Path(out), record)
    logger.info(
        "crawl %s: %d requests, %d new, %d changed, %d unchanged, %d failed files",
        record.run_id,
        record.requests,
        record.files_new,
        record.files_changed,
        record.files_unchanged,
        record.files_failed,
    )
    return record
