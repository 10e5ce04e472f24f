"""Read a generated mock council web from disk, as its server would answer, and walk it as the spiders do.

For tests and benchmarks of link discovery that need no server and no crawl: :class:`OfflineWeb`
answers a URL from ``routes.json``; :func:`discover_council` runs discovery over one council's
configured landing pages (their sub-pages within two hops, pagination, CKAN resource pages) and
CKAN datasets, and returns every link found, keyed by its path as published.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from mockweb.site import BASE_URL_PLACEHOLDER

#: The address pages are read as; nothing listens there.
BASE_URL = "http://127.0.0.1:18999"
MAX_DEPTH, MAX_PAGES = 2, 100  # as the landing spider


class OfflineWeb:
    """A generated mock web answered from disk by route."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.routes: dict[str, dict] = json.loads((self.root / "routes.json").read_text(encoding="utf-8"))
        self.meta = json.loads((self.root / "mockweb.json").read_text(encoding="utf-8"))

    def get(self, url: str) -> tuple[bytes, str] | None:
        """The body and content type served at ``url`` (redirects followed), or None."""
        parts = urlsplit(url)
        path = unquote(parts.path)
        route = self.routes.get(f"{path}?{parts.query}" if parts.query else path) or self.routes.get(path)
        while route is not None and route.get("status") == 301:
            route = self.routes.get(route["location"])
        if route is None or route.get("status") != 200:
            return None
        body = (self.root / route["file"]).read_bytes().replace(BASE_URL_PLACEHOLDER.encode(), BASE_URL.encode())
        return body, route["type"]

    def sources(self) -> dict[str, dict]:
        """Each council's sources entry, with URLs on :data:`BASE_URL`."""
        return json.loads(json.dumps(self.meta["sources"]).replace("{base}", BASE_URL))


def discover_council(web: OfflineWeb, entry: dict) -> dict[str, Any]:
    """Every link discovery returns for one council's sources entry: path as published -> link."""
    found = {**_landing(web, entry), **_ckan(web, entry)}
    return {_path(url): link for url, link in found.items()}


def _landing(web: OfflineWeb, entry: dict) -> dict[str, Any]:
    from crawler.discovery import discover_links, follow_links

    takes_context = "context" in inspect.signature(discover_links).parameters  # older discovery modules do not
    found: dict[str, Any] = {}
    queue = [(page["url"], page.get("dataset"), 0, 0, "") for page in entry.get("landing_pages", [])]
    seen: set[str] = set()
    while queue:
        url, hint, depth, pages, context = queue.pop(0)
        answer = None if url in seen else web.get(url)
        seen.add(url)
        if answer is None or not answer[1].startswith("text/html"):
            continue
        options = {"link_pattern": entry.get("link_pattern"), "dataset_hint": hint}
        if takes_context:
            options["context"] = context
        for link in discover_links(answer[0], url, **options):
            found.setdefault(link.url, link)
        for sub in follow_links(answer[0], url, follow_pattern=entry.get("follow_pattern")):
            if sub.pagination and pages < MAX_PAGES:
                queue.append((sub.url, hint, depth, pages + 1, context))
            elif not sub.pagination and depth < MAX_DEPTH:
                queue.append((sub.url, hint, depth + 1, pages, getattr(sub, "context", "")))
    return found


def _ckan(web: OfflineWeb, entry: dict) -> dict[str, Any]:
    from crawler.discovery import guess_dataset
    from crawler.spiders.ckan import resource_link

    found: dict[str, Any] = {}
    for portal in entry.get("ckan", []):
        for dataset_id in portal["dataset_ids"]:
            api = f"{portal['base_url']}/api/3/action/package_show?id={dataset_id}"
            answer = web.get(api)
            if answer is None:
                continue
            package = json.loads(answer[0])["result"]
            hint = guess_dataset(" ".join(filter(None, [package.get("title"), package.get("name")])))
            for resource in package["resources"]:
                link = resource_link(resource, api, hint)
                if link is not None:
                    found.setdefault(link.url, link)
    return found


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
