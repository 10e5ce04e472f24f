"""Record every file: what fetching it gave, and what changed since the manifest last saw it.

:class:`ManifestPipeline` describes each fetched file (sha256 and size as computed while it was
received, format sniffed from its first bytes), classifies it against the manifest as it stood
when the run began — ``new``, ``changed`` (another sha256), ``unchanged`` (304, or the same bytes)
or ``failed`` — and appends it to the run's log (:class:`normalise.store.crawl_log.CrawlLog`)
*before* the store pipeline moves its bytes into ``raw/``: every stored original is recorded, so
a killed crawl's files are known to the next one. After the crawl the store merges the log into
``files.parquet`` (:func:`normalise.store.manifest.merge_crawl`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.download import halt_on_store_error
from crawler.items import PageItem
from normalise.parsing.sniff import sniff_format
from normalise.store.crawl_log import CrawlLog
from normalise.store.errors import is_disk_full
from normalise.store.layout import Layout
from normalise.store.manifest import KnownFile, known_files
from normalise.store.raw import HEAD_BYTES

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.items import FileItem


def classify(item: FileItem, previous: KnownFile | None) -> str:
    """The outcome of one fetch compared with what the manifest knew.

    >>> from crawler.items import FileItem
    >>> known = KnownFile("ab", '"e1"', None, "csv", 10, "text/csv")
    >>> classify(FileItem("BIR", "http://x/a.csv", http_status=304), known)
    'unchanged'
    >>> classify(FileItem("BIR", "http://x/a.csv", http_status=200, sha256="cd"), known)
    'changed'
    >>> classify(FileItem("BIR", "http://x/b.csv", http_status=200, sha256="cd"), None)
    'new'
    >>> classify(FileItem("BIR", "http://x/a.csv", http_status=404), known)
    'failed'
    """
    if item.error or item.http_status is None or item.http_status >= 400:
        return "failed"
    if item.http_status == 304:
        return "unchanged" if previous and previous.sha256 else "failed"
    if previous is None or previous.sha256 is None:
        return "new"
    return "unchanged" if previous.sha256 == item.sha256 else "changed"


def describe_content(item: FileItem) -> None:
    """Fill sha256, size and format from the item's bytes (spooled, or in memory)."""
    if item.spooled is not None:
        item.sha256, item.size = item.spooled.sha256, item.spooled.size
        item.format = sniff_format(item.spooled.head)
    elif item.body is not None:
        item.sha256, item.size = hashlib.sha256(item.body).hexdigest(), len(item.body)
        item.format = sniff_format(item.body[:HEAD_BYTES])


class ManifestPipeline:
    """Item pipeline: describe and classify each file item and append it to the run's log."""

    def __init__(self, out_dir: Path, run_id: str, crawler: Crawler):
        self.layout = Layout(out_dir)
        self.log = CrawlLog(self.layout.crawl_items(run_id))
        self.crawler = crawler
        self.known: dict[str, KnownFile] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ManifestPipeline:
        settings = crawler.settings
        return cls(Path(settings["COUNCILSPEND_OUT"]), settings["COUNCILSPEND_RUN_ID"], crawler)

    def open_spider(self) -> None:
        self.known = known_files(self.layout)
        self.log.open()

    def close_spider(self) -> None:
        self.log.close()

    def process_item(self, item: FileItem | PageItem) -> FileItem | PageItem:
        if isinstance(item, PageItem):  # the pages pipeline records it
            return item
        previous = self.known.get(item.url)
        describe_content(item)
        item.outcome = classify(item, previous)
        if item.http_status == 304 and previous:
            for name in ("sha256", "format", "size", "content_type"):
                if getattr(item, name) is None:
                    setattr(item, name, getattr(previous, name))
        if item.outcome == "failed" and item.error is None:
            item.error = f"HTTP {item.http_status}" if item.http_status else "not fetched"
        self.crawler.stats.inc_value(f"councilspend/files/{item.outcome}")
        try:
            self.log.append(item.record())
        except OSError as exc:
            if is_disk_full(exc):
                halt_on_store_error(self.crawler, exc)
            raise
        return item
