"""Store each downloaded original once, addressed by its content.

``<out>/raw/<sha256[:2]>/<sha256>.<ext>``: the same bytes published at two URLs, or
downloaded on two runs, are one file on disk. The extension comes from the bytes
(sniffed by the manifest pipeline, which runs first and records the file), never from
the URL. The move into ``raw/`` is atomic (:mod:`normalise.store.raw`): a reader never
sees half a file, and a crash leaves no file under the final name.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from crawler.download import halt_on_store_error
from crawler.items import PageItem
from normalise.store.errors import is_disk_full
from normalise.store.layout import Layout
from normalise.store.raw import put, put_bytes

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.items import FileItem


class StoreOriginalPipeline:
    """Item pipeline: move every recorded file's bytes into the raw store, then drop them from the item."""

    def __init__(self, out_dir: Path, crawler: Crawler):
        self.layout = Layout(out_dir)
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoreOriginalPipeline:
        return cls(Path(crawler.settings["COUNCILSPEND_OUT"]), crawler)

    def process_item(self, item: FileItem | PageItem) -> FileItem | PageItem:
        if isinstance(item, PageItem):  # pages carry no bytes
            return item
        fmt = item.format or "unknown"
        try:
            if item.spooled is not None:
                put(self.layout, item.spooled, fmt)
            elif item.body is not None:
                put_bytes(self.layout, item.body, fmt)
        except OSError as exc:
            if is_disk_full(exc):
                halt_on_store_error(self.crawler, exc)
            raise
        finally:
            item.spooled = item.body = None
        return item
