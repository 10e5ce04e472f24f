"""Run one crawl: every spider for the chosen councils in one Scrapy process.

    python -m crawler.run --sources FILE --out DIR --run-id ID [--councils BIR,MAN] [--log-file F]

Twisted's reactor cannot be restarted, so callers that crawl more than once per
process (the Prefect flows) run this module with ``sys.executable -m crawler.run``.
Outputs, under ``<out>``: originals in ``raw/``, the run's items, pages and
``stats.json`` in ``_crawl/<run_id>/``, the merged manifest ``files.parquet`` and the
pages table ``pages.parquet``.

Exit status: 0 when the crawl ran (failed files are recorded, not fatal), 2 when
it could not start (bad sources config, unknown council, bad run id).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from twisted.internet.defer import Deferred

from crawler.selection import CrawlPlan, plan_crawl
from crawler.spiders.ckan import CkanSpider
from crawler.spiders.fallback import FallbackSpider
from crawler.spiders.landing import LandingPageSpider
from normalise.fallback import FallbackError
from normalise.sources import SourcesError
from normalise.store.atomic import write_json
from normalise.store.layout import Layout
from pipelines.manifest import update_manifest
from pipelines.pages import update_pages

SPIDERS = (LandingPageSpider, CkanSpider)  # configured councils; FallbackSpider finds the others
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


class CrawlConfigError(ValueError):
    """The crawl cannot start: its configuration is wrong."""


def run_crawl(
    sources: Path | None,
    out: Path,
    run_id: str,
    councils: list[str] | None = None,
    log_file: Path | None = None,
    settings: dict | None = None,
) -> dict:
    """Crawl, write ``stats.json``, merge the run into ``files.parquet``; returns the stats.

    ``settings`` overrides Scrapy settings for this run (for example a Redis
    scheduler for a distributed crawl). Raises :class:`CrawlConfigError` before any
    request when the config is unusable.
    """
    if not _RUN_ID.match(run_id):
        raise CrawlConfigError(f"run id {run_id!r} must be letters, digits, '.', '_', ':' or '-'")
    plan = _plan(sources, councils)
    out = Path(out)
    scrapy_settings = _scrapy_settings(out, run_id, log_file, settings or {})
    Layout(out).crawl_run(run_id).mkdir(parents=True, exist_ok=True)
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    process = CrawlerProcess(scrapy_settings)
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
    started = time.monotonic()
    process.start()
    stats = crawl_stats([crawler.stats.get_stats() for crawler in crawlers], time.monotonic() - started)
    stats["councils"] = len(plan.codes)
    stats["run_id"] = run_id
    write_json(Layout(out).crawl_run(run_id) / "stats.json", stats)
    stats["manifest"] = asdict(update_manifest(out, run_id))
    stats["pages"] = asdict(update_pages(out, run_id))
    return stats


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
        "bytes": int(total["downloader/response_bytes"]),
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
    parser.add_argument("--run-id", required=True, help="id of this run (names _crawl/<run_id>/)")
    parser.add_argument("--councils", help="comma-separated council codes (default: every configured council)")
    parser.add_argument("--log-file", type=Path, help="write Scrapy's log here instead of stderr")
    args = parser.parse_args(argv)
    councils = [c for c in args.councils.split(",") if c.strip()] if args.councils else None
    try:
        stats = run_crawl(args.sources, args.out, args.run_id, councils, args.log_file)
    except CrawlConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
