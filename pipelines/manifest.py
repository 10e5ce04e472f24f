"""The files manifest: every file link found, what fetching it gave, and what changed.

During a crawl, :class:`ManifestPipeline` appends one JSON line per file item to
``<out>/_crawl/<run_id>/items.jsonl``, with its outcome against the manifest as it
stood when the run began: ``new``, ``changed`` (another sha256), ``unchanged``
(304, or the same bytes) or ``failed``. After the crawl, :func:`update_manifest`
merges those lines into ``<out>/files.parquet`` (upsert by URL). Merging the same
run twice gives the same manifest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import pyarrow as pa
import pyarrow.parquet as pq

from normalise.schema import arrow_schema, conform
from normalise.store.atomic import write_parquet
from normalise.store.layout import Layout

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from crawler.items import FileItem

OUTCOMES = ("new", "changed", "unchanged", "failed")
#: Columns the normaliser fills; cleared when a file's content changes so it is parsed again.
PARSE_COLUMNS = ("parse_status", "rows", "rows_rejected", "columns_mapped", "error")
#: Columns describing the fetched content, kept from the last good fetch when a fetch fails.
CONTENT_COLUMNS = ("sha256", "size", "format", "content_type", "etag", "last_modified", "fetched_at")


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


def known_files(out_dir: Path) -> dict[str, KnownFile]:
    """Files already in the manifest, by URL (empty before the first crawl)."""
    path = Layout(out_dir).manifest
    if not path.exists():
        return {}
    columns = ["url", "sha256", "etag", "last_modified", "format", "size", "content_type"]
    table = pq.read_table(path, columns=columns)
    return {row.pop("url"): KnownFile(**row) for row in table.to_pylist()}


def classify(item: FileItem, previous: KnownFile | None) -> str:
    """The outcome of one fetch compared with what the manifest knew.

    >>> from crawler.items import FileItem
    >>> known = KnownFile("ab", '"e1"', None, "csv", 10, "text/csv")
    >>> classify(FileItem("BIR", "http://x/a.csv", http_status=304), known)
    'unchanged'
    >>> classify(FileItem("BIR", "http://x/a.csv", http_status=200, sha256="cd"), known)
    'changed'
    >>> classify(FileItem("BIR", "http://x/b.csv", http_status=200, sha256="cd"), None)
    'new'
    >>> classify(FileItem("BIR", "http://x/a.csv", http_status=404), known)
    'failed'
    """
    if item.error or item.http_status is None or item.http_status >= 400:
        return "failed"
    if item.http_status == 304:
        return "unchanged" if previous and previous.sha256 else "failed"
    if previous is None or previous.sha256 is None:
        return "new"
    return "unchanged" if previous.sha256 == item.sha256 else "changed"


class ManifestPipeline:
    """Item pipeline: classify each file item and append it to the run's items.jsonl."""

    def __init__(self, out_dir: Path, run_id: str, stats: StatsCollector):
        self.out_dir = Path(out_dir)
        self.items_path = Layout(out_dir).crawl_run(run_id) / "items.jsonl"
        self.stats = stats
        self.known: dict[str, KnownFile] = {}
        self.stream: TextIO | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ManifestPipeline:
        settings = crawler.settings
        return cls(Path(settings["COUNCILSPEND_OUT"]), settings["COUNCILSPEND_RUN_ID"], crawler.stats)

    def open_spider(self) -> None:
        self.known = known_files(self.out_dir)
        self.items_path.parent.mkdir(parents=True, exist_ok=True)
        self.stream = self.items_path.open("a", encoding="utf-8")

    def close_spider(self) -> None:
        if self.stream:
            self.stream.close()

    def process_item(self, item: FileItem) -> FileItem:
        if not hasattr(item, "outcome"):  # a page item: the pages pipeline records it
            return item
        previous = self.known.get(item.url)
        item.outcome = classify(item, previous)
        if item.http_status == 304 and previous:
            for name in ("sha256", "format", "size", "content_type"):
                if getattr(item, name) is None:
                    setattr(item, name, getattr(previous, name))
        if item.outcome == "failed" and item.error is None:
            item.error = f"HTTP {item.http_status}" if item.http_status else "not fetched"
        self.stats.inc_value(f"councilspend/files/{item.outcome}")
        assert self.stream is not None, "open_spider opens the stream"
        self.stream.write(json.dumps(item.record(), ensure_ascii=False) + "\n")
        self.stream.flush()
        return item


def read_run_items(out_dir: Path, run_id: str) -> list[dict]:
    """The run's file items, one per URL (a successful fetch wins over a failed one)."""
    path = Layout(out_dir).crawl_run(run_id) / "items.jsonl"
    if not path.exists():
        return []
    by_url: dict[str, dict] = {}
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            if not line.strip():
                continue
            item = json.loads(line)
            earlier = by_url.get(item["url"])
            if earlier is None or earlier["outcome"] == "failed" or item["outcome"] != "failed":
                by_url[item["url"]] = item
    return list(by_url.values())


def update_manifest(out_dir: Path, run_id: str) -> ManifestUpdate:
    """Merge a crawl run's items into ``<out>/files.parquet``; idempotent.

    Upsert by URL: ``first_seen_at`` is kept, ``last_seen_at`` and the fetch
    fields are updated. A changed file (new sha256) loses its parse results so the
    normaliser reads it again; an unchanged one keeps them; a failed fetch keeps
    the content of the last good fetch and records the status and error.
    """
    out_dir = Path(out_dir)
    items = read_run_items(out_dir, run_id)
    path = Layout(out_dir).manifest
    rows = {row["url"]: row for row in pq.read_table(path).to_pylist()} if path.exists() else {}
    counts = dict.fromkeys(OUTCOMES, 0)
    for item in items:
        counts[item["outcome"]] += 1
        rows[item["url"]] = _merged_row(rows.get(item["url"]), item)
    table = pa.Table.from_pylist(list(rows.values()), schema=arrow_schema("files"))
    write_parquet(path, conform(table, "files"))
    stats = _run_stats(out_dir, run_id)
    return ManifestUpdate(
        new=counts["new"],
        changed=counts["changed"],
        unchanged=counts["unchanged"],
        failed=counts["failed"],
        requests=int(stats.get("requests", 0)),
        bytes=int(stats.get("bytes", 0)),
    )


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


def _run_stats(out_dir: Path, run_id: str) -> dict:
    path = Layout(out_dir).crawl_run(run_id) / "stats.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _timestamp(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
