"""A crawl run's logs: ``_crawl/<run_id>/items.jsonl``, one JSON line per file as it is stored (and
``pages.jsonl``, one per page read or not).

The line is written (and flushed) before the file's original is moved into ``raw/``, so every
stored original has its line: a crawl killed at any point leaves a log that the next run merges
into ``files.parquet`` (:func:`normalise.store.manifest.merge_interrupted_crawls`) before it
crawls, and the files it lists are revalidated (304), not downloaded again. A run's log is merged
once its ``stats.json`` exists: the two are committed together.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from normalise.store.errors import naming
from normalise.store.layout import Layout


class CrawlLog:
    """Appends a crawl run's items (files to ``items.jsonl``, pages to ``pages.jsonl``), each flushed as written."""

    def __init__(self, path: Path):
        self.path = path
        self._stream: TextIO | None = None

    def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise naming(exc, self.path) from None

    def append(self, record: dict) -> None:
        assert self._stream is not None, "open() first"
        try:
            self._stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._stream.flush()
        except OSError as exc:
            raise naming(exc, self.path) from None

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def read_items(path: Path) -> list[dict]:
    """Every whole line of a log; a line cut short by a killed run is skipped.

    >>> import tempfile
    >>> log = Path(tempfile.mkdtemp()) / "items.jsonl"
    >>> _ = log.write_text('{"url": "a"}\\n{"url": "b"}\\n{"url": "c", "sha2')
    >>> [item["url"] for item in read_items(log)]
    ['a', 'b']
    """
    if not path.exists():
        return []
    items = []
    with path.open(encoding="utf-8", errors="replace") as stream:
        for line in stream:
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and item.get("url"):
                items.append(item)
    return items


def interrupted_runs(layout: Layout) -> list[str]:
    """Crawl runs with a log (of files or pages) but no ``stats.json`` (never merged), oldest first."""
    if not layout.crawl_runs.is_dir():
        return []
    return sorted(
        run.name
        for run in layout.crawl_runs.iterdir()
        if (layout.crawl_items(run.name).is_file() or layout.crawl_pages(run.name).is_file())
        and not layout.crawl_stats(run.name).exists()
    )
