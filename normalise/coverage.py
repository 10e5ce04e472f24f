"""What the last crawl of each council found: files, newest period, pages it could not read.

Read from the published tables (``files.parquet``, ``pages.parquet``), so a notebook, the
compliance rules and ``councilspend sources check`` all see the same thing. A council's *last
crawl* is the run that most recently asked for one of its pages; it is *unreachable* when that
crawl could read none of its entry pages (configured landing pages and portal datasets, or the
fallback's lookups): the crawler could not look, so "nothing found" would not mean "nothing
published".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from normalise.sources import CouncilSource
from normalise.store.layout import Layout
from normalise.store.parquet_io import read_table


@dataclass
class CouncilCoverage:
    """One council as its last crawl left it."""

    council_code: str
    last_crawled_at: datetime | None = None
    run_id: str | None = None
    entry_pages: int = 0
    entry_pages_read: int = 0
    files: int = 0  # file links known, fetched or not
    files_stored: int = 0  # with an original in the raw store
    files_failed: int = 0  # whose last fetch failed
    newest_period: date | None = None
    found_via: list[str] = field(default_factory=list)  # kinds of the entry pages that were read
    failures: list[tuple[str, str]] = field(default_factory=list)  # (url, error) of pages not read

    @property
    def unreachable(self) -> bool:
        """None of the entry pages of its last crawl could be read."""
        return self.entry_pages > 0 and self.entry_pages_read == 0


def latest_pages(pages: Iterable[dict]) -> dict[str, list[dict]]:
    """Each council's page rows from its last crawl (the run that most recently asked for one of them).

    >>> rows = [{"council_code": "BIR", "run_id": "a", "checked_at": 1, "url": "old"},
    ...         {"council_code": "BIR", "run_id": "b", "checked_at": 2, "url": "new"}]
    >>> [p["url"] for p in latest_pages(rows)["BIR"]]
    ['new']
    """
    by_council: dict[str, list[dict]] = defaultdict(list)
    for page in pages:
        by_council[page["council_code"]].append(page)
    latest = {}
    for code, rows in by_council.items():
        last_run = max(rows, key=lambda r: r["checked_at"])["run_id"]
        latest[code] = [r for r in rows if r["run_id"] == last_run]
    return latest


def found_via(rows: list[dict]) -> list[str]:
    """How one crawl of a council found its file links: through its pages, a portal, or the fallback.

    >>> rows = [{"kind": "ckan_search", "entry": True, "error": None, "files_found": 0},
    ...         {"kind": "well_known", "entry": True, "error": None, "files_found": 0},
    ...         {"kind": "landing", "entry": False, "error": None, "files_found": 12}]
    >>> found_via(rows)
    ['well-known path']
    """
    read = [r for r in rows if r["error"] is None]
    with_files = {r["kind"] for r in read if r["files_found"]}
    found_pages = any(r["files_found"] and not r["entry"] and r["kind"] in ("landing", "subpage") for r in read)
    via = set()
    if "ckan_search" in with_files:
        via.add("portal search")
    if "well_known" in with_files or (found_pages and any(r["kind"] == "well_known" for r in read)):
        via.add("well-known path")
    if "ckan_package" in with_files:
        via.add("portal")
    if any(r["entry"] and r["kind"] == "landing" for r in read) and with_files & {"landing", "subpage"}:
        via.add("configured pages")
    return sorted(via)


def crawled_councils(out_dir: Path) -> set[str]:
    """Councils any crawl has looked for, whether or not it found files."""
    pages = read_table(Layout(out_dir).table("pages"), "pages")
    return set(pages.column("council_code").to_pylist())


def unreachable_councils(out_dir: Path, dataset: str | None = None) -> set[str]:
    """Councils whose last crawl could read none of the entry pages that lead to ``dataset``.

    Pages configured for another dataset do not count (a purchase-card page says nothing about
    spend over £500); pages with no dataset lead to any.
    """
    pages = read_table(Layout(out_dir).table("pages"), "pages").to_pylist()
    found = set()
    for code, rows in latest_pages(pages).items():
        entries = [r for r in rows if r["entry"] and (dataset is None or r["dataset"] in (None, dataset))]
        if entries and all(r["error"] is not None for r in entries):
            found.add(code)
    return found


def coverage(out_dir: Path, councils: Iterable[str] | None = None) -> dict[str, CouncilCoverage]:
    """Every council of the tables (or the named ones) as its last crawl left it."""
    layout = Layout(out_dir)
    wanted = set(councils) if councils is not None else None
    columns = ["council_code", "sha256", "error", "period_end", "http_status"]
    files = read_table(layout.manifest, "files").select(columns).to_pylist()
    pages = read_table(layout.table("pages"), "pages").to_pylist()
    result: dict[str, CouncilCoverage] = {}

    def entry(code: str) -> CouncilCoverage:
        return result.setdefault(code, CouncilCoverage(code))

    for code, rows in latest_pages(pages).items():
        if wanted is not None and code not in wanted:
            continue
        c = entry(code)
        c.last_crawled_at = max(r["checked_at"] for r in rows)
        c.run_id = rows[0]["run_id"]
        entries = [r for r in rows if r["entry"]]
        c.entry_pages = len(entries)
        c.entry_pages_read = sum(r["error"] is None for r in entries)
        c.found_via = found_via(rows)
        c.failures = [(r["url"], r["error"]) for r in rows if r["error"] is not None]
    for f in files:
        code = f["council_code"]
        if wanted is not None and code not in wanted:
            continue
        c = entry(code)
        c.files += 1
        c.files_stored += f["sha256"] is not None
        c.files_failed += f["error"] is not None and (f["http_status"] is None or f["http_status"] >= 400)
        if f["sha256"] and f["period_end"] and (c.newest_period is None or f["period_end"] > c.newest_period):
            c.newest_period = f["period_end"]
    return dict(sorted(result.items()))


def evidence_lines(source: CouncilSource) -> list[str]:
    """Where a council's configured addresses came from, one line per piece of evidence.

    Reads the ``evidence`` of its landing pages and portals where the config records any
    (``normalise.sources``); an address without it is said to have none.

    >>> from normalise.sources import LandingPage
    >>> evidence_lines(CouncilSource("BIR", landing_pages=(LandingPage("https://x/spend"),)))
    ['https://x/spend: no evidence recorded']
    """
    lines = []
    for place, url in [(p, p.url) for p in source.landing_pages] + [(c, c.base_url) for c in source.ckan]:
        found = getattr(place, "evidence", ()) or ()
        if not found:
            lines.append(f"{url}: no evidence recorded")
        for item in found:
            describe = getattr(item, "describe", None)
            lines.append(f"{url}: {describe() if callable(describe) else item}")
    return lines


def sources_check(out_dir: Path, configured: dict[str, CouncilSource], unconfigured: Iterable[str]) -> list[dict]:
    """Per council: what is configured, where it came from, and what the last crawl found there."""
    found = coverage(out_dir)
    rows = []
    for code in sorted({*configured, *unconfigured}):
        source = configured.get(code)
        c = found.get(code, CouncilCoverage(code))
        rows.append(
            {
                "council_code": code,
                "configured": (
                    f"{len(source.landing_pages)} landing pages, {len(source.ckan)} portals" if source else "fallback"
                ),
                "addresses": [p.url for p in source.landing_pages] + [p.base_url for p in source.ckan]
                if source
                else [],
                "evidence": evidence_lines(source)
                if source
                else ["not configured: portal search, then well-known paths"],
                "last_crawled_at": c.last_crawled_at.isoformat() if c.last_crawled_at else None,
                "found_via": c.found_via,
                "files": c.files,
                "files_stored": c.files_stored,
                "files_failed": c.files_failed,
                "newest_period": c.newest_period.isoformat() if c.newest_period else None,
                "unreachable": c.unreachable,
                "failures": [f"{url}: {error}" for url, error in c.failures],
            }
        )
    return rows
