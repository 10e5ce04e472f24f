"""A full disk, for real: the output folder on a small tmpfs that a filler file tops up.

Each stage that hits it ends with one line naming the path, and the previous outputs stay whole
(no DuckDB without views, no stray write-ahead log, no half-written table, nothing staged left).
Mounting needs root (CI runs as root); elsewhere these tests skip.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_crawl import crawl, site, sources  # noqa: F401 (fixtures)
from test_normalise_store import COUNCILS, crawled, manifest, spend_rows
from typer.testing import CliRunner

from flows.cli import app
from flows.normalise_files import normalise_flow
from flows.publish import compliance_flow, publish_flow
from normalise.publish.package import connect
from normalise.store.layout import Layout
from normalise.store.raw import put_bytes


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MB filesystem of its own."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip() or 'not root'}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of the disk; returns the filler (delete it to free the space)."""
    filler = disk / f"filler-{uuid.uuid4().hex}"
    with open(filler, "wb", buffering=0) as stream:
        for block in (1 << 16, 1 << 12, 1):
            with contextlib.suppress(OSError):
                while True:
                    stream.write(b"\0" * block)
    assert os.statvfs(disk).f_bavail == 0
    return filler


def nothing_left_over(out: Path) -> None:
    layout = Layout(out)
    assert not [p for p in out.rglob("*.wal")], "a write-ahead log was left behind"
    assert not [p for p in out.rglob("*.tmp")], "a temporary file was left behind"
    assert not layout.staging_root.exists() or not any(layout.staging_root.iterdir())


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_publish_on_a_full_disk_leaves_the_previous_database_working(disk, prefect_harness):
    out = crawled(disk / "out")
    normalise_flow(out, workers=1)
    compliance_flow(out)
    publish_flow(out)
    with connect(out) as con:
        before = con.sql("SELECT count(*) FROM spend").fetchall()[0][0]
    filler = fill(disk)
    (disk / "out" / "suppliers.parquet").unlink(missing_ok=True)  # the next database would differ
    result = run("publish", "--out", str(out))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert str(out) in lines[0] and "No space left on device" in lines[0]
    with connect(out) as con:
        assert con.sql("SELECT count(*) FROM spend").fetchall()[0][0] == before
    assert json.loads(Layout(out).datapackage.read_text())["resources"]
    nothing_left_over(out)
    filler.unlink()
    assert run("publish", "--out", str(out)).exit_code == 0


def test_normalise_on_a_full_disk_keeps_the_published_spend_and_finishes_later(disk, prefect_harness):
    out = crawled(disk / "out")
    normalise_flow(out, workers=2)
    before = spend_rows(out)
    layout = Layout(out)
    body = b"Date,Supplier,Amount\r\n" + b"".join(
        b"05/04/2025,Late Supplier %d Ltd,700.00\r\n" % i for i in range(3000)
    )
    sha, _ = put_bytes(layout, body, "csv")
    rows = pq.read_table(layout.manifest).to_pylist()
    unparsed = dict.fromkeys(("parse_status", "rows", "rows_rejected", "columns_mapped", "error", "parser_version"))
    rows.append(
        rows[0] | unparsed | {"url": "http://127.0.0.1:9/BIR/spend-2025-04.csv", "sha256": sha, "size": len(body)}
    )
    pq.write_table(pa.Table.from_pylist(rows, schema=pq.read_schema(layout.manifest)), layout.manifest)
    filler = fill(disk)
    with pytest.raises(OSError) as full:
        normalise_flow(out, workers=2)
    assert full.value.errno == errno.ENOSPC and str(out) in str(full.value.filename)
    assert spend_rows(out) == before
    assert manifest(out)["http://127.0.0.1:9/BIR/spend-2025-04.csv"]["parse_status"] is None
    nothing_left_over(out)
    filler.unlink()
    normalise_flow(out, workers=2)
    assert spend_rows(out) == {"BIR": before["BIR"] + 3000, "MAN": before["MAN"]}
    assert set(COUNCILS) == set(spend_rows(out))


def test_a_crawl_on_a_full_disk_stops_with_one_line_and_the_next_one_completes(disk, site, sources):  # noqa: F811
    out = disk / "out"
    assert crawl(sources, out, "first").returncode == 0
    before = Layout(out).manifest.read_bytes()
    changed = site.root / "council/spend/files/spend-2025-03.csv"
    changed.write_bytes(changed.read_bytes() + b"31/03/2025,Late Invoice Ltd,501.00\r\n" * 300)
    filler = fill(disk)
    result = crawl(sources, out, "second")
    assert result.returncode == 1
    message = result.stderr.strip().splitlines()
    assert len(message) == 1 and "No space left on device" in message[0] and str(out) in message[0], result.stderr
    assert Layout(out).manifest.read_bytes() == before
    filler.unlink()
    assert crawl(sources, out, "third").returncode == 0
    row = {r["url"]: r for r in manifest(out).values()}[f"{site.base_url}/council/spend/files/spend-2025-03.csv"]
    assert row["size"] == changed.stat().st_size
    assert not Layout(out).incoming.exists() or not any(Layout(out).incoming.iterdir())


def test_a_parse_that_meets_a_full_disk_is_tried_again_not_recorded_failed(tmp_path, prefect_harness):
    """The parser processes write each file's rows to a full disk: the files wait for the next run."""
    out = crawled(tmp_path / "out")
    parsed = Layout(out).parsed("MAN", "x", "").parent
    parsed.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(parsed)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        fill(parsed)
        result = CliRunner().invoke(app, ["normalise", "--out", str(out), "--workers", "2"], catch_exceptions=False)
        assert result.exit_code == 2 and "3 files could not be parsed now" in result.output
        assert "No space left on device" in result.output and len(result.output.strip().splitlines()) == 1
        assert spend_rows(out)["BIR"] == 15  # the files the disk did not stop are published
        man = [row for row in manifest(out).values() if row["council_code"] == "MAN"]
        assert {row["parse_status"] for row in man} == {None} and {row["error"] for row in man} == {None}
    finally:
        subprocess.run(["umount", "-l", str(parsed)], check=False)
    assert normalise_flow(out, workers=2).files_new == 3
    assert {row["parse_status"] for row in manifest(out).values()} == {"ok"}
    assert spend_rows(out) == {"BIR": 15, "MAN": 15}
