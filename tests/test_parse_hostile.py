"""Hostile input is defused: each bound in ``normalise/parsing/limits.py`` has a test that fails without it.

Archives are made small by lowering the bounds for the test (the defences read them at call time),
so the cases run in seconds while standing for their full-size versions: a 1 MB zip of newlines
that would inflate to 1 GB, a tiny workbook whose one far cell makes a sheet of billions of cells.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from normalise.parsing import limits, tables
from normalise.parsing.parse import parse_file

REPO = Path(__file__).resolve().parents[1]


def _spend_rows(n: int) -> list[str]:
    return [f"{1 + i % 28:02d}/03/2025,Supplier {i} Ltd,{i}.50" for i in range(n)]


@pytest.mark.parametrize("chunk_bytes", [None, 1 << 16])
def test_an_oversized_cell_rejects_its_row_not_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int | None
) -> None:
    if chunk_bytes:
        monkeypatch.setattr(tables, "CHUNK_BYTES", chunk_bytes)
        monkeypatch.setattr(tables, "HEAD_BYTES", chunk_bytes)  # the file is read in chunks, not whole with its head
    rows = _spend_rows(2000)
    rows.insert(1000, "15/03/2025," + "x" * (200 << 10) + ",5.00")  # one supplier cell of 200 KiB
    path = tmp_path / "big-cell.csv"
    path.write_text("Date,Supplier,Amount\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = parse_file(path)
    assert result.summary["rows"] == 2000
    assert result.summary["rejected"] == {"oversized_cell": 1}
    [reject] = result.rejects.to_pylist()
    assert reject["source_row"] == 1002 and reject["detail"] == "cell of 204,800 bytes in Supplier"
    assert len(reject["raw"]) < 2000  # the reject keeps a prefix of the cell, not all of it


def test_an_oversized_cell_in_the_first_rows_does_not_stop_the_file(tmp_path: Path) -> None:
    path = tmp_path / "big-first.csv"
    path.write_text(
        "Date,Supplier,Amount\n01/03/2025," + "y" * (300 << 10) + ",1.00\n" + "\n".join(_spend_rows(10)) + "\n",
        encoding="utf-8",
    )
    result = parse_file(path)
    assert (result.summary["rows"], result.summary["rejected"]) == (10, {"oversized_cell": 1})


def test_a_zip_that_would_inflate_far_beyond_its_size_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "RATIO_GRACE", 1 << 20)  # stands for 16 MiB: a 32 MiB member is refused
    archive = tmp_path / "newlines.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("spend.csv", b"Date,Supplier,Amount\n" + b"\n" * (32 << 20))
    assert archive.stat().st_size < 100_000
    start = time.perf_counter()
    result = parse_file(archive)
    assert result.status == "failed" and "would inflate" in result.summary["error"]
    assert time.perf_counter() - start < 2


def test_gzip_content_is_inflated_within_bounds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "RATIO_GRACE", 1 << 20)
    path = tmp_path / "newlines.csv"
    path.write_bytes(gzip.compress(b"Date,Supplier,Amount\n01/03/2025,A Ltd,1.00\n" + b"\n" * (32 << 20)))
    result = parse_file(path)
    assert result.status == "failed" and "inflates more than" in result.summary["error"]


def test_a_workbook_whose_parts_would_inflate_too_far_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "RATIO_GRACE", 1 << 20)
    book = openpyxl.Workbook()
    book.active.append(["Date", "Supplier", "Amount"])
    buffer = io.BytesIO()
    book.save(buffer)
    path = tmp_path / "padded.xlsx"
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/sharedStrings.xml" or info.filename.endswith("sheet1.xml"):
                data = data.replace(b"</", b" " * (24 << 20) + b"</", 1)  # 24 MiB of spaces inside the XML
            dst.writestr(info.filename, data)
    result = parse_file(path)
    assert result.status == "failed" and "would inflate" in result.summary["error"]


def _parse_in_a_child(path: Path) -> dict:
    """Parse in a fresh interpreter: without the bound, calamine aborts the process on such a sheet."""
    code = (
        "import json, sys; from normalise.parsing.parse import parse_file; "
        f"print(json.dumps(parse_file({str(path)!r}).summary, default=str))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_tiny_workbook_spanning_billions_of_cells_is_refused_sheet_by_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    good = book.active
    good.title = "Payments"
    good.append(["Date", "Supplier", "Amount"])
    good.append(["01/03/2025", "Acme Ltd", 12.5])
    hostile = book.create_sheet("Far away")
    hostile.append(["Date", "Supplier", "Amount"])
    hostile.cell(row=1_000_000, column=1000, value="x")  # 10^9 cells: ~32 GB inside calamine
    path = tmp_path / "far-cell.xlsx"
    book.save(path)
    assert path.stat().st_size < 20_000
    summary = _parse_in_a_child(path)
    assert (summary["rows"], summary["total_amount"]) == (1, "12.50")
    assert "1,000,000 rows x 1,000 columns" in summary["skipped_sheets"]["Far away"]


def test_a_cell_placed_far_beyond_its_row_is_refused_too(tmp_path: Path) -> None:
    """A cell's reference, not the row it sits in, says where the reader puts it: a hostile sheet can
    claim row 1 for a cell at row 1,000,000. Made by editing a workbook's sheet XML by hand."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Payments"
    sheet.append(["Date", "Supplier", "Amount"])
    sheet.append(["01/03/2025", "Acme Ltd", 12.5])
    sheet.cell(row=3, column=1000, value="x")
    made = tmp_path / "made.xlsx"
    book.save(made)
    hostile = tmp_path / "far-in-row-3.xlsx"
    with zipfile.ZipFile(made) as source, zipfile.ZipFile(hostile, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert b'r="ALL3"' in data
                data = data.replace(b'r="ALL3"', b'r="ALL1000000"').replace(b'ref="A1:ALL3"', b'ref="A1:C2"')
            out.writestr(info, data)
    summary = _parse_in_a_child(hostile)
    assert "1,000,000 rows x 1,000 columns" in summary["skipped_sheets"]["Payments"]


def test_workbook_rows_are_streamed_in_batches_not_held_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "EXCEL_BATCH_ROWS", 10)
    pulled = 0

    def rows() -> object:
        nonlocal pulled
        for i in range(1000):
            pulled += 1
            yield ["01/03/2025", f"Firm {i}", "1.00"]

    batches = tables._stream_batches([["Date", "Supplier", "Amount"]], rows(), 1, 3)
    first = next(batches)
    assert first.num_rows == 10 and pulled <= 11  # the first batch comes before the sheet is read to its end


def test_a_sheet_whose_references_stay_small_cannot_span_too_many_cells() -> None:
    """The quick search that spares most sheets the full scan: no sheet it lets pass can be too large to open."""
    zzz = limits.column_number(b"ZZZ")
    assert 999 * zzz <= limits.MAX_SHEET_CELLS  # the most such a sheet can span
    small = b'<row r="999" spans="1:3"><c r="A999"/><c r="ZZZ999" t="s"/></row>'
    assert not limits.may_be_large(io.BytesIO(small)) and limits.sheet_extent(io.BytesIO(small)) == (999, zzz)
    for far in (b'<x:row r="1000"/>', b'<c r="A1000"/>', b'<c r="AAAA1"/>', b'<c r="B1048576"/>'):
        assert limits.may_be_large(io.BytesIO(small + far)), far
    cut = io.BufferedReader(io.BytesIO(b" " * ((1 << 20) - 5) + b'<c r="A1000000"/>'), buffer_size=1 << 20)
    assert limits.may_be_large(cut)  # a reference across the edge of two blocks read is still found
