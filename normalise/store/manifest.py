"""``files.parquet``, the manifest: the store is its one writer, once per stage.

Two stages change it, each in one commit:

* the crawl merges its run's log (:func:`merge_crawl`, with the pages it read into ``pages.parquet``): upsert by URL, ``first_seen_at`` kept,
  ``last_seen_at`` and the fetch columns updated; a file whose content changed loses its parse
  results so the normaliser reads it again; a failed fetch keeps the content of the last good one.
  The run's ``stats.json`` is committed with it, which marks the log as merged; a log without one
  (a killed crawl) is merged by the next run (:func:`merge_interrupted_crawls`). Merging a run
  twice gives the same manifest.
* the normaliser records what parsing found (:func:`with_parse_results`), in the commit that
  publishes the rows it describes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime

import pyarrow as pa
import pyarrow.parquet as pq

from normalise.schema import arrow_schema, conform
from normalise.store.atomic import write_json
from normalise.store.commit import Transaction
from normalise.store.crawl_log import interrupted_runs, read_items
from normalise.store.layout import Layout
from normalise.store.pages import PagesUpdate, merged_pages, read_pages
from normalise.store.parquet_io import read_table, write_table

logger = logging.getLogger(__name__)

OUTCOMES = ("new", "changed", "unchanged", "failed")
#: Columns the normaliser fills; cleared when a file's content changes so it is parsed again.
PARSE_COLUMNS = ("parse_status", "rows", "rows_rejected", "columns_mapped", "error", "parser_version")
#: Columns describing the fetched content, kept from the last good fetch when a fetch fails.
CONTENT_COLUMNS = ("sha256", "size", "format", "content_type", "etag", "last_modified", "fetched_at", "final_url")


@dataclass(frozen=True)
class KnownFile:
    """What the manifest remembers of a file: enough to revalidate and compare it."""

    sha256: str | None
    etag: str | None
    last_modified: str | None
    format: str | None
    size: int | None
    content_type: str | None


@dataclass(frozen=True)
class ManifestUpdate:
    """What one crawl run changed in the manifest."""

    new: int
    changed: int
    unchanged: int
    failed: int
    requests: int
    bytes: int


def known_files(layout: Layout) -> dict[str, KnownFile]:
    """Files already in the manifest, by URL (empty before the first crawl)."""
    if not layout.manifest.exists():
        return {}
    columns = ["url", "sha256", "etag", "last_modified", "format", "size", "content_type"]
    table = pq.read_table(layout.manifest, columns=columns)
    return {row.pop("url"): KnownFile(**row) for row in table.to_pylist()}


def run_items(layout: Layout, run_id: str) -> list[dict]:
    """The run's file items, one per URL (a successful fetch wins over a failed one)."""
    by_url: dict[str, dict] = {}
    for item in read_items(layout.crawl_items(run_id)):
        earlier = by_url.get(item["url"])
        if earlier is None or earlier.get("outcome") == "failed" or item.get("outcome") != "failed":
            by_url[item["url"]] = item
    return list(by_url.values())


def merge_crawl(layout: Layout, run_id: str, stats: dict | None = None) -> tuple[ManifestUpdate, PagesUpdate]:
    """Merge a crawl run's logs into ``files.parquet`` and ``pages.parquet``; commit them with its ``stats.json``."""
    items = run_items(layout, run_id)
    rows = {row["url"]: row for row in read_table(layout.manifest, "files").to_pylist()}
    counts = dict.fromkeys(OUTCOMES, 0)
    for item in items:
        outcome = str(item.get("outcome")) if item.get("outcome") in OUTCOMES else "failed"
        counts[outcome] += 1
        rows[item["url"]] = _merged_row(rows.get(item["url"]), item | {"outcome": outcome})
    stats = dict(stats or {})
    update = ManifestUpdate(
        new=counts["new"],
        changed=counts["changed"],
        unchanged=counts["unchanged"],
        failed=counts["failed"],
        requests=int(stats.get("requests", 0)),
        bytes=int(stats.get("bytes", 0)),
    )
    table = pa.Table.from_pylist(list(rows.values()), schema=arrow_schema("files"))
    pages, pages_update = merged_pages(layout, run_id, read_pages(layout))
    with Transaction(layout, "crawl") as tx:
        write_table(conform(table, "files"), tx.file(layout.manifest))
        write_table(pages, tx.file(layout.table("pages")))
        recorded = stats | {"manifest": asdict(update), "pages": asdict(pages_update)}
        write_json(tx.file(layout.crawl_stats(run_id)), recorded)
    return update, pages_update


def merge_interrupted_crawls(layout: Layout) -> list[str]:
    """Merge the logs of crawls killed before they merged them (under the lock), oldest first."""
    merged = interrupted_runs(layout)
    for run_id in merged:
        update, _ = merge_crawl(layout, run_id, {"interrupted": True})
        logger.warning(
            "recorded %d files stored by the interrupted crawl %s",
            update.new + update.changed + update.unchanged,
            run_id,
        )
    return merged


def _merged_row(existing: dict | None, item: dict) -> dict:
    seen_at = _timestamp(item.get("seen_at"))
    row = dict(existing) if existing else {"first_seen_at": seen_at}
    row["first_seen_at"] = row.get("first_seen_at") or seen_at
    row["last_seen_at"] = seen_at
    for name in ("council_code", "url", "landing_url", "link_text", "dataset"):
        row[name] = item.get(name) or row.get(name)
    for name in ("period_start", "period_end"):
        row[name] = _date(item.get(name)) or row.get(name)
    row["http_status"] = item.get("http_status")
    outcome = item["outcome"]
    if outcome == "failed":
        row["error"] = item.get("error")
        return row
    fetched = {
        "sha256": item.get("sha256"),
        "size": item.get("size"),
        "format": item.get("format"),
        "content_type": item.get("content_type"),
        "etag": item.get("etag"),
        "last_modified": item.get("last_modified"),
        "fetched_at": _timestamp(item.get("fetched_at")),
        "final_url": item.get("final_url"),
    }
    for name in CONTENT_COLUMNS:
        # a 304 may leave out headers that did not change
        if fetched[name] is not None or outcome != "unchanged":
            row[name] = fetched[name]
    if outcome in ("new", "changed"):
        for name in PARSE_COLUMNS:
            row[name] = None
    elif existing and not 200 <= (existing.get("http_status") or 0) < 400:
        row["error"] = None  # the last fetch failed and this one did not; parse errors are kept
    return row


@dataclass(frozen=True)
class ParseRecord:
    """What the normaliser records of one (council, sha256): ``columns`` replace, ``fills`` fill only empty cells."""

    columns: Mapping[str, object]
    fills: Mapping[str, object]


def with_parse_results(files: pa.Table, results: Mapping[tuple[str, str], ParseRecord]) -> pa.Table:
    """``files`` with the parse results of each (council, sha256) in ``results``.

    The parse columns are replaced; what the link already said (dataset, period) is filled in
    only where it said nothing, unless the record replaces it.
    """
    rows = files.to_pylist()
    for row in rows:
        result = results.get((row["council_code"], row["sha256"])) if row["sha256"] else None
        if result is None:
            continue
        row.update(result.columns)
        for name, value in result.fills.items():
            row[name] = row[name] or value
    return pa.Table.from_pylist(rows, schema=files.schema)


def _timestamp(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
