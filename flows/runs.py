"""The runs table: one row per crawl or flow run, appended as each stage finishes."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from normalise.schema import conform
from normalise.store.commit import Transaction
from normalise.store.layout import Layout
from normalise.store.parquet_io import read_table, write_table


def new_run_id(flow: str) -> str:
    """A sortable, unique run id such as ``20261122T034501-crawl-1a2b3c``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{flow}-{uuid.uuid4().hex[:6]}"


@dataclass
class RunRecord:
    """Counters of one run; fields mirror the ``runs`` table."""

    flow: str
    run_id: str = ""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    requests: int = 0
    bytes_downloaded: int = 0
    files_new: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    files_failed: int = 0
    errors: int = 0
    councils: int = 0
    pages_failed: int = 0
    councils_unreachable: int = 0

    def __post_init__(self) -> None:
        self.run_id = self.run_id or new_run_id(self.flow)


def append_run(out: Path, record: RunRecord, tx: Transaction | None = None) -> None:
    """Close ``record`` and append it to ``<out>/runs.parquet`` (in the stage's commit, when given)."""
    record.finished_at = record.finished_at or datetime.now(UTC)
    path = Layout(out).table("runs")
    existing = read_table(tx.current(path) if tx else path, "runs")
    row = pa.Table.from_pylist([asdict(record)])
    write_table(pa.concat_tables([existing, conform(row, "runs")]), tx.file(path) if tx else path)
