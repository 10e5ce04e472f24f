"""Councils without a sources entry: a portal search by publisher, then well-known paths on their site.

For each council (see :mod:`normalise.fallback`):

1. ``package_search`` on the fallback CKAN portal (data.gov.uk) for the datasets of the
   council's likely organisation names, one name after another until one finds spending data;
   every resource of a dataset that looks like spending data is fetched as a CKAN spider would;
2. and, since a portal often holds only some of a council's datasets, the council directory
   (GOV.UK) gives its home page, and the well-known transparency paths under it are tried one
   at a time: a page with file links is read as a landing page, a hub page's links to spending
   pages are followed as landing pages. An unreachable site ends the attempt (no more paths are
   tried); a 404 moves to the next path. A file found both ways is fetched once.

Every lookup is a page of the pages table (``ckan_search``, ``directory``, ``well_known``), so
``councilspend sources check`` can say where a council's files were found.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Iterator
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, urldefrag, urljoin, urlsplit

import parsel
import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler.discovery import decode_html, discover_links, guess_dataset
from crawler.items import FileItem, PageItem
from crawler.spiders.ckan import resource_link
from crawler.spiders.landing import LandingPageSpider
from normalise.councils import council
from normalise.fallback import Fallback, load_fallback, organisation_names, well_known_urls
from normalise.sources import CouncilSource

Output = Iterator[scrapy.Request | PageItem | FileItem]


class FallbackSpider(LandingPageSpider):
    """Find the files of councils the sources config does not name."""

    name = "fallback"
    #: Path of the CKAN action that searches datasets.
    package_search_path: str = "/api/3/action/package_search"
    #: Datasets asked for per search (a council publishes tens, not thousands).
    search_rows: int = 1000

    def __init__(
        self, sources: str | Path | None = None, councils: Iterable[str] | str | None = None, **kwargs: Any
    ) -> None:
        scrapy.Spider.__init__(self, **kwargs)
        codes = [c.strip().upper() for c in (councils.split(",") if isinstance(councils, str) else councils or [])]
        self.fallback: Fallback = load_fallback(Path(sources) if sources else None) or Fallback()
        #: Unconfigured councils, each with an empty source (no link or follow patterns of its own).
        self.councils = {code: CouncilSource(council_code=code) for code in codes if code}

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for code in self.councils:
            for first in (self.search_request(code, 0), self.directory_request(code)):
                if first is not None:
                    yield first

    # -- 1. the portal search --------------------------------------------------------------

    def search_request(self, code: str, attempt: int) -> scrapy.Request | None:
        names = organisation_names(council(code))
        if not self.fallback.ckan or attempt >= len(names):
            return None
        query = f"fq=organization:{quote(names[attempt])}&rows={self.search_rows}"
        url = f"{self.fallback.ckan}{self.package_search_path}?{query}"
        return self.lookup_request(
            code,
            url,
            self.parse_search,
            kind="ckan_search",
            meta={"search_attempt": attempt},
            errback=self.search_failed,
        )

    def parse_search(self, response: Response) -> Output:
        code = response.meta["council_code"]
        packages = search_results(response.body)
        if packages is None:
            yield self.page_read(response, 0, error="not a successful CKAN package_search answer")
            yield from self.after_search(code, response.meta["search_attempt"])
            return
        found = 0
        requests = []
        for package in packages:
            title = " ".join(str(package.get(k) or "") for k in ("title", "name"))
            hint = guess_dataset(title)
            if hint is None:
                continue  # a dataset of the council's that is not spending data
            landing = f"{self.fallback.ckan}/dataset/{quote(str(package.get('name') or ''))}"
            for resource in package.get("resources") or []:
                link = resource_link(resource, response.url, hint)
                if link:
                    found += 1
                    requests.append(self.link_request(code, link, landing_url=landing))
        yield self.page_read(response, found)
        yield from requests
        if not found:
            yield from self.after_search(code, response.meta["search_attempt"])

    def search_failed(self, failure: Failure) -> Output:
        yield from self.page_failed(failure)
        meta = failure.request.meta  # type: ignore[attr-defined]
        yield from self.after_search(meta["council_code"], meta["search_attempt"])

    def after_search(self, code: str, attempt: int) -> Iterator[scrapy.Request]:
        """The search for the council's next likely organisation name, if any."""
        following = self.search_request(code, attempt + 1)
        if following is not None:
            yield following

    # -- 2. the directory and well-known paths --------------------------------------------

    def directory_request(self, code: str) -> scrapy.Request | None:
        found = council(code)
        if not self.fallback.directory or not found.slug:
            return None
        url = f"{self.fallback.directory}/{quote(found.slug)}"
        return self.lookup_request(code, url, self.parse_directory, kind="directory")

    def parse_directory(self, response: Response) -> Output:
        homepage = homepage_url(response.body)
        if homepage is None:
            yield self.page_read(response, 0, error="no http(s) home page in the directory's answer")
            return
        yield self.page_read(response, 0)
        yield self.well_known_request(response.meta["council_code"], well_known_urls(homepage), 0)

    def well_known_request(self, code: str, urls: list[str], index: int) -> scrapy.Request:
        landing = {"page_depth": 0, "page_count": 0, "page_context": "", "link_seen_at": None}  # as parse_page reads
        return self.lookup_request(
            code,
            urls[index],
            self.parse_well_known,
            kind="well_known",
            meta={"well_known": urls, "well_known_index": index, **landing},
            errback=self.well_known_failed,
        )

    def parse_well_known(self, response: Response) -> Output:
        code, meta = response.meta["council_code"], response.meta
        html = decode_html(response.body) if isinstance(response, TextResponse) else ""
        if html and discover_links(html, response.url):
            yield from self.parse_page(response)  # the spending page itself
            return
        spending = spending_pages(html, response.url) if html else []
        yield self.page_read(response, 0)
        for url, dataset in spending:
            yield self.page_request(code, url, dataset, depth=0, pages=0, entry=False)
        if not spending:
            yield from self.next_well_known(code, meta)

    def well_known_failed(self, failure: Failure) -> Output:
        yield from self.page_failed(failure)
        if site_answered(failure):  # not here: try the next path; a site that did not answer ends the tries
            meta = failure.request.meta  # type: ignore[attr-defined]
            yield from self.next_well_known(meta["council_code"], meta)

    def next_well_known(self, code: str, meta: dict) -> Iterator[scrapy.Request]:
        index = meta["well_known_index"] + 1
        if index < len(meta["well_known"]):
            yield self.well_known_request(code, meta["well_known"], index)


def site_answered(failure: Failure) -> bool:
    """Whether a failed request still shows the site up: a 4xx answer (but 429) or a robots.txt refusal.

    >>> from scrapy.exceptions import IgnoreRequest
    >>> site_answered(Failure(IgnoreRequest("Forbidden by robots.txt")))
    True
    >>> site_answered(Failure(TimeoutError("slow")))
    False
    """
    error = failure.value
    response = getattr(error, "response", None)
    if response is not None:
        return 400 <= response.status < 500 and response.status != 429
    return isinstance(error, IgnoreRequest) and "robots" in str(error).lower()


def search_results(body: bytes) -> list[dict] | None:
    """The packages of a CKAN ``package_search`` answer (None when it is not a successful one).

    >>> search_results(b'{"success": true, "result": {"count": 1, "results": [{"name": "spend"}]}}')
    [{'name': 'spend'}]
    >>> search_results(b"<html>") is None
    True
    """
    answer = _json_object(body)
    result = answer.get("result") if answer.get("success") else None
    packages = result.get("results") if isinstance(result, dict) else None
    return [p for p in packages if isinstance(p, dict)] if isinstance(packages, list) else None


def homepage_url(body: bytes) -> str | None:
    """A council's home page from a GOV.UK ``local-authority`` answer.

    >>> homepage_url(b'{"local_authority": {"name": "X", "homepage_url": "https://www.x.gov.uk"}}')
    'https://www.x.gov.uk'
    >>> homepage_url(b'{"local_authority": {"homepage_url": "javascript:alert(1)"}}') is None
    True
    """
    record = _json_object(body).get("local_authority")
    url = record.get("homepage_url") if isinstance(record, dict) else None
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        return None
    return url


def _json_object(body: bytes) -> dict:
    """A JSON object answer, or an empty one when the body is not one."""
    try:
        answer = json.loads(body)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def spending_pages(html: str, base_url: str) -> list[tuple[str, str]]:
    """Links on a transparency hub to the council's spending pages, with the dataset each names.

    Same site only, pages only (file links are for ``discover_links``), once per address.

    >>> hub = ('<a href="/x/spending">Spending over £500</a> <a href="/x/salaries">Senior salaries</a> '
    ...        '<a href="/x/cards">Purchase card transactions</a> <a href="https://other.org/spend">Spend</a>')
    >>> spending_pages(hub, "http://127.0.0.1/x/transparency")
    [('http://127.0.0.1/x/spending', 'spend_over_500'), ('http://127.0.0.1/x/cards', 'purchase_card')]
    """
    site = urlsplit(base_url).netloc
    found: dict[str, str] = {}
    for anchor in parsel.Selector(text=html).css("a[href]"):
        text = " ".join(" ".join(anchor.css("::text").getall()).split())
        dataset = guess_dataset(text)
        try:
            url = urldefrag(urljoin(base_url, anchor.attrib["href"].strip())).url
        except ValueError:
            continue
        parts = urlsplit(url)
        if dataset is None or parts.scheme not in ("http", "https") or parts.netloc != site or url in found:
            continue
        if discover_links(f'<a href="{escape(url)}">{escape(text)}</a>', base_url):
            continue  # a file, not a page
        found[url] = dataset
    return list(found.items())
