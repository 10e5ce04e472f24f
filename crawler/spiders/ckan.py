"""CKAN portals: list a dataset's resources through the CKAN action API and fetch them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from urllib.parse import quote, urljoin

import scrapy
from scrapy.http import Response

from crawler.discovery import FORMATS, DiscoveredLink, Evidence, guess_dataset, guess_format, guess_period, is_web_url
from crawler.items import PageItem
from crawler.spiders.base import BaseCouncilSpider


class CkanSpider(BaseCouncilSpider):
    """Fetch every resource of each configured CKAN dataset.

    ``GET {base_url}/api/3/action/package_show?id={dataset_id}`` answers
    ``{"success": true, "result": {"title": ..., "resources": [{"url", "format",
    "name", "description", "last_modified"}, ...]}}``.
    """

    name = "ckan"
    source_kind = "ckan"
    #: Path of the CKAN action that describes one dataset.
    package_show_path: str = "/api/3/action/package_show"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for code, source in self.councils.items():
            for portal in source.ckan:
                base = portal.base_url.rstrip("/")
                for dataset_id in portal.dataset_ids:
                    yield self.lookup_request(
                        code,
                        f"{base}{self.package_show_path}?id={quote(dataset_id)}",
                        self.parse_package,
                        kind="ckan_package",
                        meta={"dataset_page": f"{base}/dataset/{quote(dataset_id)}"},
                    )

    def parse_package(self, response: Response) -> Iterator[scrapy.Request | PageItem]:
        code = response.meta["council_code"]
        try:
            answer = json.loads(response.body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or not answer.get("success") or not isinstance(answer.get("result"), dict):
            yield self.page_read(response, 0, error="not a successful CKAN package_show answer")
            return
        package = answer["result"]
        hint = guess_dataset(" ".join(filter(None, [package.get("title"), package.get("name")])))
        links = [link for r in package.get("resources") or [] if (link := resource_link(r, response.url, hint))]
        yield self.page_read(response, len(links))
        for link in links:
            yield self.link_request(code, link, landing_url=response.meta["dataset_page"])


def resource_link(resource: dict, api_url: str, dataset_hint: str | None) -> DiscoveredLink | None:
    """A CKAN resource as a discovered link (None when it has no http(s) URL).

    >>> resource_link({"url": "http://p/r/1/spend-2025-03.csv", "format": "CSV", "name": "March 2025"},
    ...               "http://p/api/3/action/package_show?id=x", "spend_over_500").period_start
    datetime.date(2025, 3, 1)
    >>> resource_link({"url": "file:///etc/passwd", "format": "CSV"}, "http://p/api", None) is None
    True
    """
    if not isinstance(resource, dict) or not isinstance(resource.get("url"), str) or not resource["url"].strip():
        return None
    try:
        url = urljoin(api_url, resource["url"].strip())
    except ValueError:
        return None
    if not is_web_url(url):
        return None
    text = " ".join(filter(None, [resource.get("name"), resource.get("description")]))
    declared = (resource.get("format") or "").strip().lower().lstrip(".")
    start, end = guess_period(text, url)
    return DiscoveredLink(
        url=url,
        text=resource.get("name") or text,
        format_guess=declared if declared in FORMATS else guess_format(url, text),
        dataset=guess_dataset(text, url, dataset_hint),
        period_start=start,
        period_end=end,
        evidence=Evidence("CKAN format" if declared in FORMATS else "", "CKAN resource", "CKAN resource"),
    )
