"""Crawl flow: run the Scrapy crawl in a subprocess, then retry the councils whose sites did not answer.

Scrapy's Twisted reactor cannot be restarted inside one process, so every crawl runs as
``python -m crawler.run`` (NOTES.md: "Scrapy inside Prefect"); it stores the files and merges the
manifest and the pages table. A council none of whose entry pages could be read is crawled again
after ``retry_delay`` seconds, with the others still unreachable and no one else, up to
``council_retries`` times (each a crawler task of its own); the others are not fetched twice.
Progress is shown while the crawler runs.

With a Redis URL the crawl is shared by every process started with the same crawl name
(:mod:`crawler.distributed`): the first to join leads (it holds the folder, merges everyone's logs,
retries unreachable councils on its own afterwards and records the run); the others follow (no
lock, no record: their figures go to the leader).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from prefect import flow, get_run_logger, task

from crawler.distributed import CRAWL_NAME_ENV, REDIS_URL_ENV, Member, config_digest, join
from flows.progress import CrawlProgress
from flows.runs import RunRecord, append_run
from normalise.store.folder import open_folder
from normalise.store.layout import Layout
from normalise.store.lock import inheritance
from normalise.store.manifest import OUTCOMES

#: Seconds between looks at the crawler's output while it runs.
POLL_SECONDS = 0.5


class CrawlFailed(RuntimeError):
    """The crawler process could not run (bad config, crash)."""


@dataclass(frozen=True)
class CrawlResult:
    """A crawl's figures (the row it added to runs.parquet) and the crawler runs it took."""

    record: RunRecord
    run_ids: tuple[str, ...]
    #: One process of a distributed crawl that another leads: its figures, not recorded in runs.parquet.
    follower: bool = False


@task
def run_crawler(
    sources: Path, out: Path, run_id: str, councils: list[str] | None, member: Member | None = None
) -> dict:
    """Run one crawl in a subprocess and return its stats (the last line it prints, as JSON).

    The subprocess inherits this process's hold on the folder's lock and dies with it; with
    ``member`` it is that process of a distributed crawl.
    """
    layout = Layout(out)
    log_file = layout.crawl_log(run_id)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "crawler.run", "--sources", str(sources), "--out", str(out)]
    cmd += ["--run-id", run_id, "--log-file", str(log_file)]
    if councils:
        cmd += ["--councils", ",".join(councils)]
    handover, fds = inheritance(layout)
    if member is not None:
        cmd += ["--crawl-name", member.name, "--worker", str(member.worker)]
        cmd += ["--leader"] if member.leader else []
        handover = handover | {REDIS_URL_ENV: member.url}  # not on the command line: it may carry a password
    with CrawlProgress(layout, run_id, councils) as progress:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ | handover,
            pass_fds=fds,
        )
        while proc.poll() is None:
            progress.update()
            time.sleep(POLL_SECONDS)
        stdout, stderr = proc.communicate()
        progress.update()
    if proc.returncode != 0:
        message = (stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        raise CrawlFailed(f"crawl failed: {message} (log: {log_file})")
    return json.loads(stdout.strip().splitlines()[-1])


@flow(name="crawl")
def crawl_flow(
    out: Path,
    sources: Path,
    councils: list[str] | None = None,
    council_retries: int = 2,
    retry_delay: float = 300,
    redis_url: str | None = None,
    crawl_name: str | None = None,
    follow: bool = False,
) -> CrawlResult:
    """Crawl the councils into ``out``, retry the unreachable ones, and record the run.

    ``redis_url`` (default: ``$COUNCILSPEND_REDIS_URL``, so the national flow shares its crawl too)
    joins the distributed crawl ``crawl_name`` (default: ``$COUNCILSPEND_CRAWL_NAME``, else this
    week's, see :func:`crawler.distributed.join`); ``follow`` never leads it.
    """
    logger = get_run_logger()
    redis_url = redis_url or os.environ.get(REDIS_URL_ENV) or None
    member = None
    if redis_url:
        name = crawl_name or os.environ.get(CRAWL_NAME_ENV) or None
        member = join(redis_url, name, config_digest(sources, councils), lead=not follow)
        logger.info("crawl %s: this process is worker %d%s", member.name, member.worker, " (leader)" * member.leader)
    if member is not None and not member.leader:
        record = RunRecord(flow="crawl", run_id=member.run_id)
        _count(record, [run_crawler(Path(sources), Path(out), member.run_id, councils, member)], set())
        return CrawlResult(record, (member.run_id,), follower=True)
    record = RunRecord(flow="crawl", run_id=member.name if member else "")
    with open_folder(out, "crawl"):
        stats = [run_crawler(Path(sources), Path(out), member.run_id if member else record.run_id, councils, member)]
        unreachable = sorted(stats[0]["pages"]["unreachable"])
        for _ in range(council_retries):
            if not unreachable:
                break
            logger.info(
                "%d councils unreachable (%s); crawling them again in %.0f s",
                len(unreachable),
                ", ".join(unreachable),
                retry_delay,
            )
            time.sleep(retry_delay)
            stats.append(run_crawler(Path(sources), Path(out), RunRecord(flow="crawl").run_id, unreachable))
            unreachable = sorted(stats[-1]["pages"]["unreachable"])
        if unreachable:
            logger.warning("still unreachable after %d retries: %s", council_retries, ", ".join(unreachable))
        _count(record, stats, set(unreachable))
        append_run(Path(out), record)
    logger.info(
        "crawl %s: %d requests, %d new, %d changed, %d unchanged, %d failed files, %d councils unreachable",
        record.run_id,
        record.requests,
        record.files_new,
        record.files_changed,
        record.files_unchanged,
        record.files_failed,
        record.councils_unreachable,
    )
    return CrawlResult(record, tuple(run for s in stats for run in s.get("runs", [s["run_id"]])))


def _count(record: RunRecord, runs: list[dict], unreachable: set[str]) -> None:
    """The figures of the crawl (and its retries) in the run record."""
    for stats in runs:
        # a follower's figures are its crawler's own: the leader merges its log
        update = stats.get("manifest") or {outcome: stats["files"].get(outcome, 0) for outcome in OUTCOMES}
        record.requests += int(stats.get("requests", 0))
        record.bytes_downloaded += int(stats.get("bytes", 0))
        record.errors += int(stats.get("errors", 0))
        record.files_new += update["new"]
        record.files_changed += update["changed"]
        record.files_unchanged += update["unchanged"]
        record.files_failed += update["failed"]  # a retried council had no files in the attempt before
        record.pages_failed += int(stats["pages"]["failed"] if "pages" in stats else stats.get("pages_failed", 0))
    record.councils = int(runs[0].get("councils", 0))
    record.councils_unreachable = len(unreachable)
