"""Where to look for the files of a council that has no entry in the sources config.

The config's optional ``fallback:`` section turns the fallback on::

    fallback:
      ckan: https://ckan.publishing.service.gov.uk       # a CKAN portal searched by publisher
      directory: https://www.gov.uk/api/local-authority  # council home pages, by GOV.UK slug
      councils: all                                      # or a list of codes the fallback covers

For each such council the crawl (``crawler/spiders/fallback.py``) first searches the portal for
datasets of the council's organisation (:func:`organisation_names`); when that finds no spend
dataset it asks the directory for the council's home page and tries :data:`WELL_KNOWN_PATHS`
there, one at a time, stopping at the first that leads to files. A config without the section
crawls exactly the councils it names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import yaml

from normalise.councils import Council, councils

#: Paths under a council's home page where transparency data is commonly published, most common
#: first. A hub page found here is followed to its spending pages.
WELL_KNOWN_PATHS = (
    "transparency",
    "your-council/transparency",
    "council-and-democracy/transparency",
    "spending",
    "open-data",
)


class FallbackError(ValueError):
    """The ``fallback:`` section is malformed."""


@dataclass(frozen=True)
class Fallback:
    """Where unconfigured councils are looked for, and which councils that covers."""

    ckan: str | None = None
    directory: str | None = None
    councils: tuple[str, ...] | None = None  # None: every council in the registry

    def covers(self, code: str) -> bool:
        """Whether the fallback looks for this council (configured councils never need it)."""
        return code in councils() and (self.councils is None or code in self.councils)


def parse_fallback(document: object) -> Fallback | None:
    """The ``fallback:`` section of a loaded sources document (None when there is none).

    >>> parse_fallback({"councils": {}, "fallback": {"ckan": "https://data.example/", "councils": ["bir"]}})
    Fallback(ckan='https://data.example', directory=None, councils=('BIR',))
    >>> parse_fallback({"councils": {}}) is None
    True
    """
    section = document.get("fallback") if isinstance(document, dict) else None
    if section is None:
        return None
    if not isinstance(section, dict):
        raise FallbackError("fallback: expected a mapping with ckan, directory and councils")
    unknown = set(section) - {"ckan", "directory", "councils"}
    if unknown:
        raise FallbackError(f"fallback: unknown keys {sorted(unknown)}; allowed: ckan, directory, councils")
    urls = {}
    for key in ("ckan", "directory"):
        value = section.get(key)
        if value is not None and (not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https")):
            raise FallbackError(f"fallback: {key} must be an http(s) address, not {value!r}")
        urls[key] = value.rstrip("/") if value else None
    chosen = section.get("councils", "all")
    if chosen == "all":
        codes = None
    elif isinstance(chosen, list):
        codes = tuple(str(c).strip().upper() for c in chosen)
        unknown_codes = [c for c in codes if c not in councils()]
        if unknown_codes:
            raise FallbackError(f"fallback: {', '.join(unknown_codes)} not current council codes")
    else:
        raise FallbackError(f"fallback: councils must be 'all' or a list of codes, not {chosen!r}")
    return Fallback(ckan=urls["ckan"], directory=urls["directory"], councils=codes)


def load_fallback(path: Path | None = None) -> Fallback | None:
    """The fallback of a sources file (the bundled config when no path is given)."""
    if path is None:
        text = resources.files("normalise").joinpath("data/sources.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    try:
        return parse_fallback(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise FallbackError(f"{path or 'bundled sources.yaml'} is not valid YAML: {exc}") from None


def fallback_councils(configured: Iterable[str], fallback: Fallback | None) -> list[str]:
    """The councils the fallback looks for: those it covers that have no entry of their own."""
    if fallback is None:
        return []
    have = set(configured)
    return sorted(code for code in councils() if code not in have and fallback.covers(code))


def organisation_names(council: Council) -> list[str]:
    """Names a CKAN portal (data.gov.uk) may file the council's datasets under, most likely first.

    >>> from normalise.councils import council
    >>> organisation_names(council("BIR"))
    ['birmingham-city-council', 'birmingham']
    """
    names = [_slug(council.official_name), council.slug or _slug(council.nice_name)]
    return list(dict.fromkeys(n for n in names if n))


def well_known_urls(homepage: str) -> list[str]:
    """The well-known transparency addresses under a council's home page, in the order to try them.

    >>> well_known_urls("https://www.example.gov.uk")[:2]
    ['https://www.example.gov.uk/transparency', 'https://www.example.gov.uk/your-council/transparency']
    """
    base = homepage if homepage.endswith("/") else homepage + "/"
    return [urljoin(base, path) for path in WELL_KNOWN_PATHS]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
