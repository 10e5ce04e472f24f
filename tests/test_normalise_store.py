"""The normalise stage and the store: status only after data, re-parse, transient failures, parser versions.

Each test starts from a folder as a crawl leaves it: originals in ``raw/`` and their rows in
``files.parquet`` (two councils, three spend files each), then runs the real normalise flow.
"""

from __future__ import annotations

import errno
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import flows.normalise_files as normalise_files
import normalise.parsing.batch as batch
import normalise.parsing.rebuild as rebuild
from flows.normalise_files import normalise_flow
from normalise.parsing.parse import read_output
from normalise.schema import arrow_schema
from normalise.store.layout import Layout
from normalise.store.raw import put_bytes
from normalise.store.work import load_parse

COUNCILS = ("BIR", "MAN")
MONTHS = (1, 2, 3)


def spend_csv(council: str, month: int, rows: int = 5) -> bytes:
    lines = [
        f"{day:02d}/{month:02d}/2025,{council} Supplier {day} Ltd,{500 + day}.{month:02d}" for day in range(1, rows + 1)
    ]
    return ("Date,Supplier,Amount\r\n" + "\r\n".join(lines) + "\r\n").encode()


def crawled(out: Path) -> Path:
    """A folder as the crawl leaves it."""
    layout = Layout(out)
    rows = []
    for council in COUNCILS:
        for month in MONTHS:
            sha, _ = put_bytes(layout, spend_csv(council, month), "csv")
            seen = datetime(2025, 6, 1, tzinfo=UTC)
            rows.append(
                {
                    "council_code": council,
                    "url": f"http://127.0.0.1:9/{council}/spend-2025-{month:02d}.csv",
                    "first_seen_at": seen,
                    "last_seen_at": seen,
                    "fetched_at": seen,
                    "http_status": 200,
                    "sha256": sha,
                    "format": "csv",
                    "size": len(spend_csv(council, month)),
                    "dataset": "spend_over_500",
                    "period_start": date(2025, month, 1),
                    "period_end": date(2025, month, 28),
                }
            )
    pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema("files")), layout.manifest)
    return out


def manifest(out: Path) -> dict[str, dict]:
    return {row["url"]: row for row in pq.read_table(Layout(out).manifest).to_pylist()}


def spend_rows(out: Path) -> dict[str, int]:
    layout = Layout(out)
    return {c: sum(pq.read_metadata(f).num_rows for f in layout.spend_files(c)) for c in COUNCILS}


def partition_inodes(out: Path) -> dict[str, int]:
    return {c: Layout(out).spend_council(c).stat().st_ino for c in COUNCILS}


@pytest.fixture
def out(tmp_path: Path, prefect_harness) -> Path:
    return crawled(tmp_path / "out")


def test_a_stage_that_dies_before_its_commit_records_nothing_and_the_next_run_finishes(out, monkeypatch):
    """The failure of the issue: files were marked parsed before their council was rebuilt."""

    def dies(build, root):
        raise RuntimeError("killed while rebuilding")

    monkeypatch.setattr(rebuild, "rebuild_council", dies)
    with pytest.raises(RuntimeError):
        normalise_flow(out, workers=1)
    assert all(row["parse_status"] is None for row in manifest(out).values())  # nothing claimed
    assert not Layout(out).spend.exists() and not any(Layout(out).staging_root.iterdir())
    monkeypatch.undo()
    normalise_flow(out, workers=1)
    assert spend_rows(out) == {"BIR": 15, "MAN": 15}
    assert {row["parse_status"] for row in manifest(out).values()} == {"ok"}
    assert {row["rows"] for row in manifest(out).values()} == {5}


def test_a_transient_failure_leaves_the_file_to_be_parsed_again(out, monkeypatch):
    real = batch.write_parse
    victim = f"{manifest(out)['http://127.0.0.1:9/MAN/spend-2025-02.csv']['sha256']}"

    def disk_full_for_one(run, out_path, **kwargs):
        if run.sha256 == victim:
            raise OSError(errno.ENOSPC, "No space left on device", str(out_path))
        return real(run, out_path, **kwargs)

    monkeypatch.setattr(batch, "write_parse", disk_full_for_one)
    with pytest.raises(normalise_files.ParsingIncomplete) as incomplete:
        normalise_flow(out, workers=1)
    assert "1 files could not be parsed now" in str(incomplete.value) and "No space left" in str(incomplete.value)
    runs = pq.read_table(Layout(out).table("runs")).to_pylist()
    assert (runs[-1]["files_new"], runs[-1]["files_failed"]) == (5, 0)  # the rest was committed
    row = manifest(out)["http://127.0.0.1:9/MAN/spend-2025-02.csv"]
    assert row["parse_status"] is None and row["error"] is None  # not a permanent "failed"
    assert spend_rows(out) == {"BIR": 15, "MAN": 10}
    monkeypatch.undo()
    assert normalise_flow(out, workers=1).files_new == 1
    assert manifest(out)["http://127.0.0.1:9/MAN/spend-2025-02.csv"]["parse_status"] == "ok"
    assert spend_rows(out) == {"BIR": 15, "MAN": 15}


def test_reparse_of_failed_files_recovers_them(out, monkeypatch):
    real = batch.write_parse

    def broken_parser(run, out_path, **kwargs):
        summary = real(run, out_path, **kwargs)
        if run.council_code == "BIR":
            summary.update(status="failed", error="a parser bug since fixed")
        return summary

    monkeypatch.setattr(batch, "write_parse", broken_parser)
    normalise_flow(out, workers=1)
    assert {r["parse_status"] for r in manifest(out).values() if r["council_code"] == "BIR"} == {"failed"}
    monkeypatch.undo()
    assert normalise_flow(out, workers=1).files_new == 0  # nothing to do without --reparse
    before = partition_inodes(out)
    record = normalise_flow(out, workers=1, reparse=True, statuses=["failed"])
    assert record.files_new == 3  # only BIR's failed files
    assert {r["parse_status"] for r in manifest(out).values()} == {"ok"}
    assert partition_inodes(out)["MAN"] == before["MAN"]  # untouched council not rebuilt


def new_parser_version(monkeypatch) -> None:
    """The parser's version raised where files are chosen for parsing and where parses are saved."""
    version = normalise_files.PARSER_VERSION + 1
    for module in (normalise_files, batch):
        monkeypatch.setattr(module, "PARSER_VERSION", version)


def test_a_new_parser_version_rereads_everything_and_rebuilds_only_councils_whose_output_changed(out, monkeypatch):
    normalise_flow(out, workers=1)
    assert {r["parser_version"] for r in manifest(out).values()} == {normalise_files.PARSER_VERSION}
    before = partition_inodes(out)
    new_parser_version(monkeypatch)
    assert normalise_flow(out, workers=1).files_new == 6
    assert {r["parser_version"] for r in manifest(out).values()} == {normalise_files.PARSER_VERSION}
    assert partition_inodes(out) == before  # same output: nothing rebuilt

    real = batch.write_parse

    def drops_a_row_in_man(run, out_path, **kwargs):  # a parser change that matters for one council
        summary = real(run, out_path, **kwargs)
        if run.council_code == "MAN":
            table = read_output(out_path, "spend").slice(1)
            with pa.ipc.new_file(str(out_path), table.schema) as writer:
                writer.write_table(table)
        return summary

    new_parser_version(monkeypatch)
    monkeypatch.setattr(batch, "write_parse", drops_a_row_in_man)
    normalise_flow(out, workers=1)
    after = partition_inodes(out)
    assert after["BIR"] == before["BIR"] and after["MAN"] != before["MAN"]
    assert spend_rows(out) == {"BIR": 15, "MAN": 12}


def test_a_truncated_parse_summary_is_parsed_again_not_an_error(out):
    normalise_flow(out, workers=1)
    sha = manifest(out)["http://127.0.0.1:9/BIR/spend-2025-01.csv"]["sha256"]
    summary = Layout(out).parsed("BIR", sha, ".json")
    summary.write_text(summary.read_text()[:25])  # a summary cut short (an old run's non-atomic write)
    before = partition_inodes(out)
    assert normalise_flow(out, workers=1).files_new == 1
    assert partition_inodes(out) == before and spend_rows(out) == {"BIR": 15, "MAN": 15}


def test_parses_written_as_parquet_before_the_work_area_used_arrow_are_still_read(out):
    """A work area from an earlier version (Parquet outputs, no ``output_suffix``) needs no re-parse and no rebuild."""
    normalise_flow(out, workers=1)
    layout = Layout(out)
    for summary_path in layout.parsed("BIR", "x", "").parent.glob("*.json"):
        parse = load_parse(layout, "BIR", summary_path.stem)
        for table, arrow in parse.outputs(layout).items():
            pq.write_table(read_output(arrow, table), arrow.with_suffix(".parquet"))
            arrow.unlink()
        summary_path.write_text(json.dumps({k: v for k, v in parse.summary.items() if k != "output_suffix"}))
    before = partition_inodes(out)
    assert normalise_flow(out, workers=1).files_new == 0
    assert partition_inodes(out) == before and spend_rows(out) == {"BIR": 15, "MAN": 15}
    assert normalise_flow(out, workers=1, reparse=True, councils=["BIR"]).files_new == 3
    left = {p.suffix for p in layout.parsed("BIR", "x", "").parent.iterdir()}
    assert left == {".json", ".arrow"}  # the re-parse replaced the Parquet outputs
    assert spend_rows(out) == {"BIR": 15, "MAN": 15}


def test_council_option_limits_the_reparse(out):
    normalise_flow(out, workers=1)
    record = normalise_flow(out, workers=1, reparse=True, councils=["MAN"])
    assert record.files_new == 3


def test_a_batch_commits_each_parse_it_finished_and_leaves_the_one_the_machine_failed(tmp_path, monkeypatch):
    """One batch, three files, a full disk on the second: two parses saved, the second to parse again, nothing of it left."""
    out = crawled(tmp_path / "out")
    layout = Layout(out)
    rows = pq.read_table(layout.manifest).to_pylist()
    jobs = [
        j
        for j in normalise_files.pending_jobs(layout, rows, {}, {}, normalise_files.Selection())
        if j.council_code == "BIR"
    ]
    real = batch.write_parse

    def disk_full_for_the_second(run, out_path, **kwargs):
        if run.sha256 == jobs[1].sha256:
            Path(out_path).write_bytes(b"half a file")
            raise OSError(errno.ENOSPC, "No space left on device", str(out_path))
        return real(run, out_path, **kwargs)

    monkeypatch.setattr(batch, "write_parse", disk_full_for_the_second)
    outcomes = {o["sha256"]: o for o in batch.parse_batch(jobs, out)}
    first, second, third = (outcomes[j.sha256] for j in jobs)
    assert "No space left" in second["retry"] and "summary" not in second
    assert load_parse(layout, "BIR", jobs[1].sha256) is None
    assert not list(layout.parsed("BIR", jobs[1].sha256, "").parent.glob(f"{jobs[1].sha256}*"))
    for job, outcome in ((jobs[0], first), (jobs[2], third)):
        assert outcome["status"] == "ok" and load_parse(layout, "BIR", job.sha256).summary == outcome["summary"]


def test_a_parse_that_keeps_no_rows_leaves_only_its_summary_and_counts_as_done(out):
    """A file with no rows (here a PDF) gets no output files in the work area, yet its parse is complete."""
    layout = Layout(out)
    sha, _ = put_bytes(layout, b"%PDF-1.4 not a table", "pdf")
    files = pq.read_table(layout.manifest).to_pylist()
    files.append(files[0] | {"url": "http://127.0.0.1:9/BIR/spend.pdf", "sha256": sha, "format": "pdf", "size": 20})
    pq.write_table(pa.Table.from_pylist(files, schema=arrow_schema("files")), layout.manifest)
    assert normalise_flow(out, workers=1).files_new == 7
    parse = load_parse(layout, "BIR", sha)
    assert parse is not None and parse.status == "not_machine_readable" and parse.outputs(layout) == {}
    assert [p.name for p in layout.parsed("BIR", sha, "").parent.glob(f"{sha}*")] == [f"{sha}.json"]
    assert manifest(out)["http://127.0.0.1:9/BIR/spend.pdf"]["parse_status"] == "not_machine_readable"
    assert normalise_flow(out, workers=1).files_new == 0  # nothing left to parse: the summary is the whole parse
    assert spend_rows(out) == {"BIR": 15, "MAN": 15}
