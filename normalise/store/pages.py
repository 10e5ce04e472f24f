"""``pages.parquet``: every page read (or not) while looking for councils' files; the store writes it.

During a crawl the pages pipeline appends one JSON line per page to ``_crawl/<run_id>/pages.jsonl``.
The store merges a run's lines into ``pages.parquet`` (one row per council and page address: when
it was first and last asked for, the last outcome, how many crawls in a row it has failed) in the
commit that merges its files (:func:`normalise.store.manifest.merge_crawl`), so "the site was
down" is data (compliance's ``site_unreachable``, ``councilspend sources check``), not a log line.
Merging the same run twice gives the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from normalise.schema import arrow_schema
from normalise.store.crawl_log import read_items
from normalise.store.layout import Layout
from normalise.store.parquet_io import read_table


@dataclass(frozen=True)
class PagesUpdate:
    """What one crawl run found of its pages."""

    read: int
    failed: int
    councils: int
    unreachable: tuple[str, ...]  # councils none of whose entry pages could be read


def run_pages(layout: Layout, run_id: str) -> list[dict]:
    """The run's page items, one per council and address (a successful read wins over a failure)."""
    by_key: dict[tuple[str, str], dict] = {}
    for page in read_items(layout.crawl_pages(run_id)):
        key = (page["council_code"], page["url"])
        earlier = by_key.get(key)
        if earlier is None or earlier["error"] is not None or page["error"] is None:
            by_key[key] = {**page, "entry": page["entry"] or bool(earlier and earlier["entry"])}
    return list(by_key.values())


def merged_pages(layout: Layout, run_id: str, current: pa.Table) -> tuple[pa.Table, PagesUpdate]:
    """``current`` (the pages table) with a crawl run's page items upserted by council and address."""
    pages = run_pages(layout, run_id)
    rows = {(r["council_code"], r["url"]): r for r in current.to_pylist()}
    for page in pages:
        key = (page["council_code"], page["url"])
        rows[key] = merged_page(rows.get(key), page, run_id)
    reached = {p["council_code"] for p in pages if p["entry"] and p["error"] is None}
    tried = {p["council_code"] for p in pages if p["entry"]}
    update = PagesUpdate(
        read=sum(p["error"] is None for p in pages),
        failed=sum(p["error"] is not None for p in pages),
        councils=len({p["council_code"] for p in pages}),
        unreachable=tuple(sorted(tried - reached)),
    )
    return pa.Table.from_pylist(list(rows.values()), schema=arrow_schema("pages")), update


def read_pages(layout: Layout) -> pa.Table:
    return read_table(layout.table("pages"), "pages")


def merged_page(existing: dict | None, page: dict, run_id: str) -> dict:
    """One page's row after this run's attempt.

    >>> first = merged_page(None, {"council_code": "BIR", "url": "http://x/spend", "kind": "landing",
    ...     "entry": True, "checked_at": "2026-11-01T10:00:00+00:00", "error": "timed out"}, "r1")
    >>> first["failures_in_a_row"], first["last_ok_at"]
    (1, None)
    >>> again = merged_page(first, {**first, "checked_at": "2026-11-08T10:00:00+00:00", "error": None,
    ...     "http_status": 200, "files_found": 12}, "r2")
    >>> again["failures_in_a_row"], again["last_ok_at"].isoformat(), again["first_seen_at"].isoformat()
    (0, '2026-11-08T10:00:00+00:00', '2026-11-01T10:00:00+00:00')
    >>> merged_page(again, {**again, "error": "timed out"}, "r2") == again  # the same run merged again
    True
    """
    if existing is not None and existing.get("run_id") == run_id:
        return existing
    checked = page["checked_at"]
    checked_at = datetime.fromisoformat(checked) if isinstance(checked, str) else checked
    row: dict[str, Any] = (
        dict(existing) if existing else {"first_seen_at": checked_at, "failures_in_a_row": 0, "last_ok_at": None}
    )
    row.update(
        council_code=page["council_code"],
        url=page["url"],
        kind=page["kind"],
        entry=bool(page["entry"]),
        dataset=page.get("dataset"),
        checked_at=checked_at,
        http_status=page.get("http_status"),
        error=page.get("error"),
        run_id=run_id,
    )
    if page.get("error") is None:
        row.update(
            last_ok_at=checked_at,
            failures_in_a_row=0,
            final_url=page.get("final_url"),
            files_found=page.get("files_found") or 0,
        )
    else:
        row["failures_in_a_row"] = (row.get("failures_in_a_row") or 0) + 1
    return row
