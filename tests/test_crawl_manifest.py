"""The raw store and the manifest: content addressing and the files.parquet merge."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq

from normalise.schema import arrow_schema
from normalise.store.layout import Layout
from normalise.store.manifest import known_files, merge_crawl
from normalise.store.raw import put_bytes

URL = "http://127.0.0.1:9/tst/spend-2025-03.csv"


def write_items(out: Path, run_id: str, *items: dict) -> None:
    path = out / "_crawl" / run_id / "items.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")


def item(**fields) -> dict:
    base = {
        "council_code": "TST",
        "url": URL,
        "landing_url": "http://127.0.0.1:9/tst/",
        "link_text": "March 2025 (CSV)",
        "dataset": "spend_over_500",
        "period_start": "2025-03-01",
        "period_end": "2025-03-31",
        "seen_at": "2026-01-01T10:00:00+00:00",
        "fetched_at": "2026-01-01T10:00:01+00:00",
        "http_status": 200,
        "etag": '"a"',
        "last_modified": None,
        "content_type": "text/csv",
        "size": 10,
        "sha256": "a" * 64,
        "format": "csv",
        "error": None,
        "outcome": "new",
    }
    return base | fields


def rows(out: Path) -> dict[str, dict]:
    table = pq.read_table(out / "files.parquet")
    assert table.schema.equals(arrow_schema("files"))
    return {row["url"]: row for row in table.to_pylist()}


def update_manifest(out: Path, run_id: str):
    return merge_crawl(Layout(out), run_id)[0]


def test_store_original_once_by_content(tmp_path):
    body = b"Date,Supplier,Amount\r\n01/03/2025,Acme,600.00\r\n"
    sha, path = put_bytes(Layout(tmp_path), body, "csv")
    assert sha == hashlib.sha256(body).hexdigest()
    assert path == tmp_path / "raw" / sha[:2] / f"{sha}.csv" and path.read_bytes() == body
    before = path.stat().st_mtime_ns
    assert put_bytes(Layout(tmp_path), body, "csv")[1] == path
    assert path.stat().st_mtime_ns == before  # not written again
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left behind


def test_failed_fetch_keeps_the_last_good_copy_and_a_later_success_clears_the_error(tmp_path):
    write_items(tmp_path, "r1", item())
    assert update_manifest(tmp_path, "r1").new == 1
    table = pq.read_table(tmp_path / "files.parquet").to_pylist()
    table[0].update(parse_status="ok", rows=5, rows_rejected=0)
    pq.write_table(
        type(pq.read_table(tmp_path / "files.parquet")).from_pylist(table, schema=arrow_schema("files")),
        tmp_path / "files.parquet",
    )

    write_items(
        tmp_path,
        "r2",
        item(
            seen_at="2026-02-01T10:00:00+00:00",
            fetched_at="2026-02-01T10:00:01+00:00",
            http_status=503,
            sha256=None,
            size=None,
            format=None,
            etag=None,
            error="HTTP 503",
            outcome="failed",
        ),
    )
    update = update_manifest(tmp_path, "r2")
    assert (update.new, update.failed) == (0, 1)
    row = rows(tmp_path)[URL]
    assert row["sha256"] == "a" * 64 and row["parse_status"] == "ok" and row["rows"] == 5
    assert row["http_status"] == 503 and row["error"] == "HTTP 503"
    assert str(row["fetched_at"]).startswith("2026-01-01")  # the last successful fetch
    assert str(row["last_seen_at"]).startswith("2026-02-01") and str(row["first_seen_at"]).startswith("2026-01-01")
    assert known_files(Layout(tmp_path))[URL].sha256 == "a" * 64  # still revalidated next time

    write_items(
        tmp_path,
        "r3",
        item(
            seen_at="2026-03-01T10:00:00+00:00",
            fetched_at="2026-03-01T10:00:01+00:00",
            http_status=304,
            etag=None,
            content_type=None,
            outcome="unchanged",
        ),
    )
    assert update_manifest(tmp_path, "r3").unchanged == 1
    row = rows(tmp_path)[URL]
    assert row["error"] is None and row["http_status"] == 304 and row["parse_status"] == "ok"
    assert row["etag"] == '"a"'  # a 304 without headers keeps the stored ones


def test_a_run_with_two_items_for_one_url_counts_it_once(tmp_path):
    write_items(tmp_path, "r1", item(outcome="failed", http_status=None, sha256=None, error="timed out"), item())
    update = update_manifest(tmp_path, "r1")
    assert (update.new, update.failed) == (1, 0)
    assert rows(tmp_path)[URL]["sha256"] == "a" * 64


def test_a_run_with_no_items_leaves_an_empty_manifest(tmp_path):
    update = update_manifest(tmp_path, "nothing")
    assert (update.new, update.changed, update.unchanged, update.failed, update.requests) == (0, 0, 0, 0, 0)
    assert rows(tmp_path) == {}
