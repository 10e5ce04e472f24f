"""Downloader middlewares: revalidate what we hold, wait when a site asks, never be led off the web.

* :class:`ConditionalGetMiddleware` asks for files already in the manifest with
  ``If-None-Match`` / ``If-Modified-Since``, so an unchanged file costs a 304;
* :class:`RetryAfterMiddleware` answers a 429 or 503 by pausing every request to that host for
  as long as its ``Retry-After`` asks (within a cap), then retrying, a bounded number of times;
* :class:`RedirectGuardMiddleware` stops redirect loops early and refuses redirects that leave
  the web (``file:``, ``ftp:``) or lead from a public address to a private one, recording why.

A request these refuse fails with :class:`Refused`, whose message is what the manifest records.
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from time import monotonic
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.asyncio import CallLaterResult, call_later

from normalise.store.layout import Layout
from normalise.store.manifest import KnownFile, known_files
from normalise.store.sync import Originals

#: Request meta key marking a request for a data file (not a page).
FILE_REQUEST = "councilspend_file"
#: Request meta key holding a fuller reason than the status code for a failed response.
FAILURE_REASON = "councilspend_failure"

logger = logging.getLogger(__name__)


class Refused(IgnoreRequest):
    """A request the crawler chose not to make or follow; the message is the reason recorded."""


class ConditionalGetMiddleware:
    """Send ``If-None-Match`` / ``If-Modified-Since`` for files already in the manifest.

    A server that supports them answers ``304 Not Modified`` with no body, so an
    unchanged file costs one small request. Only file requests are touched: pages
    are always read again to find new links. A file whose stored original has gone
    missing is downloaded again.
    """

    def __init__(self, out_dir: Path):
        self.layout = Layout(out_dir)
        self.known: dict[str, KnownFile] = known_files(self.layout)
        self.originals = Originals(self.layout)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalGetMiddleware:
        return cls(Path(crawler.settings["COUNCILSPEND_OUT"]))

    def process_request(self, request: Request) -> None:
        if not request.meta.get(FILE_REQUEST):
            return None
        known = self.known.get(request.url)
        if known is None or not known.sha256 or not self.originals.has(known.sha256, known.format or "unknown"):
            return None
        if known.etag:
            request.headers.setdefault(b"If-None-Match", known.etag)
        if known.last_modified:
            request.headers.setdefault(b"If-Modified-Since", known.last_modified)
        return None


class RetryAfterMiddleware:
    """Wait out 429 Too Many Requests and 503 Service Unavailable, politely and within limits.

    The host's ``Retry-After`` (seconds or an HTTP date; without one,
    ``COUNCILSPEND_RETRY_AFTER_DEFAULT`` doubled on each retry) pauses *every* request to that
    host, not just the refused one, then the request is retried up to ``RETRY_TIMES``. A wait
    longer than ``COUNCILSPEND_RETRY_AFTER_MAX`` is not waited: the response is recorded as
    it is. After ``COUNCILSPEND_HOST_REFUSALS_MAX`` refusals in a row, the host's remaining
    requests in this run fail at once, so a 429 storm costs minutes, not hours; other hosts
    carry on meanwhile.
    """

    statuses = (429, 503)

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.max_wait = settings.getfloat("COUNCILSPEND_RETRY_AFTER_MAX", 300)
        self.default_wait = settings.getfloat("COUNCILSPEND_RETRY_AFTER_DEFAULT", 5)
        self.max_refusals = settings.getint("COUNCILSPEND_HOST_REFUSALS_MAX", 8)
        self.max_retries = settings.getint("RETRY_TIMES")
        self.refusals: dict[str, int] = {}
        self.paused_until: dict[str, float] = {}
        self._resumes: dict[str, CallLaterResult] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        host = _host(request.url)
        if self.refusals.get(host, 0) >= self.max_refusals:
            raise Refused(
                f"rate limited: {host} refused {self.max_refusals} requests in a row; not asked again this run"
            )
        return None

    def process_response(self, request: Request, response: Response) -> Request | Response:
        host = _host(request.url)
        if response.status not in self.statuses:
            self.refusals.pop(host, None)
            return response
        self.refusals[host] = self.refusals.get(host, 0) + 1
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value(f"councilspend/refused/{response.status}")
        header = response.headers.get(b"Retry-After")
        asked = retry_after_seconds(header.decode("latin-1") if header else None, datetime.now(UTC))
        retries = int(request.meta.get("retry_times", 0))
        wait = asked if asked is not None else self.default_wait * 2**retries
        if wait > self.max_wait:
            request.meta[FAILURE_REASON] = (
                f"HTTP {response.status}: asked to retry after {wait:.0f} s (longest we wait: {self.max_wait:.0f} s)"
            )
            return response
        assert self.crawler.spider is not None
        retry = get_retry_request(
            request, spider=self.crawler.spider, reason=f"HTTP {response.status}", max_retry_times=self.max_retries
        )
        if retry is None:
            request.meta[FAILURE_REASON] = f"HTTP {response.status} after {retries} retries"
            return response
        self.pause_host(request, wait)
        stats.inc_value("councilspend/retry_after_seconds", int(wait))
        return retry

    def pause_host(self, request: Request, seconds: float) -> None:
        """Hold every queued request to this request's host (its downloader slot) for ``seconds``.

        Scrapy's downloader holds a slot's queue while the slot has a ``latercall`` pending (that
        is how it spaces requests by ``DOWNLOAD_DELAY``); the pause is such a call, replacing an
        earlier one that would fire sooner.
        """
        engine = self.crawler.engine
        assert engine is not None
        downloader = engine.downloader
        key = request.meta.get(downloader.DOWNLOAD_SLOT) or downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        resume_at = monotonic() + seconds
        if slot is None or resume_at <= self.paused_until.get(key, 0):
            return
        self.paused_until[key] = resume_at
        if slot.latercall:
            slot.latercall.cancel()
        slot.latercall = call_later(seconds, downloader._latercall, slot)
        logger.info("%s asked us to wait: pausing it for %.0f s", key, seconds)


class RedirectGuardMiddleware:
    """Follow a redirect only on the web, never from a public address into a private network, never in a loop.

    Redirects to other sites are followed: councils move to new domains (reorganisations,
    rebrands) and serve files from storage or CDN hosts, and the manifest keeps the address asked
    for beside the ``final_url``. Refused redirects fail the request with the reason (``redirect
    loop``, ``redirected to a private address …``, ``redirected to a non-web address …``) so a
    trap is recorded for a person to judge.
    """

    redirects = (301, 302, 303, 307, 308)

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if response.status not in self.redirects or not location or request.meta.get("dont_redirect"):
            return response
        try:
            target = urljoin(request.url, location.decode("latin-1").strip())
            scheme = urlsplit(target).scheme
        except ValueError:
            raise Refused(f"redirected to a malformed address (HTTP {response.status})") from None
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if scheme not in ("http", "https"):
            raise Refused(f"redirected to a non-web address {target[:200]} (HTTP {response.status})")
        if target in chain:
            raise Refused(f"redirect loop after {len(chain)} requests (HTTP {response.status} to {target})")
        if is_private(_host(target)) and not is_private(_host(chain[0])):
            raise Refused(f"redirected to a private address {target[:200]} (HTTP {response.status})")
        return response


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks us to wait (None when absent or unreadable).

    >>> now = datetime(2026, 11, 2, 10, 0, 0, tzinfo=UTC)
    >>> retry_after_seconds("120", now), retry_after_seconds("Mon, 02 Nov 2026 10:01:30 GMT", now)
    (120.0, 90.0)
    >>> retry_after_seconds("Mon, 02 Nov 2026 09:00:00 GMT", now), retry_after_seconds("soon", now)
    (0.0, None)
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


#: Host names that never name a machine on the public web.
_PRIVATE_NAMES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


def is_private(host: str) -> bool:
    """Whether a host is off the public web: a loopback, private, link-local or reserved address, or a local name.

    >>> is_private("www.leeds.gov.uk"), is_private("8.8.8.8"), is_private("[2a00:1450::1]")
    (False, False, False)
    >>> is_private("127.0.0.2"), is_private("10.1.2.3"), is_private("169.254.169.254"), is_private("[::1]")
    (True, True, True, True)
    >>> is_private("localhost"), is_private("printer.local"), is_private(""), is_private("mylocalhost.org")
    (True, True, True, False)
    """
    host = host.lower().rstrip(".").strip("[]")
    if not host:
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return host == "localhost" or host.endswith(_PRIVATE_NAMES)


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""
