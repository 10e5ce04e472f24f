"""The sources config: where each council publishes its spend files, and how we know.

A YAML document::

    councils:
      BIR:
        landing_pages:                 # pages whose links lead to spend files
          - url: https://example.gov.uk/spend
            dataset: spend_over_500    # optional hint for every file found there
            evidence:                  # where this URL was found (see below)
              - kind: project_config
                repo: someone/council-scrapers
                path: birmingham/config.json
                commit: 0123456789abcdef0123456789abcdef01234567
                date: 2022-10-04
        ckan:                          # CKAN-style portals
          - base_url: https://data.example.gov.uk
            dataset_ids: [birmingham-spend]
            evidence:
              - kind: ckan_listing
                url: https://data.example.gov.uk/dataset/birmingham-spend
        link_pattern: '\\.csv$'        # optional: only links whose URL or text match
        follow_pattern: 'spend-20\\d\\d' # optional: sub-pages (years, pages) to follow
        columns: {amount: Net Amount}  # optional: canonical column -> source header
        encoding: cp1252               # optional: force an encoding

Every URL is http(s). A landing page may be written as a bare URL string when it
carries no hint and no evidence.

**Evidence** says where a configured URL came from, so an operator can judge how
stale it is before a national crawl. Each item has a ``kind`` (one of
:data:`EVIDENCE_KINDS`), and either ``repo`` + ``path`` + ``commit`` (a file in a
public repository, at a commit) or ``url`` (a listing or a stored page), an
optional ``date`` (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``: when the evidence was
written or seen) and an optional ``note`` (e.g. that a predecessor council's page
is mapped to its successor). Evidence is optional in user configs and in the mock
web's generated config, and required for every page and portal of the bundled
config (``normalise/data/sources.yaml``): an entry without public evidence is no
entry there.

Real councils and the mock council web use the same format and the same code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from normalise.councils import councils
from normalise.schema import CONTRACTS_DATASET, DATASETS

#: What kind of public material a URL was found in.
EVIDENCE_KINDS: dict[str, str] = {
    "project_config": "another project's scraper or config, in a public repository",
    "saved_page": "a copy of the council's page saved in a public repository",
    "stored_page": "the council's own page, as kept in a public store of web pages",
    "ckan_listing": "a dataset listing on a CKAN portal (data.gov.uk, a regional or council portal)",
    "data_catalogue": "a dataset entry in another open-data catalogue",
}

_COMMIT = re.compile(r"[0-9a-f]{40}")
_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_EVIDENCE_KEYS = {"kind", "repo", "path", "commit", "url", "date", "note"}
_PAGE_KEYS = {"url", "dataset", "evidence"}
_PORTAL_KEYS = {"base_url", "dataset_ids", "evidence"}
_COUNCIL_KEYS = {"landing_pages", "ckan", "link_pattern", "follow_pattern", "columns", "encoding"}


@dataclass(frozen=True)
class Evidence:
    """Where one configured URL was found: a file in a public repository, or a listing or page URL."""

    kind: str
    repo: str | None = None
    path: str | None = None
    commit: str | None = None
    url: str | None = None
    date: str | None = None
    note: str | None = None

    def describe(self) -> str:
        """One line for an operator.

        >>> Evidence("project_config", repo="a/b", path="x.json", commit="0" * 40, date="2022-10").describe()
        'project_config: a/b x.json @0000000 (2022-10)'
        >>> Evidence("ckan_listing", url="https://data.gov.uk/dataset/x").describe()
        'ckan_listing: https://data.gov.uk/dataset/x (undated)'
        """
        where = f"{self.repo} {self.path} @{(self.commit or '')[:7]}" if self.repo else str(self.url)
        return f"{self.kind}: {where} ({self.date or 'undated'})"


@dataclass(frozen=True)
class LandingPage:
    url: str
    dataset: str | None = None
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class CkanPortal:
    base_url: str
    dataset_ids: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()


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

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        """Every distinct piece of evidence behind this council's pages and portals, in config order."""
        found = [e for page in self.landing_pages for e in page.evidence]
        found += [e for portal in self.ckan for e in portal.evidence]
        return tuple(dict.fromkeys(found))


class SourcesError(ValueError):
    """The sources config is malformed."""


def _http_url(where: str, value: object) -> str:
    """The value as an http(s) URL, or a SourcesError naming where it was."""
    if not isinstance(value, str) or not re.match(r"https?://\S+$", value):
        raise SourcesError(f"{where}: {value!r} is not an http(s) URL")
    return value


def _mapping(where: str, value: object, allowed: set[str]) -> Mapping[str, Any]:
    """The value as a mapping with only allowed keys, or a SourcesError naming where it was."""
    if not isinstance(value, dict):
        raise SourcesError(f"{where}: expected a mapping of settings, not {value!r}")
    unknown = set(value) - allowed
    if unknown:
        raise SourcesError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    return value


def parse_evidence(where: str, item: object) -> Evidence:
    """Validate one evidence item.

    >>> parse_evidence("BIR", {"kind": "ckan_listing", "url": "https://data.gov.uk/dataset/x", "date": "2024-05"})
    Evidence(kind='ckan_listing', repo=None, path=None, commit=None, url='https://data.gov.uk/dataset/x', date='2024-05', note=None)
    """
    entry = _mapping(f"{where} evidence", item, _EVIDENCE_KEYS)
    kind = entry.get("kind")
    if kind not in EVIDENCE_KINDS:
        raise SourcesError(f"{where}: evidence kind {kind!r} is not one of {', '.join(EVIDENCE_KINDS)}")
    repo, path, commit, url = (entry.get(k) for k in ("repo", "path", "commit", "url"))
    if repo is None and url is None:
        raise SourcesError(f"{where}: evidence needs a repo (with path and commit) or a url")
    if repo is not None and not (isinstance(repo, str) and re.fullmatch(r"[\w.-]+/[\w.-]+", repo)):
        raise SourcesError(f"{where}: evidence repo {repo!r} is not owner/name")
    if repo is not None and (not path or not isinstance(commit, str) or not _COMMIT.fullmatch(commit)):
        raise SourcesError(f"{where}: evidence in {repo} needs a path and a 40-hex commit")
    if url is not None:
        _http_url(f"{where} evidence", url)
    date = entry.get("date")
    date = None if date is None else str(date)
    if date is not None and not _DATE.fullmatch(date):
        raise SourcesError(f"{where}: evidence date {date!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    note = entry.get("note")
    return Evidence(kind=kind, repo=repo, path=path, commit=commit, url=url, date=date, note=note and str(note))


def _evidence(where: str, entry: Mapping[str, Any], required: bool) -> tuple[Evidence, ...]:
    items = entry.get("evidence") or []
    if not isinstance(items, list):
        raise SourcesError(f"{where}: evidence must be a list")
    if required and not items:
        raise SourcesError(f"{where}: no evidence; every entry of the bundled config cites where its URL was found")
    return tuple(parse_evidence(where, item) for item in items)


def _landing_page(code: str, item: object, require_evidence: bool) -> LandingPage:
    if isinstance(item, str):
        item = {"url": item}
    page = _mapping(f"{code} landing page", item, _PAGE_KEYS)
    if "url" not in page:
        raise SourcesError(f"{code}: a landing page needs a url")
    url = _http_url(code, page["url"])
    kinds = (*DATASETS, CONTRACTS_DATASET)  # a contracts register page is named like the spend pages
    if page.get("dataset") not in (None, *kinds):
        raise SourcesError(f"{code}: dataset {page['dataset']!r} is not one of {', '.join(kinds)}")
    return LandingPage(
        url=url, dataset=page.get("dataset"), evidence=_evidence(f"{code} {url}", page, require_evidence)
    )


def _ckan_portal(code: str, item: object, require_evidence: bool) -> CkanPortal:
    portal = _mapping(f"{code} ckan portal", item, _PORTAL_KEYS)
    base_url = _http_url(code, portal.get("base_url"))
    return CkanPortal(
        base_url=base_url,
        dataset_ids=tuple(str(i) for i in portal.get("dataset_ids") or ()),
        evidence=_evidence(f"{code} {base_url}", portal, require_evidence),
    )


def parse_sources(document: object, require_evidence: bool = False) -> dict[str, CouncilSource]:
    """Validate a loaded YAML document into sources by council code.

    >>> parse_sources({"councils": {"bir": {"landing_pages": ["http://x/spend"]}}})["BIR"].landing_pages
    (LandingPage(url='http://x/spend', dataset=None, evidence=()),)
    """
    if not isinstance(document, dict) or not isinstance(document.get("councils"), dict):
        raise SourcesError("the sources config needs a 'councils:' mapping")
    registry = councils()
    sources = {}
    for raw_code, raw_entry in document["councils"].items():
        code = str(raw_code).upper()
        if code not in registry:
            raise SourcesError(f"{code} is not a current council code (see normalise/data/councils.csv)")
        entry = _mapping(code, raw_entry or {}, _COUNCIL_KEYS)
        sources[code] = CouncilSource(
            council_code=code,
            landing_pages=tuple(_landing_page(code, p, require_evidence) for p in entry.get("landing_pages") or []),
            ckan=tuple(_ckan_portal(code, p, require_evidence) for p in entry.get("ckan") or []),
            link_pattern=entry.get("link_pattern"),
            follow_pattern=entry.get("follow_pattern"),
            columns=dict(entry.get("columns") or {}),
            encoding=entry.get("encoding"),
        )
    return sources


def bundled_path() -> Path:
    """The bundled config of real councils."""
    return Path(str(resources.files("normalise").joinpath("data/sources.yaml")))


def load_sources(path: Path | None = None) -> dict[str, CouncilSource]:
    """Load a sources file; the bundled config of real councils (whose entries must cite evidence) when no path is given."""
    bundled = bundled_path()
    path = Path(path) if path is not None else bundled
    text = path.read_text(encoding="utf-8")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SourcesError(f"{path} is not valid YAML: {exc}") from None
    return parse_sources(document, require_evidence=path.resolve() == bundled.resolve())
