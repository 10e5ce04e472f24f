"""What a crawler falls back on for a council it has no address for, emulated offline.

* ``/dgu/api/3/action/package_search?fq=organization:<name>``: a data.gov.uk-like CKAN search
  by publisher, answering the portal councils' datasets (``organization.name`` is the slug of the
  council's official name: ``mockweb.site.organisation_name``); any other search finds nothing;
* ``/govuk/api/local-authority/<slug>``: a GOV.UK-like directory giving each council's home page;
* ``/<slug>/`` and ``/<slug>/transparency``: each council's home page and a transparency hub at
  the well-known path, linking its data pages (those its sources entry names) among other
  transparency documents.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from mockweb.site import BASE_URL_PLACEHOLDER, page

if TYPE_CHECKING:
    from mockweb.generate import _Builder

CKAN_SEARCH = "/dgu/api/3/action/package_search"
DIRECTORY = "/govuk/api/local-authority"
#: Route prefixes whose bodies name the server's own address (filled in per request).
TEMPLATED = ("/ckan/api/", "/dgu/api/", "/govuk/api/")
_JSON = "application/json"
_HTML = "text/html; charset=utf-8"
_SINCE = datetime(2024, 1, 1)
#: How a transparency hub names each of a council's data pages.
HUB_TITLES = {
    "spend_over_500": "Spending over £500",
    "purchase_card": "Purchase card transactions",
    "grants": "Grants to voluntary organisations",
    "contracts": "Contracts over £5,000",
    "": "Transparency data",
}


def add_national_services(b: _Builder) -> None:
    """Add the portal search, the directory and every council's home and hub pages to the web."""
    by_org: dict[str, list[dict]] = {}
    for package in b.ckan_packages:
        by_org.setdefault(package["organization"]["name"], []).append(package)
    for name, packages in by_org.items():
        answer = {"count": len(packages), "results": packages}
        b.pages[f"{CKAN_SEARCH}?fq=organization:{name}"] = (_ckan(answer), _JSON, _SINCE)
    b.pages[CKAN_SEARCH] = (_ckan({"count": 0, "results": []}), _JSON, _SINCE)
    for p in b.profiles:
        official = p.council.official_name
        home = f"/{p.slug}/"
        record = {"name": official, "homepage_url": BASE_URL_PLACEHOLDER + home, "tier": "unitary", "slug": p.slug}
        b.pages[f"{DIRECTORY}/{p.slug}"] = (json.dumps({"local_authority": record}).encode(), _JSON, _SINCE)
        b.pages[home] = (_home(p.slug, official).encode(), _HTML, _SINCE)
        hub = {"spending": "Spending over £500"}  # the spending page, or the pointer to the portal
        for landing in b.sources.get(p.code, {}).get("landing_pages", []):
            path = landing["url"].removeprefix("{base}")
            if path.startswith(f"/{p.slug}/"):
                hub.setdefault(
                    path.removeprefix(f"/{p.slug}/"), HUB_TITLES.get(landing.get("dataset") or "", "Transparency data")
                )
        b.pages[f"/{p.slug}/transparency"] = (_hub(p.slug, official, list(hub.items())).encode(), _HTML, _SINCE)


def _home(slug: str, official: str) -> str:
    items = [("bins", "Bins and recycling"), ("council-tax", "Council tax"), ("transparency", "Transparency")]
    links = "".join(f'<li><a href="/{slug}/{path}">{text}</a></li>' for path, text in items)
    return page(f"Welcome to {official}", f'<ul class="services">{links}</ul>', official)


def _hub(slug: str, official: str, data: list[tuple[str, str]]) -> str:
    documents = [*data, ("senior-salaries", "Senior salaries"), ("pay-policy", "Pay policy statement")]
    links = "".join(f'<li><a href="/{slug}/{path}">{text}</a></li>' for path, text in documents)
    intro = "<p>Under the Local Government Transparency Code we publish the following.</p>"
    return page("Transparency", f'{intro}<ul class="transparency">{links}</ul>', official)


def _ckan(result: object) -> bytes:
    return json.dumps({"help": "/dgu/api/3/action/help_show", "success": True, "result": result}).encode()
