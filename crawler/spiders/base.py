"""The base of every councilspend spider: council selection, file requests, file items.

Rules for spiders (the pipelines do the rest):

* a spider finds file links and fetches them; it yields one :class:`~crawler.items.FileItem`
  per file link, whatever happened (a 404, a timeout or a robots.txt refusal is an
  item with ``error`` set, so the manifest records it and the crawl goes on);
* it yields one :class:`~crawler.items.PageItem` per page it asks for (landing pages,
  sub-pages, portal calls, fallback lookups: requests whose meta comes from
  :meth:`BaseCouncilSpider.page_meta`), read or not, so a site that is down is on record,
  not only in the log;
* it never writes files, hashes content or reads the manifest: the pipelines store
  and record, :mod:`crawler.middlewares` revalidates.

Subclasses set the class attributes below and implement ``start``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import scrapy
from scrapy import exceptions as scrapy_errors
from scrapy.http import Response
from twisted.internet import error as net_error
from twisted.python.failure import Failure

from crawler.discovery import DiscoveredLink, format_from_headers, with_headers
from crawler.download import SPOOLED
from crawler.items import FileItem, PageItem
from crawler.middlewares import FAILURE_REASON, FILE_REQUEST, Refused
from normalise.sources import CouncilSource, SourcesError, load_sources

#: Statuses handed to ``parse_file`` rather than dropped: 304 and every error.
#: Redirects (3xx except 304) stay with Scrapy's redirect middleware.
FILE_STATUSES = [304, *range(400, 600)]
#: Statuses handed to ``parse_head``: every error (a server that refuses HEAD still serves GET).
HEAD_STATUSES = list(range(400, 600))


def select_sources(sources: dict[str, CouncilSource], councils: Iterable[str] | str | None) -> dict[str, CouncilSource]:
    """The configured councils to crawl: all of them, or the named ones (an unknown code is an error).

    >>> from normalise.sources import parse_sources
    >>> sources = parse_sources({"councils": {"BIR": {}, "MAN": {}}})
    >>> list(select_sources(sources, "man"))
    ['MAN']
    >>> select_sources(sources, ["XYZ"])
    Traceback (most recent call last):
    normalise.sources.SourcesError: no sources configured for council XYZ (configured: BIR, MAN)
    """
    if councils is None:
        return dict(sources)
    codes = [c.strip().upper() for c in (councils.split(",") if isinstance(councils, str) else councils)]
    missing = [code for code in codes if code and code not in sources]
    if missing:
        raise SourcesError(
            f"no sources configured for council {', '.join(missing)} (configured: {', '.join(sorted(sources))})"
        )
    return {code: sources[code] for code in codes if code}


def now() -> str:
    """The current UTC time as ISO 8601, the form items carry."""
    return datetime.now(UTC).isoformat()


class BaseCouncilSpider(scrapy.Spider):
    """Crawl the councils of a sources config.

    Spider arguments: ``sources`` (path of a sources YAML; the bundled config when
    omitted) and ``councils`` (codes, comma-separated or a list; every configured
    council when omitted).
    """

    #: Which part of a council's config this spider reads: a :class:`CouncilSource` field name.
    source_kind: str = ""

    def __init__(
        self, sources: str | Path | None = None, councils: Iterable[str] | str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        selected = select_sources(load_sources(Path(sources) if sources else None), councils)
        #: The selected councils that have something for this spider.
        self.councils = {code: s for code, s in selected.items() if getattr(s, self.source_kind)}

    def link_request(
        self,
        council_code: str,
        link: DiscoveredLink,
        landing_url: str,
        meta: dict | None = None,
        seen_at: str | None = None,
    ) -> scrapy.Request:
        """The request for a discovered link: the file itself, or first a HEAD when its format is unknown.

        A link with no file name (a CMS asset id, a download handler) is judged by its words;
        the HEAD answer's Content-Type and Content-Disposition then say what it serves. ``meta``
        travels with the HEAD (the landing spider's page depth). ``seen_at`` is when the link was
        first seen, when that was earlier than now (a CKAN resource listed on its dataset's page).
        """
        if link.format_guess != "unknown":
            return self.file_request(council_code, link, landing_url, seen_at)
        return scrapy.Request(
            link.url,
            method="HEAD",
            callback=self.parse_head,
            errback=self.head_failed,
            meta={
                **(meta or {}),
                "council_code": council_code,
                "link": link,
                "landing_url": landing_url,
                "link_seen_at": seen_at,
                "handle_httpstatus_list": HEAD_STATUSES,
            },
        )

    def parse_head(self, response: Response) -> Iterator[scrapy.Request]:
        """Fetch the file the HEAD answer describes; a web page is handed to :meth:`page_behind_link`."""
        link: DiscoveredLink = response.meta["link"]
        code, landing_url, seen_at = (
            response.meta["council_code"],
            response.meta["landing_url"],
            response.meta["link_seen_at"],
        )
        if response.status >= 400:  # some servers refuse HEAD: the GET decides, and records any error
            yield self.file_request(code, link, landing_url, seen_at)
            return
        fmt = format_from_headers(_header(response, b"Content-Type"), _header(response, b"Content-Disposition"))
        if fmt == "html":
            yield from self.page_behind_link(response, link)
        elif fmt == "document":
            self.crawler.stats.inc_value("councilspend/links_not_data")
            self.logger.info(
                "%s: %s serves a document, not data (%s)", code, link.url, _header(response, b"Content-Type")
            )
        else:
            disposition = _header(response, b"Content-Disposition")
            yield self.file_request(code, with_headers(link, fmt, disposition), landing_url, seen_at)

    def head_failed(self, failure: Failure) -> Iterator[FileItem]:
        """The item for a link whose HEAD request could not be made at all (the GET would fail alike)."""
        request = failure.request  # type: ignore[attr-defined]
        meta = request.meta
        item = self.file_item(meta["council_code"], meta["link"], meta["landing_url"], meta["link_seen_at"])
        item.fetched_at = now()
        item.error = describe_failure(failure)
        self.logger.warning("%s: %s (%s)", item.council_code, item.error, item.url)
        yield item

    def page_behind_link(self, response: Response, link: DiscoveredLink) -> Iterator[scrapy.Request]:
        """A link that looked like a file serves a web page: by default it is not followed."""
        self.logger.info("%s: %s is a web page, not a file", response.meta["council_code"], link.url)
        return iter(())

    def file_item(
        self, council_code: str, link: DiscoveredLink, landing_url: str, seen_at: str | None = None
    ) -> FileItem:
        """The item recording one discovered file link (seen now, unless ``seen_at`` says earlier)."""
        return FileItem(
            council_code=council_code,
            url=link.url,
            landing_url=landing_url,
            link_text=link.text,
            format_guess=link.format_guess,
            dataset=link.dataset,
            period_start=link.period_start,
            period_end=link.period_end,
            seen_at=seen_at or now(),
        )

    def file_request(
        self, council_code: str, link: DiscoveredLink, landing_url: str, seen_at: str | None = None
    ) -> scrapy.Request:
        """A request for one discovered file; its item travels in the request meta."""
        return scrapy.Request(
            link.url,
            callback=self.parse_file,
            errback=self.file_failed,
            meta={
                FILE_REQUEST: True,
                "item": self.file_item(council_code, link, landing_url, seen_at),
                "handle_httpstatus_list": FILE_STATUSES,
            },
        )

    def parse_file(self, response: Response) -> Iterator[FileItem]:
        """The item for a fetched file: its bytes on success, its status otherwise."""
        item: FileItem = response.meta["item"]
        item.fetched_at = now()
        item.http_status = response.status
        item.final_url = response.url if response.url != item.url else None
        item.etag = _header(response, b"ETag")
        item.last_modified = _header(response, b"Last-Modified")
        item.content_type = _header(response, b"Content-Type")
        if 200 <= response.status < 300:
            item.spooled = response.meta.get(SPOOLED)
            item.body = None if item.spooled else response.body
        elif response.status >= 400:
            item.error = response.meta.get(FAILURE_REASON) or f"HTTP {response.status}"
        yield item

    def file_failed(self, failure: Failure) -> Iterator[FileItem]:
        """The item for a file that could not be fetched at all."""
        item: FileItem = failure.request.meta["item"]  # type: ignore[attr-defined]
        item.fetched_at = now()
        item.error = describe_failure(failure)
        self.logger.warning("%s: %s (%s)", item.council_code, item.error, item.url)
        yield item

    @staticmethod
    def page_meta(council_code: str, kind: str, entry: bool, dataset: str | None = None) -> dict:
        """The meta of a request for a page, so that reading it or not ends as a :class:`PageItem`.

        ``kind`` is one of :data:`crawler.items.PAGE_KINDS`; ``entry`` says the page is a way in
        to the council's files (configured, or a fallback lookup) rather than one found on another.
        """
        return {"council_code": council_code, "page_kind": kind, "page_entry": entry, "dataset_hint": dataset}

    def lookup_request(
        self, council_code: str, url: str, callback: Any, *, kind: str, meta: dict | None = None, errback: Any = None
    ) -> scrapy.Request:
        """A request for an entry page that is not a landing page (a portal call, a fallback lookup).

        A custom ``errback`` must yield from :meth:`page_failed` to record the failure.
        """
        return scrapy.Request(
            url,
            callback=callback,
            errback=errback or self.page_failed,
            meta={**self.page_meta(council_code, kind, True), **(meta or {})},
        )

    def page_read(self, response: Response, files_found: int, error: str | None = None) -> PageItem:
        """The record of a page that answered (``error`` when its content was unusable)."""
        meta = response.meta
        self.crawler.stats.inc_value("councilspend/pages_read" if error is None else "councilspend/pages_failed")
        if error:
            self.logger.error("%s: %s: %s", meta["council_code"], response.url, error)
        first = (meta.get("redirect_urls") or [response.url])[0]
        return PageItem(
            council_code=meta["council_code"],
            url=first,
            kind=meta["page_kind"],
            entry=meta["page_entry"],
            dataset=meta.get("dataset_hint"),
            checked_at=now(),
            http_status=response.status,
            final_url=response.url if response.url != first else None,
            error=error,
            files_found=files_found,
        )

    def page_failed(self, failure: Failure) -> Iterator[PageItem]:
        """The record of a page that could not be read; logged too, and the crawl goes on."""
        request = failure.request  # type: ignore[attr-defined]
        meta = request.meta
        reason = describe_failure(failure)
        response = getattr(failure.value, "response", None)
        self.crawler.stats.inc_value("councilspend/pages_failed")
        self.logger.error("%s: could not read %s: %s", meta.get("council_code", "?"), request.url, reason)
        yield PageItem(
            council_code=meta["council_code"],
            url=(meta.get("redirect_urls") or [request.url])[0],
            kind=meta["page_kind"],
            entry=meta["page_entry"],
            dataset=meta.get("dataset_hint"),
            checked_at=now(),
            http_status=response.status if response is not None else None,
            error=reason,
        )


def describe_failure(failure: Failure) -> str:
    """A one-line reason for a failed request, the same words whatever Scrapy raised.

    >>> from twisted.python.failure import Failure
    >>> describe_failure(Failure(scrapy_errors.IgnoreRequest("Forbidden by robots.txt")))
    'forbidden by robots.txt'
    >>> describe_failure(Failure(scrapy_errors.DownloadTimeoutError("Getting x took longer than 5 seconds.")))
    'timed out'
    """
    error = failure.value
    request = getattr(failure, "request", None)
    reason = request.meta.get(FAILURE_REASON) if request is not None else None
    response = getattr(error, "response", None)
    if response is not None:
        return reason or f"HTTP {response.status}"
    if isinstance(error, Refused):
        return str(error)
    if isinstance(error, scrapy_errors.IgnoreRequest):
        return "forbidden by robots.txt" if "robots" in str(error).lower() else f"ignored: {error}"
    if isinstance(error, scrapy_errors.DownloadCancelledError):  # only the size limits cancel a download
        return f"too large: {error}" if str(error) else "too large: cancelled at the download size limit"
    if isinstance(error, (scrapy_errors.DownloadTimeoutError, net_error.TimeoutError, net_error.TCPTimedOutError)):
        return "timed out"
    if isinstance(error, (scrapy_errors.CannotResolveHostError, net_error.DNSLookupError)):
        return "connection failed: host not found"
    if isinstance(error, (scrapy_errors.DownloadConnectionRefusedError, net_error.ConnectionRefusedError)):
        return "connection failed: connection refused"
    if isinstance(error, scrapy_errors.ResponseDataLossError) or "dataloss" in str(error).lower():
        return "connection dropped before the end of the body"
    if isinstance(error, scrapy_errors.UnsupportedURLSchemeError | scrapy_errors.NotSupported):
        return f"not a web address: {error}"
    if "ResponseNeverReceived" in repr(error) or "ConnectionDone" in str(error):
        return "connection closed before any response"
    if isinstance(error, (net_error.ConnectionLost, net_error.ConnectionDone, scrapy_errors.DownloadFailedError)):
        return f"connection dropped: {error}".rstrip(": ")
    return f"{type(error).__name__}: {error}".rstrip(": ")


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
