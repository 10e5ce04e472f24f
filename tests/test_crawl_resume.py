"""A killed crawl loses nothing it stored: the next run records it and revalidates instead of downloading.

The fixture site of ``test_crawl`` serves the files; a first crawl is cut short the way a kill
leaves it (its log written up to a torn last line, no ``stats.json``, nothing merged into
``files.parquet``), then a second crawl runs.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import pyarrow.parquet as pq
from scrapy.utils.misc import load_object
from test_crawl import crawl, site, sources  # noqa: F401 (fixtures)

from crawler.items import FileItem
from normalise.store.crawl_log import read_items
from normalise.store.layout import Layout
from normalise.store.raw import Spool, discard_incoming, put
from pipelines.manifest import describe_content


def test_files_stored_by_a_killed_crawl_are_recorded_and_revalidated_not_downloaded(site, sources, tmp_path):  # noqa: F811
    whole = tmp_path / "whole"
    assert crawl(sources, whole, "first").returncode == 0
    killed = tmp_path / "killed"
    shutil.copytree(whole / "raw", killed / "raw")
    lines = (whole / "_crawl/first/items.jsonl").read_text().splitlines(keepends=True)
    stored = [json.loads(line) for line in lines if json.loads(line)["sha256"]]
    torn = stored[-1]
    kept = [line for line in lines if json.loads(line)["url"] != torn["url"]]
    log = Layout(killed).crawl_items("first")
    log.parent.mkdir(parents=True)
    log.write_text("".join(kept) + json.dumps(torn)[:40])  # killed while writing the last line

    site.requests.clear()
    result = crawl(sources, killed, "second")
    assert result.returncode == 0, result.stderr
    stats = json.loads(Layout(killed).crawl_stats("second").read_text())
    revalidated = {item["url"] for item in stored} - {torn["url"]}
    assert stats["responses_by_status"]["304"] == stats["files"]["unchanged"] == len(revalidated)
    assert stats["files"]["new"] == 1  # only the file whose line the kill cut short
    assert json.loads(Layout(killed).crawl_stats("first").read_text())["interrupted"] is True
    files = {row["url"]: row for row in pq.read_table(killed / "files.parquet").to_pylist()}
    assert files[torn["url"]]["http_status"] == 200 and files[torn["url"]]["sha256"] == torn["sha256"]
    first = {row["url"]: row for row in pq.read_table(whole / "files.parquet").to_pylist()}
    for url in revalidated:
        assert files[url]["sha256"] == first[url]["sha256"] and files[url]["http_status"] == 304
        assert files[url]["first_seen_at"] == first[url]["first_seen_at"]  # seen by the killed run


def test_a_spool_is_hashed_as_written_and_moved_whole_into_raw(tmp_path):
    layout = Layout(tmp_path)
    spool = Spool(layout)
    body = b"%PDF-1.4\n" + b"x" * 100_000
    for start in range(0, len(body), 7000):
        spool.write(body[start : start + 7000])
    spooled = spool.finish()
    assert spooled.sha256 == hashlib.sha256(body).hexdigest() and spooled.size == len(body)
    item = FileItem("BIR", "http://127.0.0.1/a", spooled=spooled)
    describe_content(item)
    assert (item.sha256, item.size, item.format) == (spooled.sha256, len(body), "pdf")
    path = put(layout, spooled, item.format)
    assert path == layout.raw_file(spooled.sha256, "pdf") and path.read_bytes() == body
    again = Spool(layout)
    again.write(body)
    assert put(layout, again.finish(), "pdf") == path  # same bytes: stored once
    assert not any(layout.incoming.iterdir())


def test_spools_of_a_killed_download_are_discarded(tmp_path):
    layout = Layout(tmp_path)
    Spool(layout).write(b"half a file")
    assert discard_incoming(layout) == 1 and not layout.incoming.exists()


def test_items_without_a_spool_are_described_from_their_body():
    item = FileItem("BIR", "http://127.0.0.1/a", body=b"Date,Supplier,Amount\r\n")
    describe_content(item)
    assert item.format == "csv" and item.size == 22


def test_a_file_is_recorded_before_its_original_is_stored(tmp_path, monkeypatch):
    """The pipelines, in their configured order: a crash between the two leaves a line, never an unrecorded original."""
    from scrapy.utils.test import get_crawler

    import pipelines.store
    from crawler import settings

    crawler = get_crawler(settings_dict={"COUNCILSPEND_OUT": str(tmp_path), "COUNCILSPEND_RUN_ID": "r1"})
    ordered = sorted(settings.ITEM_PIPELINES, key=settings.ITEM_PIPELINES.__getitem__)
    stages = [load_object(path).from_crawler(crawler) for path in ordered]

    def crash(*args):
        raise RuntimeError("killed while storing")

    monkeypatch.setattr(pipelines.store, "put", crash)
    layout = Layout(tmp_path)
    spool = Spool(layout)
    spool.write(b"Date,Supplier,Amount\r\n01/01/2025,Acme Ltd,600.00\r\n")
    item = FileItem("BIR", "http://127.0.0.1/a.csv", http_status=200, spooled=spool.finish())
    for stage in stages:
        if hasattr(stage, "open_spider"):
            stage.open_spider()
    try:
        for stage in stages:
            item = stage.process_item(item)
    except RuntimeError:
        pass
    for stage in stages:
        if hasattr(stage, "close_spider"):
            stage.close_spider()
    recorded = read_items(layout.crawl_items("r1"))
    assert [i["url"] for i in recorded] == ["http://127.0.0.1/a.csv"] and recorded[0]["sha256"]
    assert not layout.raw.exists()  # the crash came before the original was stored
