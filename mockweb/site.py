"""The HTML pages and portal JSON of the mock council web, in the shapes real council sites use."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape

#: Stands for the scheme, host and port in portal JSON; the server fills it in per request.
BASE_URL_PLACEHOLDER = "__MOCKWEB_BASE_URL__"
#: Stands for the server's port in a redirect's Location; the server fills it in.
PORT_PLACEHOLDER = "__MOCKWEB_PORT__"
PAGE_SIZE = 10


@dataclass(frozen=True)
class Link:
    """One link on a page: where it points and what it says."""

    url_path: str
    text: str
    group: str  # heading it sits under (a financial year, a section)
    title: str = ""  # a title= attribute, as Umbraco sites write
    label: str = ""  # the period as the council names it ("March 2025"), for rows and headings of its own
    after: str = ""  # words after the link in its row ("(CSV, 24KB)")


def href(page_path: str, target: str, relative: bool) -> str:
    """The href a page writes for ``target``: root-relative, or relative to the page (an address with
    a scheme, ``mailto:`` or ``http://``, as it is).

    >>> href("/leeds/spending", "/leeds/files/a.csv", True)
    'files/a.csv'
    >>> href("/leeds/spending-2024-25", "/leeds/files/a.csv", False)
    '/leeds/files/a.csv'
    >>> href("/leeds/spending", "mailto:foi@leeds.gov.uk", True)
    'mailto:foi@leeds.gov.uk'
    """
    if not relative or not target.startswith("/"):
        return target
    return posixpath.relpath(target, posixpath.dirname(page_path))


def size_text(size: int) -> str:
    """A file size as councils print it.

    >>> size_text(250_880), size_text(2_400_000)
    ('245KB', '2.3MB')
    """
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f}MB"
    return f"{max(1, round(size / 1024))}KB"


def page(title: str, body: str, council_name: str = "") -> str:
    """A whole HTML page with the usual council chrome around ``body``."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}{' | ' + escape(council_name) if council_name else ''}</title></head>\n<body>"
        '<header><a class="skip-link" href="#content">Skip to content</a> '
        '<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/contact-us">Contact us</a></nav></header>\n'
        f'<main id="content"><h1>{escape(title)}</h1>\n{body}\n</main>\n'
        '<footer><a href="/privacy">Privacy</a> <a href="/accessibility">Accessibility</a></footer>'
        "</body></html>\n"
    )


def _anchor(page_path: str, link: Link, relative: bool) -> str:
    title = f' title="{escape(link.title)}"' if link.title else ""
    after = f" {escape(link.after)}" if link.after else ""
    return f'<a href="{escape(href(page_path, link.url_path, relative))}"{title}>{escape(link.text)}</a>{after}'


def _by_label(links: list[Link]) -> list[tuple[str, list[Link]]]:
    order: dict[str, list[Link]] = {}
    for link in links:
        order.setdefault(link.label, []).append(link)
    return list(order.items())


def _period_rows(page_path: str, links: list[Link], relative: bool) -> str:
    """A table with one row per period: the period in the first cell, each file in a cell of its own."""
    rows = "".join(
        f"<tr><td>{escape(label)}</td>"
        + "".join(f"<td>{_anchor(page_path, link, relative)}</td>" for link in ls)
        + "</tr>\n"
        for label, ls in _by_label(links)
    )
    return f'<table class="files"><thead><tr><th>Period</th><th colspan="3">Files</th></tr></thead><tbody>\n{rows}</tbody></table>'


def _period_headings(page_path: str, links: list[Link], relative: bool) -> str:
    """A heading per period over a list of its files."""
    return "".join(
        f"<h3>{escape(label)}</h3><ul>"
        + "".join(f"<li>{_anchor(page_path, link, relative)}</li>" for link in ls)
        + "</ul>\n"
        for label, ls in _by_label(links)
    )


def documents_section(page_path: str, links: list[Link], relative: bool) -> str:
    """The papers a council puts beside its data: guides, definitions, budgets, contract registers."""
    if not links:
        return ""
    items = "".join(f"<li>{_anchor(page_path, link, relative)}</li>" for link in links)
    return f'<h2>About this data</h2><ul class="documents">{items}</ul>'


def _groups(links: list[Link]) -> list[tuple[str, list[Link]]]:
    order: dict[str, list[Link]] = {}
    for link in links:
        order.setdefault(link.group, []).append(link)
    return list(order.items())


INTRO = (
    "<p>We publish details of every payment over &pound;500 to suppliers, as the Local Government "
    "Transparency Code requires. Personal data is withheld.</p>"
)


def landing_pages(
    shape: str,
    base: str,
    title: str,
    council_name: str,
    links: list[Link],
    relative: bool,
    bare: bool = False,
    documents: list[Link] | None = None,
) -> dict[str, str]:
    """The landing page at ``base`` (and its sub-pages) listing ``links`` in one of the site shapes.

    With ``bare`` the links say only "CSV" or "Download": each period gets a table row or a heading
    of its own (``Link.label``). ``documents`` are listed after the data on the first page.
    Returns route key (path, with query) -> HTML.
    """
    pages = _bare_pages(shape, base, title, council_name, links, relative) if bare else {}
    if not pages:
        pages = _labelled_pages(shape, base, title, council_name, links, relative)
    if documents:
        pages[base] = pages[base].replace(
            "\n</main>", "\n" + documents_section(base, documents, relative) + "\n</main>"
        )
    return pages


def _bare_pages(
    shape: str, base: str, title: str, council_name: str, links: list[Link], relative: bool
) -> dict[str, str]:
    groups = _groups(links)
    pages: dict[str, str] = {}
    if shape == "table":
        body = INTRO + "".join(f"<h2>{escape(g)}</h2>\n{_period_rows(base, ls, relative)}\n" for g, ls in groups)
        pages[base] = page(title, body, council_name)
    elif shape == "list":
        body = INTRO + "".join(f"<h2>{escape(g)}</h2>\n{_period_headings(base, ls, relative)}" for g, ls in groups)
        pages[base] = page(title, body, council_name)
    elif shape == "accordion":
        body = INTRO + "".join(
            f"<details><summary>{escape(g)}</summary>{_period_rows(base, ls, relative)}</details>\n" for g, ls in groups
        )
        pages[base] = page(title, body, council_name)
    elif shape == "years":
        pages = _year_pages(base, title, council_name, groups, relative, _period_headings)
    return pages


def _year_pages(
    base: str,
    title: str,
    council_name: str,
    groups: list[tuple[str, list[Link]]],
    relative: bool,
    listing: Callable[[str, list[Link], bool], str],
) -> dict[str, str]:
    """A page per financial year under a page listing the years; ``listing`` renders a year's links."""
    pages: dict[str, str] = {}
    items = []
    for g, ls in groups:
        sub = f"{base}-{g.lower().replace('/', '-').replace(' ', '-')}"
        items.append(f'<li><a href="{escape(href(base, sub, relative))}">{escape(title)} {escape(g)}</a></li>')
        pages[sub] = page(f"{title} {g}", listing(sub, ls, relative), council_name)
    pages[base] = page(title, INTRO + '<ul class="years">' + "".join(items) + "</ul>", council_name)
    return pages


def _plain_list(page_path: str, links: list[Link], relative: bool) -> str:
    return "<ul>" + "".join(f"<li>{_anchor(page_path, link, relative)}</li>" for link in links) + "</ul>"


def _labelled_pages(
    shape: str, base: str, title: str, council_name: str, links: list[Link], relative: bool
) -> dict[str, str]:
    groups = _groups(links)
    pages: dict[str, str] = {}
    if shape == "table":
        rows = "".join(
            f"<tr><td>{escape(g)}</td><td><ul>"
            + "".join(f"<li>{_anchor(base, link, relative)}</li>" for link in ls)
            + "</ul></td></tr>\n"
            for g, ls in groups
        )
        body = f'{INTRO}<table class="downloads"><thead><tr><th>Year</th><th>Files</th></tr></thead><tbody>\n{rows}</tbody></table>'
        pages[base] = page(title, body, council_name)
    elif shape == "list":
        body = INTRO + "".join(
            f'<h2>{escape(g)}</h2>\n<ul class="list">'
            + "".join(f"<li>{_anchor(base, link, relative)}</li>" for link in ls)
            + "</ul>\n"
            for g, ls in groups
        )
        pages[base] = page(title, body, council_name)
    elif shape == "accordion":
        body = INTRO + "".join(
            f'<details><summary>{escape(g)}</summary><div class="accordion__content"><p>'
            + "<br>".join(_anchor(base, link, relative) for link in ls)
            + "</p></div></details>\n"
            for g, ls in groups
        )
        pages[base] = page(title, body, council_name)
    elif shape == "years":
        pages = _year_pages(base, title, council_name, groups, relative, _plain_list)
    elif shape == "paged":
        newest_first = list(reversed(links))
        chunks = [newest_first[i : i + PAGE_SIZE] for i in range(0, len(newest_first), PAGE_SIZE)] or [[]]
        for n, chunk in enumerate(chunks, start=1):
            key = base if n == 1 else f"{base}?page={n}"
            nav = []
            if n > 1:
                previous = base if n == 2 else f"?page={n - 1}"  # page 1 lives at the plain address
                nav.append(f'<a rel="prev" href="{previous}">Previous</a>')
            if n < len(chunks):
                nav.append(f'<a rel="next" href="?page={n + 1}">Next</a>')
            body = (
                (INTRO if n == 1 else "")
                + '<ul class="results">'
                + "".join(f"<li>{_anchor(base, link, relative)}</li>" for link in chunk)
                + f'</ul><nav class="pagination">{" ".join(nav)} <span>Page {n} of {len(chunks)}</span></nav>'
            )
            pages[key] = page(title, body, council_name)
    else:
        raise ValueError(f"unknown page shape {shape!r}")
    return pages


def portal_pointer_page(title: str, council_name: str, dataset_url: str) -> str:
    """A council page that only points to its open data portal."""
    body = (
        f"<p>Our spending data is published on our open data portal.</p>"
        f'<p><a href="{escape(dataset_url)}">Payments over &pound;500 on the open data portal</a></p>'
    )
    return page(title, body, council_name)


@dataclass(frozen=True)
class Resource:
    """One CKAN resource: a file in a portal dataset."""

    id: str
    name: str
    url_path: str
    format: str
    last_modified: datetime
    size: int
    mimetype: str


def organisation_name(official_name: str) -> str:
    """How a national portal (data.gov.uk) names a council as a publisher: the slug of its official name.

    >>> organisation_name("Armagh City, Banbridge and Craigavon Borough Council")
    'armagh-city-banbridge-and-craigavon-borough-council'
    """
    return re.sub(r"[^a-z0-9]+", "-", official_name.lower()).strip("-")


def ckan_package(dataset_id: str, title: str, org_name: str, resources: list[Resource]) -> dict:
    """A package dict as CKAN's action API returns it (``package_show`` result)."""
    modified = max((r.last_modified for r in resources), default=datetime(2024, 1, 1))
    return {
        "id": dataset_id,
        "name": dataset_id,
        "title": title,
        "type": "dataset",
        "state": "active",
        "license_id": "uk-ogl",
        "license_title": "UK Open Government Licence (OGL)",
        "metadata_modified": modified.isoformat(),
        "num_resources": len(resources),
        "organization": {"name": organisation_name(org_name), "title": org_name},
        "resources": [
            {
                "id": r.id,
                "package_id": dataset_id,
                "name": r.name,
                "format": r.format,
                "url": BASE_URL_PLACEHOLDER + r.url_path if r.url_path.startswith("/") else r.url_path,
                "mimetype": r.mimetype,
                "size": r.size,
                "last_modified": r.last_modified.isoformat(),
                "created": r.last_modified.isoformat(),
                "url_type": "upload",
                "position": i,
            }
            for i, r in enumerate(resources)
        ],
    }


def ckan_routes(packages: list[dict]) -> dict[str, bytes]:
    """package_show per dataset, package_list, package_search, and the portal's web pages.

    As on a CKAN portal, a dataset's page lists its resources by name and format, each linking to
    the resource's own page, whose Download button is the file's URL.
    """
    routes: dict[str, bytes] = {}
    for pkg in packages:
        routes[f"/ckan/api/3/action/package_show?id={pkg['name']}"] = _ckan_json(pkg)
        dataset_page = f"/ckan/dataset/{pkg['name']}"
        items = []
        for r in pkg["resources"]:
            resource_page = f"{dataset_page}/resource/{r['id']}"
            items.append(
                f'<li class="resource-item"><a class="heading" href="{resource_page}" title="{escape(r["name"])}">'
                f'{escape(r["name"])}<span class="format-label">{escape(r["format"])}</span></a>'
                f'<div class="dropdown btn-group"><a href="#" class="btn dropdown-toggle">Explore</a><ul class="dropdown-menu">'
                f'<li><a href="{resource_page}">More information</a></li></ul></div></li>'
            )
            url = r["url"].replace(BASE_URL_PLACEHOLDER, "")
            body = (
                f'<ol class="breadcrumb"><li><a href="/ckan/dataset">Datasets</a></li>'
                f'<li><a href="{dataset_page}">{escape(pkg["title"])}</a></li></ol>'
                f'<p><a class="btn btn-primary resource-url-analytics" href="{escape(url)}">Download</a></p>'
                f'<p class="text-muted ellipsis">URL: <a href="{escape(url)}">{escape(url)}</a></p>'
                f"<p>Format: {escape(r['format'])}</p>"
            )
            routes[resource_page] = page(r["name"], body, pkg["title"]).encode()
        routes[dataset_page] = page(
            pkg["title"], f'<h2>Data and Resources</h2><ul class="resource-list">{"".join(items)}</ul>'
        ).encode()
    routes["/ckan/api/3/action/package_list"] = _ckan_json([p["name"] for p in packages])
    routes["/ckan/api/3/action/package_search"] = _ckan_json({"count": len(packages), "results": packages})
    return routes


def _ckan_json(result) -> bytes:
    return json.dumps(
        {"help": "/ckan/api/3/action/help_show", "success": True, "result": result}, indent=None, sort_keys=True
    ).encode()
