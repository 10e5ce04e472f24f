"""Landing-page discovery: read each configured page, fetch its file links, follow its sub-pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import scrapy
from scrapy.http import Response, TextResponse

from crawler.discovery import DiscoveredLink, decode_html, read_links
from crawler.items import PageItem
from crawler.spiders.base import BaseCouncilSpider, now


class LandingPageSpider(BaseCouncilSpider):
    """Fetch every file linked from a council's landing pages and their sub-pages.

    Sub-pages are the year pages, pagination and CKAN resource pages chosen by
    :func:`crawler.discovery.read_links` (or the council's ``follow_pattern``),
    at most ``max_depth`` hops below a landing page (pagination does not count
    as a hop, up to ``max_pages``), on the same site. A sub-page inherits what its
    link said (a year page's "2024/25", a resource's "April 2024 CSV"). A link
    that looked like a file but answers its HEAD with a web page is read as a page.
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

    def page_request(
        self,
        council_code: str,
        url: str,
        dataset: str | None,
        depth: int,
        pages: int,
        context: str = "",
        seen_at: str | None = None,
        entry: bool = True,
    ) -> scrapy.Request:
        """A request for a page; ``context`` is what the page that linked it said about it.

        ``seen_at`` is set for a page standing for a file (a CKAN resource page): the file was
        first seen when the link to that page was, so copies keep the order their listing gives.
        A landing page (``depth`` and ``pages`` 0) is an entry page unless ``entry`` says it was
        found rather than configured; reading it or not ends as a page item either way.
        """
        top = depth == 0 and pages == 0
        return scrapy.Request(
            url,
            callback=self.parse_page,
            errback=self.page_failed,
            meta={
                **self.page_meta(council_code, "landing" if top else "subpage", top and entry, dataset),
                "page_depth": depth,
                "page_count": pages,
                "page_context": context,
                "link_seen_at": seen_at,
            },
        )

    def parse_page(self, response: Response) -> Iterator[scrapy.Request | PageItem]:
        code = response.meta["council_code"]
        source = self.councils[code]
        if not isinstance(response, TextResponse):
            content_type = (response.headers.get(b"Content-Type") or b"?").decode("latin-1")
            yield self.page_read(response, 0, error=f"not a web page ({content_type})")
            return
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        hint, context = response.meta["dataset_hint"], response.meta.get("page_context") or ""
        found = read_links(
            decode_html(response.body, content_type),
            response.url,
            link_pattern=source.link_pattern,
            follow_pattern=source.follow_pattern,
            dataset_hint=hint,
            context=context,
        )
        depth, pages = response.meta["page_depth"], response.meta["page_count"]
        seen_at = response.meta.get("link_seen_at")
        yield self.page_read(response, len(found.files))
        for link in found.files:
            yield self.link_request(code, link, response.url, meta=self._page_meta(response), seen_at=seen_at)
        for sub in found.follow:
            # the next page of a list is the same list: it costs a page, not a level, and says what the first said
            if sub.pagination and pages < self.max_pages:
                yield self.page_request(code, sub.url, hint, depth, pages + 1, context)
            elif not sub.pagination and depth < self.max_depth:
                yield self.page_request(
                    code, sub.url, hint, depth + 1, pages, sub.context, now() if sub.resource else None
                )

    def page_behind_link(self, response: Response, link: DiscoveredLink) -> Iterator[scrapy.Request]:
        """A link judged a file served a web page (an interstitial, a resource page): read it as a page."""
        meta = response.meta
        if meta["page_depth"] < self.max_depth:
            context = " | ".join(filter(None, [link.context or link.text, meta.get("page_context")]))
            yield self.page_request(
                meta["council_code"],
                link.url,
                meta["dataset_hint"],
                meta["page_depth"] + 1,
                meta["page_count"],
                context,
                meta.get("link_seen_at") or now(),
            )

    @staticmethod
    def _page_meta(response: Response) -> dict:
        """What :meth:`page_behind_link` needs to read a link as a page (its seen time travels on its own)."""
        keys = ("dataset_hint", "page_depth", "page_count", "page_context")
        return {key: response.meta.get(key) for key in keys}
