"""Downloader middleware: revalidate files we already hold instead of downloading them again."""

from __future__ import annotations

from pathlib import Path

from scrapy import Request
from scrapy.crawler import Crawler

from normalise.store.layout import Layout
from pipelines.manifest import KnownFile, known_files

#: Request meta key marking a request for a data file (not a page).
FILE_REQUEST = "councilspend_file"


class ConditionalGetMiddleware:
    """Send ``If-None-Match`` / ``If-Modified-Since`` for files already in the manifest.

    A server that supports them answers ``304 Not Modified`` with no body, so an
    unchanged file costs one small request. Only file requests are touched: pages
    are always read again to find new links. A file whose stored original has gone
    missing is downloaded again.
    """

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.known: dict[str, KnownFile] = known_files(out_dir)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalGetMiddleware:
        return cls(Path(crawler.settings["COUNCILSPEND_OUT"]))

    def process_request(self, request: Request) -> None:
        if not request.meta.get(FILE_REQUEST):
            return None
        known = self.known.get(request.url)
        if (
            known is None
            or not known.sha256
            or not Layout(self.out_dir).raw_file(known.sha256, known.format or "unknown").exists()
        ):
            return None
        if known.etag:
            request.headers.setdefault(b"If-None-Match", known.etag)
        if known.last_modified:
            request.headers.setdefault(b"If-Modified-Since", known.last_modified)
        return None
