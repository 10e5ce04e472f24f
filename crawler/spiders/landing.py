"""Landing-page discovery: read each configured page, fetch its file links, follow its sub-pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import scrapy
from scrapy.http import Response, TextResponse

from crawler.discovery import decode_html, discover_links, follow_links
from crawler.spiders.base import BaseCouncilSpider


class LandingPageSpider(BaseCouncilSpider):
    """Fetch every file linked from a council's landing pages and their sub-pages.

    Sub-pages are the year pages and pagination chosen by
    :func:`crawler.discovery.follow_links` (or the council's ``follow_pattern``),
    at most ``max_depth`` hops below a landing page (pagination does not count
    as a hop, up to ``max_pages``), on the same site.
    """

    name = "landing"
    source_kind = "landing_pages"
    #: Hops below a landing page: 2 reaches an archive page's year pages (Manchester).
    max_depth: int = 2
    #: Pagination pages followed from one list, a guard against endless "next" links.
    max_pages: int = 100

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for code, source in self.councils.items():
            for page in source.landing_pages:
                yield self.page_request(code, page.url, page.dataset, depth=0, pages=0)

    def page_request(self, council_code: str, url: str, dataset: str | None, depth: int, pages: int) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_page,
            errback=self.page_failed,
            meta={"council_code": council_code, "dataset_hint": dataset, "page_depth": depth, "page_count": pages},
        )

    def parse_page(self, response: Response) -> Iterator[scrapy.Request]:
        code = response.meta["council_code"]
        source = self.councils[code]
        if not isinstance(response, TextResponse):
            self.logger.error("%s: %s is not a web page (%s)", code, response.url, response.headers.get("Content-Type"))
            return
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        html = decode_html(response.body, content_type)
        hint = response.meta["dataset_hint"]
        for link in discover_links(html, response.url, link_pattern=source.link_pattern, dataset_hint=hint):
            yield self.file_request(code, link, landing_url=response.url)
        depth, pages = response.meta["page_depth"], response.meta["page_count"]
        for sub in follow_links(html, response.url, follow_pattern=source.follow_pattern):
            # the next page of a list is the same list: it costs a page, not a level
            if sub.pagination and pages < self.max_pages:
                yield self.page_request(code, sub.url, hint, depth, pages + 1)
            elif not sub.pagination and depth < self.max_depth:
                yield self.page_request(code, sub.url, hint, depth + 1, pages)
