"""Record every page read (or not) while looking for councils' files.

:class:`PagesPipeline` appends one JSON line per page item to the run's ``pages.jsonl``
(:class:`normalise.store.crawl_log.CrawlLog`); after the crawl the store merges them into
``pages.parquet`` with the run's files (:mod:`normalise.store.pages`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.items import PageItem
from normalise.store.crawl_log import CrawlLog
from normalise.store.layout import Layout

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class PagesPipeline:
    """Item pipeline: append each page item to the run's pages.jsonl (file items pass through)."""

    def __init__(self, out_dir: Path, run_id: str):
        self.log = CrawlLog(Layout(out_dir).crawl_pages(run_id))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PagesPipeline:
        settings = crawler.settings
        return cls(Path(settings["COUNCILSPEND_OUT"]), settings["COUNCILSPEND_RUN_ID"])

    def open_spider(self) -> None:
        self.log.open()

    def close_spider(self) -> None:
        self.log.close()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem):
            self.log.append(item.record())
        return item
