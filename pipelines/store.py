"""Store each downloaded original once, addressed by its content.

``<out>/raw/<sha256[:2]>/<sha256>.<ext>``: the same bytes published at two URLs, or
downloaded on two runs, are one file on disk. The extension comes from the bytes
(:func:`normalise.parsing.sniff.sniff_format`), never from the URL.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from normalise.parsing.sniff import sniff_format
from normalise.store.atomic import write_bytes
from normalise.store.layout import Layout

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.items import FileItem

#: Bytes read to sniff the format.
SNIFF_BYTES = 8192


def store_original(out_dir: Path, body: bytes) -> tuple[str, str, Path]:
    """Write ``body`` under its sha256 unless it is already there; returns (sha256, format, path).

    The write is atomic: a reader never sees half a file, and a crash leaves no
    file under the final name.
    """
    sha256 = hashlib.sha256(body).hexdigest()
    fmt = sniff_format(body[:SNIFF_BYTES])
    path = Layout(out_dir).raw_file(sha256, fmt)
    if not path.exists():
        write_bytes(path, body)
    return sha256, fmt, path


class StoreOriginalPipeline:
    """Item pipeline: content-address the body of every fetched file, then drop the body."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoreOriginalPipeline:
        return cls(Path(crawler.settings["COUNCILSPEND_OUT"]))

    def process_item(self, item: FileItem) -> FileItem:
        body = getattr(item, "body", None)  # page items carry none
        if body is not None:
            item.sha256, item.format, _ = store_original(self.out_dir, body)
            item.size = len(body)
            item.body = None
        return item
