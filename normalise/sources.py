"""The sources config: where each council publishes its spend files.

A YAML document::

    councils:
      BIR:
        landing_pages:                 # pages whose links lead to spend files
          - url: https://example.gov.uk/spend
            dataset: spend_over_500    # optional hint for every file found there
        ckan:                          # CKAN-style portals
          - base_url: https://data.example.gov.uk
            dataset_ids: [birmingham-spend]
        link_pattern: '\\.csv$'        # optional: only links whose URL or text match
        follow_pattern: 'spend-20\\d\\d' # optional: sub-pages (years, pages) to follow
        columns: {amount: Net Amount}  # optional: canonical column -> source header
        encoding: cp1252               # optional: force an encoding

Real councils and the mock council web use the same format and the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from normalise.councils import councils
from normalise.schema import DATASETS


@dataclass(frozen=True)
class LandingPage:
    url: str
    dataset: str | None = None


@dataclass(frozen=True)
class CkanPortal:
    base_url: str
    dataset_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class CouncilSource:
    """How to find and read one council's files."""

    council_code: str
    landing_pages: tuple[LandingPage, ...] = ()
    ckan: tuple[CkanPortal, ...] = ()
    link_pattern: str | None = None
    follow_pattern: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None


class SourcesError(ValueError):
    """The sources config is malformed."""


def parse_sources(document: dict) -> dict[str, CouncilSource]:
    """Validate a loaded YAML document into sources by council code.

    >>> parse_sources({"councils": {"bir": {"landing_pages": ["http://x/spend"]}}})["BIR"].landing_pages
    (LandingPage(url='http://x/spend', dataset=None),)
    """
    if not isinstance(document, dict) or not isinstance(document.get("councils"), dict):
        raise SourcesError("the sources config needs a 'councils:' mapping")
    known = {"landing_pages", "ckan", "link_pattern", "follow_pattern", "columns", "encoding"}
    registry = councils()
    sources = {}
    for code, entry in document["councils"].items():
        code = str(code).upper()
        if code not in registry:
            raise SourcesError(f"{code} is not a current council code (see normalise/data/councils.csv)")
        entry = entry or {}
        if not isinstance(entry, dict):
            raise SourcesError(f"{code}: expected a mapping of settings, not {entry!r}")
        unknown = set(entry) - known
        if unknown:
            raise SourcesError(f"{code}: unknown keys {sorted(unknown)}; allowed: {sorted(known)}")
        for page in entry.get("landing_pages", []):
            if isinstance(page, dict) and page.get("dataset") not in (None, *DATASETS):
                raise SourcesError(f"{code}: dataset {page['dataset']!r} is not one of {', '.join(DATASETS)}")
            if isinstance(page, dict) and "url" not in page:
                raise SourcesError(f"{code}: a landing page needs a url")
        pages = tuple(
            LandingPage(url=p) if isinstance(p, str) else LandingPage(url=p["url"], dataset=p.get("dataset"))
            for p in entry.get("landing_pages", [])
        )
        portals = tuple(
            CkanPortal(base_url=p["base_url"], dataset_ids=tuple(p.get("dataset_ids", [])))
            for p in entry.get("ckan", [])
        )
        sources[code] = CouncilSource(
            council_code=code,
            landing_pages=pages,
            ckan=portals,
            link_pattern=entry.get("link_pattern"),
            follow_pattern=entry.get("follow_pattern"),
            columns=dict(entry.get("columns") or {}),
            encoding=entry.get("encoding"),
        )
    return sources


def load_sources(path: Path | None = None) -> dict[str, CouncilSource]:
    """Load a sources file; the bundled config of real councils when no path is given."""
    if path is None:
        text = resources.files("normalise").joinpath("data/sources.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SourcesError(f"{path or 'bundled sources.yaml'} is not valid YAML: {exc}") from None
    return parse_sources(document)
