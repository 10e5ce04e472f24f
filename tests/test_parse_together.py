"""Small files that read alike are normalised in one pass (normalise.parsing.together), with the same result
as each file parsed alone: rows, row ids, rejects and their provenance, and every count in the summary."""

from __future__ import annotations

import gzip
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

from mockweb.files import xlsx_bytes
from normalise.parsing.parse import iter_parse, parse_file
from normalise.parsing.together import normalise_together

HEADER = "Payment Date,Supplier,Description,Amount\n"
FILES = {
    # three months of one publisher's layout, each with its own quirk
    "jan.csv": HEADER + "03/01/2025,Acme Ltd,Repairs,1200.50\n04/01/2025,Beta plc,Paper,99.99\n,,,\nTotal,,,1300.49\n",
    "feb.csv": HEADER
    + "13/02/2025,Acme Ltd,Repairs,(250.00)\n14/02/2025,Gamma Trust,Grant,#VALUE!\n14/02/2025,Acme Ltd,Repairs,5\n",
    "mar.csv": HEADER
    + '01/03/2025,Delta Ltd,Fuel,"£1,000.00"\n02/03/2025,Acme Ltd,Repairs,1200.50\n02/03/2025,Acme Ltd,Repairs,1200.50\n',
    # month-first dates: the same header, but its own order of day and month
    "apr.csv": HEADER + "04/13/2025,Acme Ltd,Repairs,10\n04/14/2025,Beta plc,Paper,20\n",
    # another layout
    "other.csv": "Date,Vendor,Net\n2025-01-05,Epsilon LLP,75.00\n2025-01-06,Zeta Ltd,80\n",
    # a header further down re-maps the columns below it: never grouped
    "remapped.csv": HEADER
    + "03/01/2025,Acme Ltd,Repairs,10\nPayment Date,Amount,Supplier,Description\n04/01/2025,20,Beta plc,Paper\n",
}


@pytest.fixture
def published(tmp_path: Path) -> list[Path]:
    paths = []
    for name, text in FILES.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _read(run) -> tuple[pa.Table, pa.Table]:
    rows, rejects = [], []
    for r, j in run:
        rows.append(r)
        rejects.append(j)
    return pa.concat_tables(rows), pa.concat_tables(rejects)


def test_files_read_alike_give_what_each_gives_alone(published: list[Path]) -> None:
    runs = [iter_parse(p, council_code="ABC", source_url=f"http://127.0.0.1/{p.name}") for p in published]
    units = [unit for run in runs for unit in run.plan()]
    normalise_together(units)

    grouped = {Path(u.source.source_url).name for u in units if u.normalised is not None}
    assert grouped == {"jan.csv", "feb.csv", "mar.csv"}  # apr's dates are month-first; other and remapped differ

    for path, run in zip(published, runs):
        rows, rejects = _read(run)
        alone = parse_file(path, council_code="ABC", source_url=f"http://127.0.0.1/{path.name}")
        assert rows.to_pylist() == alone.spend.to_pylist(), path.name
        assert rejects.to_pylist() == alone.rejects.to_pylist(), path.name
        assert run.summary == alone.summary, path.name


def test_alike_files_of_several_councils_keep_the_ids_each_gets_alone(tmp_path: Path) -> None:
    """Row ids are worked out for a group's rows at once: each row's own council goes into its identity, and a
    payment repeated in another file is no repeat in its own (occurrences are counted file by file)."""
    text = (
        HEADER + "03/01/2025,Acme Ltd,Repairs,1200.50\n03/01/2025,Acme Ltd,Repairs,1200.50\n04/01/2025,Beta,Paper,9\n"
    )
    files = [("ABC", "jan.csv"), ("XYZ", "jan-xyz.csv"), ("ABC", "jan-again.csv")]
    for _, name in files:
        (tmp_path / name).write_text(text, encoding="utf-8")
    runs = [iter_parse(tmp_path / name, council_code=code) for code, name in files]
    units = [unit for run in runs for unit in run.plan()]
    normalise_together(units)
    assert all(unit.normalised is not None for unit in units)
    ids = []
    for (code, name), run in zip(files, runs):
        rows, _ = _read(run)
        assert rows.to_pylist() == parse_file(tmp_path / name, council_code=code).spend.to_pylist(), name
        ids.append(rows.column("row_id").to_pylist())
    assert len(set(ids[0])) == 3  # the same payment twice in one file: two ids
    assert ids[0] == ids[2]  # the same file's payments again in another file: the same ids
    assert not set(ids[0]) & set(ids[1])  # another council's identical payments are its own


def test_rejects_and_blank_rows_stay_with_their_own_file(published: list[Path]) -> None:
    runs = [iter_parse(p, council_code="ABC", source_url=f"http://127.0.0.1/{p.name}") for p in published[:3]]
    normalise_together([unit for run in runs for unit in run.plan()])
    jan, feb, mar = (_read(run) for run in runs)
    assert [r["reason"] for r in jan[1].to_pylist()] == ["footer_total"]
    assert [(r["reason"], r["source_row"], r["source_url"]) for r in feb[1].to_pylist()] == [
        ("unparseable_amount", 3, "http://127.0.0.1/feb.csv")
    ]
    assert [r["source_row"] for r in mar[0].to_pylist()] == [2, 3, 4]
    assert runs[0].summary["blank_rows"] == 1 and runs[1].summary["blank_rows"] == 0
    assert [str(r["amount"]) for r in feb[0].to_pylist()] == ["-250.00", "5.00"]
    assert mar[0].column("row_id")[1] != mar[0].column("row_id")[2]  # repeated payments keep distinct ids


def _together_and_alone(paths: list[Path], **kwargs: object) -> list:
    """Each file's (rows, rejects, summary) read with the others, after checking they equal it read alone."""
    runs = [iter_parse(p, council_code="ABC", source_url=f"http://127.0.0.1/{p.name}", **kwargs) for p in paths]
    units = [unit for run in runs for unit in run.plan()]
    normalise_together(units)
    assert all(unit.normalised is not None for unit in units)
    read = []
    for path, run in zip(paths, runs):
        rows, rejects = _read(run)
        alone = parse_file(path, council_code="ABC", source_url=f"http://127.0.0.1/{path.name}", **kwargs)
        assert rows.to_pylist() == (alone.contracts if run.table == "contracts" else alone.spend).to_pylist()
        assert rejects.to_pylist() == alone.rejects.to_pylist(), path.name
        assert run.summary == alone.summary, path.name
        read.append((rows, rejects, run.summary))
    return read


def test_workbooks_whose_sheets_are_named_by_month_read_alike(tmp_path: Path) -> None:
    """A sheet's name is provenance, not layout: each row and reject keeps its own sheet's name."""
    paths = []
    for month in (1, 2):
        rows = [
            ["Payment Date", "Supplier", "Amount"],
            [datetime(2025, month, 3), "Acme Ltd", 1200.5],
            [datetime(2025, month, 4), "Beta plc", "#VALUE!"],
        ]
        path = tmp_path / f"2025-{month:02d}.xlsx"
        path.write_bytes(xlsx_bytes(rows, f"Spend over £500 - {month:02d}-2025"))
        paths.append(path)
    read = _together_and_alone(paths)
    for month, (rows, rejects, _) in zip((1, 2), read):
        sheet = f"Spend over £500 - {month:02d}-2025"
        assert rows.column("source_sheet").to_pylist() == [sheet]
        assert rejects.column("source_sheet").to_pylist() == [sheet]
        assert rows.column("payment_date").to_pylist()[0].month == month


def test_contracts_registers_of_one_layout_read_alike(tmp_path: Path) -> None:
    header = "Contract Reference,Title,Supplier,Value,Start Date,End Date,Procurement Procedure\n"
    registers = {
        "q1.csv": header
        + "C1,Cleaning,Acme Ltd,12000,01/04/2024,31/03/2026,Open\nC2,Audit,Beta LLP,9000,13/05/2024,,\n",
        "q2.csv": header + "C1,Cleaning,Acme Ltd,12000,01/04/2024,31/03/2026,Open\n,,,,,,\nTotal,,,12000,,,\n",
    }
    paths = []
    for name, text in registers.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(tmp_path / name)
    (q1, _, q1_summary), (q2, q2_rejects, q2_summary) = _together_and_alone(paths)
    assert q1_summary["table"] == q2_summary["table"] == "contracts"
    assert [str(r["start_date"]) for r in q1.to_pylist()] == ["2024-04-01", "2024-05-13"]
    assert q1.column("row_id")[0] == q2.column("row_id")[0]  # the same contract, listed again: the same id
    assert [(r["reason"], r["source_url"]) for r in q2_rejects.to_pylist()] == [
        ("footer_total", "http://127.0.0.1/q2.csv")
    ]


def test_only_files_held_in_memory_anyway_are_planned(tmp_path: Path) -> None:
    small = tmp_path / "small.csv"
    small.write_text(FILES["jan.csv"], encoding="utf-8")
    large = tmp_path / "large.csv"
    large.write_text(HEADER + "03/01/2025,Acme Ltd,Repairs,1.00\n" * 40_000, encoding="utf-8")
    packed = tmp_path / "small.csv.gz"
    packed.write_bytes(gzip.compress(small.read_bytes()))
    assert len(iter_parse(small).plan()) == 1
    for path in (large, packed):
        run = iter_parse(path)
        assert run.plan() == [] and _read(run)[0].num_rows == (40_000 if path == large else 2)


def test_a_file_that_cannot_be_planned_fails_as_it_would_alone(tmp_path: Path) -> None:
    run = iter_parse(tmp_path / "missing.csv", sha256="0" * 64)
    assert run.plan() == []
    assert list(run) == []
    alone = parse_file(tmp_path / "missing.csv", sha256="0" * 64)
    assert run.summary == alone.summary and run.summary["status"] == "failed"
