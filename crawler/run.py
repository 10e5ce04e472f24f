"""Run one crawl: every spider for the chosen councils in one Scrapy process.

    python -m crawler.run --sources FILE --out DIR --run-id ID [--councils BIR,MAN] [--log-file F]
    python -m crawler.run --sources FILE --out DIR --redis URL [--crawl-name NAME] ...   (one of many processes)

Twisted's reactor cannot be restarted, so callers that crawl more than once per
process (the Prefect flows) run this module with ``sys.executable -m crawler.run``.
Outputs, under ``<out>``: originals in ``raw/``, the run's items (as they are stored), pages and
``stats.json`` in ``_crawl/<run_id>/``, the merged manifest ``files.parquet`` and the pages table
``pages.parquet`` (committed together).

The crawl holds the folder's run lock (or the one its parent hands down, see
:mod:`normalise.store.lock`); first it records what an interrupted crawl had stored, so those
files are revalidated, not downloaded again.

Exit status: 0 when the crawl ran (failed files are recorded, not fatal), 2 when
it could not start (bad sources config, unknown council, bad run id, folder in use by
another run), 1 when the output folder could not take more (a full disk).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from twisted.internet.defer import Deferred

from crawler.distributed import (
    CRAWL_NAME_ENV,
    LEADER_GONE,
    REDIS_URL_ENV,
    CoordinationError,
    Member,
    config_digest,
    join,
)
from crawler.download import BODY_BYTES, STORE_ERROR
from crawler.selection import CrawlPlan, plan_crawl
from crawler.spiders.ckan import CkanSpider
from crawler.spiders.fallback import FallbackSpider
from crawler.spiders.landing import LandingPageSpider
from normalise.fallback import FallbackError
from normalise.sources import SourcesError
from normalise.store.errors import naming
from normalise.store.folder import open_folder
from normalise.store.layout import Layout
from normalise.store.lock import FolderLocked
from normalise.store.manifest import merge_crawl
from normalise.store.pages import run_pages
from normalise.store.sync import mirror_of

SPIDERS = (LandingPageSpider, CkanSpider)  # configured councils; FallbackSpider finds the others
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


class CrawlConfigError(ValueError):
    """The crawl cannot start: its configuration is wrong."""


class StoreFull(OSError):
    """The output folder could not take more files; what was stored is recorded by the next run."""


def run_crawl(
    sources: Path | None,
    out: Path,
    run_id: str,
    councils: list[str] | None = None,
    log_file: Path | None = None,
    settings: dict | None = None,
    member: Member | None = None,
) -> dict:
    """Crawl, write ``stats.json``, merge the run into ``files.parquet``; returns the stats.

    ``settings`` overrides Scrapy settings for this run. ``member`` makes the process one of a
    distributed crawl (:mod:`crawler.distributed`): its logs go to ``member.run_id``; a follower
    crawls without the folder lock and leaves its log to the leader, which merges every process's
    log and returns the figures of the whole crawl. Raises :class:`CrawlConfigError` before any
    request when the config is unusable.
    """
    if member is not None:
        run_id, settings = member.run_id, {**member.settings(), **(settings or {})}
    if not _RUN_ID.match(run_id):
        raise CrawlConfigError(f"run id {run_id!r} must be letters, digits, '.', '_', ':' or '-'")
    plan = _plan(sources, councils)
    out = Path(out)
    scrapy_settings = _scrapy_settings(out, run_id, log_file, settings or {})
    if member is None:
        return _lead(scrapy_settings, sources, plan, out, run_id, log_file, None)
    with member.beating():
        if not member.leader:
            return _follow(
                member, lambda: _crawl_run(scrapy_settings, sources, plan, Layout(out), run_id, log_file), out
            )
        return _lead(scrapy_settings, sources, plan, out, run_id, log_file, member)


def _lead(
    settings: Settings,
    sources: Path | None,
    plan: CrawlPlan,
    out: Path,
    run_id: str,
    log_file: Path | None,
    member: Member | None,
) -> dict:
    """Crawl holding the folder, then merge the run's logs (and those of the other processes of a distributed crawl)."""
    with open_folder(out) as layout:
        if member is not None:
            member.ready()  # the folder is repaired and held: the followers may start
        stats = _crawl_run(settings, sources, plan, layout, run_id, log_file)
        merged = []
        if member is not None:
            # the others' logs first (a killed one's too, unless the folder's repair merged it already)
            for worker, figures in member.followers_stats().items():
                follower = member.run_of(worker)
                if layout.crawl_run(follower).is_dir() and not layout.crawl_stats(follower).exists():
                    merge_crawl(layout, follower, figures or {"run_id": follower, "interrupted": True})
                    merged.append(follower)
        files, pages = merge_crawl(layout, run_id, stats)
        stats["manifest"], stats["pages"] = asdict(files), asdict(pages)
        if member is not None:
            stats = whole_crawl(layout, stats, merged)
            member.done()
    return stats


def _crawl_run(
    settings: Settings, sources: Path | None, plan: CrawlPlan, layout: Layout, run_id: str, log_file: Path | None
) -> dict:
    """Run the spiders and sum their stats; the run's logs are left for the merge."""
    layout.crawl_run(run_id).mkdir(parents=True, exist_ok=True)
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        per_spider = _crawl(settings, sources, plan)
    except OSError as exc:  # Scrapy's own writes (its log file) fail without naming the file
        raise naming(exc, log_file or layout.root) from None
    stats = crawl_stats(per_spider, time.monotonic() - started)
    stats["councils"] = len(plan.codes)
    stats["run_id"] = run_id
    store_error = next((s[STORE_ERROR] for s in per_spider if s.get(STORE_ERROR)), None)
    if store_error:
        raise StoreFull(f"crawl stopped: {store_error} (what was stored is recorded by the next run)")
    if any(s.get(LEADER_GONE) for s in per_spider):
        raise CoordinationError(f"{run_id}: the crawl's leader stopped (what was stored is recorded by the next run)")
    return stats


def _follow(member: Member, crawl: Callable[[], dict], out: Path) -> dict:
    """A follower's part: wait for the leader, crawl, hand the figures over (also when the crawl failed)."""
    member.wait_until_ready()
    if mirror_of(Layout(out)) is not None and not member.beside_leader():
        # its originals and logs would stay in this machine's working copy, which nothing publishes
        raise CoordinationError(
            f"crawl {member.name}: a crawl into object storage is shared only by processes on its leader's "
            "machine for now; on other machines use a shared folder (README: Deploying on several machines)"
        )
    stats: dict = {"run_id": member.run_id, "failed": True}
    try:
        stats = crawl()
    finally:
        member.finished(stats)
    return stats


def whole_crawl(layout: Layout, leader: dict, followers: list[str]) -> dict:
    """The leader's stats with the merged figures of its followers' runs added: the whole distributed crawl."""
    runs = [leader, *(json.loads(layout.crawl_stats(run_id).read_text(encoding="utf-8")) for run_id in followers)]
    total = dict(leader)
    for name in ("requests", "bytes", "responses", "errors", "pages_failed", "items"):
        total[name] = sum(int(run.get(name, 0)) for run in runs)
    for name in ("responses_by_status", "files", "manifest"):
        counts: Counter[str] = Counter()
        for run in runs:
            counts.update(run.get(name) or {})
        total[name] = dict(sorted(counts.items()))
    pages = [page for run_id in [leader["run_id"], *followers] for page in run_pages(layout, run_id)]
    tried = {p["council_code"] for p in pages if p["entry"]}
    reached = {p["council_code"] for p in pages if p["entry"] and p["error"] is None}
    total["pages"] = {
        "read": sum(p["error"] is None for p in pages),
        "failed": sum(p["error"] is not None for p in pages),
        "councils": len({p["council_code"] for p in pages}),
        "unreachable": sorted(tried - reached),
    }
    total["runs"] = [leader["run_id"], *followers]
    return total


def _crawl(settings: Settings, sources: Path | None, plan: CrawlPlan) -> list[dict]:
    """Run the spiders that have something to crawl, one after another; returns each one's Scrapy stats."""
    process = CrawlerProcess(settings)
    where = str(sources) if sources else None
    jobs = [
        (spider, list(plan.configured))
        for spider in SPIDERS
        if any(getattr(source, spider.source_kind) for source in plan.configured.values())
    ]
    jobs += [(FallbackSpider, list(plan.unconfigured))] if plan.unconfigured else []
    crawlers = [process.create_crawler(spider) for spider, _ in jobs]
    _crawl_in_turn(
        process, [(crawler, {"sources": where, "councils": codes}) for crawler, (_, codes) in zip(crawlers, jobs)]
    )
    process.start()
    return [crawler.stats.get_stats() for crawler in crawlers]


def _crawl_in_turn(process: CrawlerProcess, jobs: list[tuple[Crawler, dict]]) -> None:
    """Start each crawl when the one before has finished.

    Each spider has its own downloader, so running them at once would let each of them send a
    host its two concurrent requests.
    """

    def start(index: int) -> Deferred | None:
        if index == len(jobs):
            return None
        crawler, arguments = jobs[index]
        return process.crawl(crawler, **arguments).addBoth(lambda _: start(index + 1))

    start(0)


def _plan(sources: Path | None, councils: list[str] | None) -> CrawlPlan:
    where = sources or "(bundled)"
    try:
        return plan_crawl(sources, councils)
    except KeyError as exc:
        raise CrawlConfigError(f"sources config {where}: an entry lacks the key {exc}") from None
    except (SourcesError, FallbackError, TypeError, AttributeError) as exc:
        raise CrawlConfigError(f"sources config {where}: {exc}") from None
    except OSError as exc:
        raise CrawlConfigError(f"cannot read sources config {where}: {exc.strerror or exc}") from None


def _scrapy_settings(out: Path, run_id: str, log_file: Path | None, overrides: dict) -> Settings:
    settings = Settings()
    try:
        settings.setmodule("crawler.settings", priority="project")
    except ValueError as exc:  # a COUNCILSPEND_* environment variable that is not a number
        raise CrawlConfigError(str(exc)) from None
    settings.setdict(overrides, priority="cmdline")
    settings.set("COUNCILSPEND_OUT", str(out), priority="cmdline")
    settings.set("COUNCILSPEND_RUN_ID", run_id, priority="cmdline")
    if log_file:
        settings.set("LOG_FILE", str(log_file), priority="cmdline")
    return settings


def crawl_stats(per_spider: list[dict], elapsed: float) -> dict:
    """Sum the Scrapy stats of the run's spiders into the numbers ``stats.json`` reports.

    >>> stats = crawl_stats([{"downloader/response_status_count/200": 2, "log_count/ERROR": 1},
    ...                      {"downloader/response_status_count/304": 1, "log_count/ERROR": 1}], 1.5)
    >>> stats["responses_by_status"], stats["errors"]
    ({'200': 2, '304': 1}, 1)
    """
    total: Counter[str] = Counter()
    for stats in per_spider:
        for key, value in stats.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            if key.startswith("log_count/"):
                # every crawler's log counter sees the whole process's log: count each line once
                total[key] = max(total[key], int(value))
            else:
                total[key] += int(value)
    status_prefix = "downloader/response_status_count/"
    outcome_prefix = "councilspend/files/"
    return {
        "requests": int(total["downloader/request_count"]),
        "bytes": int(total["downloader/response_bytes"] + total[BODY_BYTES]),
        "responses": int(total["downloader/response_count"]),
        "responses_by_status": {
            k[len(status_prefix) :]: int(v) for k, v in sorted(total.items()) if k.startswith(status_prefix)
        },
        "errors": int(total["log_count/ERROR"]),
        "pages_failed": int(total["councilspend/pages_failed"]),
        "items": int(total["item_scraped_count"]),
        "files": {k[len(outcome_prefix) :]: int(v) for k, v in sorted(total.items()) if k.startswith(outcome_prefix)},
        "elapsed": round(elapsed, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.run", description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, help="sources YAML (default: the bundled config)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--run-id", help="id of this run (names _crawl/<run_id>/); set by --redis otherwise")
    parser.add_argument("--councils", help="comma-separated council codes (default: every configured council)")
    parser.add_argument("--log-file", type=Path, help="write Scrapy's log here instead of stderr")
    parser.add_argument(
        "--redis",
        default=os.environ.get(REDIS_URL_ENV) or None,
        help=f"join a distributed crawl through this Redis server (default: ${REDIS_URL_ENV})",
    )
    parser.add_argument(
        "--crawl-name",
        default=os.environ.get(CRAWL_NAME_ENV) or None,
        help=f"the distributed crawl to join (default: ${CRAWL_NAME_ENV}, else the week's)",
    )
    parser.add_argument("--follow", action="store_true", help="with --redis: never lead, wait for a process that does")
    # set by a caller that has joined the crawl already (the crawl flow)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--leader", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not (args.run_id or args.redis):
        parser.error("--run-id is required (or --redis for a distributed crawl)")
    if args.worker and not (args.redis and args.crawl_name):
        parser.error(f"--worker needs --redis (or ${REDIS_URL_ENV}) and --crawl-name")
    # A log file on a full disk must not bury the one-line error under a traceback per log line.
    logging.raiseExceptions = False
    councils = [c for c in args.councils.split(",") if c.strip()] if args.councils else None
    try:
        member = None
        if args.redis:
            member = (
                Member(args.redis, args.crawl_name, args.worker, args.leader)
                if args.worker
                else join(args.redis, args.crawl_name, config_digest(args.sources, councils), lead=not args.follow)
            )
        stats = run_crawl(args.sources, args.out, args.run_id or "", councils, args.log_file, member=member)
    except (CrawlConfigError, FolderLocked, CoordinationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.filename}: {exc.strerror}" if exc.filename else f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
