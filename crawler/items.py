"""What the spiders hand to the pipelines.

Spiders collect; pipelines check and store. A spider yields one :class:`FileItem`
per file link it found and tried to fetch, successful or not, and one :class:`PageItem`
per page it read or failed to read (landing pages, their sub-pages, portal API calls).
A fetched file's bytes arrive as ``spooled`` (streamed to disk by :mod:`crawler.download`),
or as ``body`` when Scrapy's own handler fetched them. The manifest pipeline records files
(then the store pipeline moves their bytes into the raw store and clears them), the pages
pipeline pages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import date

from normalise.store.raw import Spooled


@dataclass
class FileItem:
    """One file link of one council, with the outcome of fetching it."""

    council_code: str
    url: str
    final_url: str | None = None
    landing_url: str | None = None
    link_text: str | None = None
    format_guess: str | None = None
    dataset: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    seen_at: str | None = None
    fetched_at: str | None = None
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    format: str | None = None
    error: str | None = None
    outcome: str | None = None
    body: bytes | None = field(default=None, repr=False)
    spooled: Spooled | None = field(default=None, repr=False)

    def record(self) -> dict:
        """The item as a JSON-ready dict, without the bytes."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("body", "spooled")}
        for key in ("period_start", "period_end"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data


#: What a page is to the crawl: where the council's files are looked for.
PAGE_KINDS = ("landing", "subpage", "ckan_package", "ckan_search", "directory", "well_known")


@dataclass
class PageItem:
    """One page read (or not) while looking for a council's files: a landing page, a portal API call, ...

    ``kind`` is one of :data:`PAGE_KINDS`; ``entry`` says whether the page is a way in to the
    council's files (a configured landing page or portal dataset, or a fallback lookup) rather
    than a sub-page found on one. ``files_found`` counts the file links found on it.
    """

    council_code: str
    url: str
    kind: str
    entry: bool
    dataset: str | None = None
    checked_at: str | None = None
    http_status: int | None = None
    final_url: str | None = None
    error: str | None = None
    files_found: int = 0

    def record(self) -> dict:
        """The item as a JSON-ready dict."""
        return asdict(self)
