"""The parser on small files made here: every format, encoding, header shape and row kind."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from normalise import schema
from normalise.parsing import tables
from normalise.parsing.overlap import merge_overlapping
from normalise.parsing.parse import iter_parse, parse_file, parse_to_files, read_output, rejects_path
from normalise.parsing.rowid import identity, row_id

GUIDANCE_CSV = (
    "Body Name,Body,Date,Transaction Number,Invoice Number,Amount,Supplier Name,Supplier ID,VAT Registration Number,"
    "Expense Area,Expense Type,Expense Code\r\n"
    'Example Council,E08000025,03/02/2025,T1,INV1,"£1,234.50",Acme Ltd,S1,GB1,Highways,Repairs,R1\r\n'
    "Example Council,E08000025,13/02/2025,T2,INV2,(250.00),Acme Ltd,S1,GB1,Highways,Repairs,R1\r\n"
    "Example Council,E08000025,28/02/2025,T3,INV3,600.00,REDACTED PERSONAL DATA,,,Adults,Care,C1\r\n"
    "Example Council,E08000025,28/02/2025,T4,INV4,700.00,REDACTIVE EVENTS LTD,S9,,Culture,Events,E1\r\n"
)


def write(path: Path, data: bytes | str, encoding: str = "utf-8") -> Path:
    path.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return path


def test_guidance_csv_reads_every_column(tmp_path: Path) -> None:
    result = parse_file(write(tmp_path / "spend.csv", GUIDANCE_CSV), source_url="http://x/spend.csv")
    assert result.status == "ok"
    assert result.spend.schema == schema.arrow_schema("spend")
    assert result.rejects.schema == schema.arrow_schema("rejects")
    rows = result.spend.to_pylist()
    assert [r["amount"] for r in rows] == [Decimal("1234.50"), Decimal("-250.00"), Decimal("600.00"), Decimal("700.00")]
    assert [r["redacted"] for r in rows] == [False, False, True, False]
    assert rows[0]["payment_date"] == dt.date(2025, 2, 3)
    assert rows[0]["council_code"] == "BIR" and rows[0]["gss_code"] == "E08000025"  # from the GSS code in 'Body'
    assert rows[0]["service_area"] == "Highways" and rows[0]["expense_type"] == "Repairs"
    assert rows[0]["supplier_key"] == "acme"
    assert rows[0]["source_row"] == 2 and rows[0]["source_url"] == "http://x/spend.csv"
    assert rows[0]["row_id"] == row_id(identity("BIR", "spend_over_500", "2025-02-03", "T1", "Acme Ltd", "1234.50"))
    summary = result.summary
    assert summary["total_amount"] == "2284.50"
    assert summary["columns"]["amount"] == {
        "source": "Amount",
        "how": "exact",
        "score": 100.0,
        "values": "100% amounts of 4",
    }
    assert summary["columns"]["payment_date"]["how"] == "synonym"
    assert (summary["period_start"], summary["period_end"]) == ("2025-02-01", "2025-02-28")
    assert len(summary["sha256"]) == 64
    json.dumps(summary)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_any_delimiter(tmp_path: Path, delimiter: str) -> None:
    text = GUIDANCE_CSV.replace('"£1,234.50"', "1234.50").replace(",", delimiter)
    result = parse_file(write(tmp_path / "spend.txt", text))
    assert result.summary["rows"] == 4 and result.summary["total_amount"] == "2284.50"


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig", "utf-16", "cp850"])
def test_encodings(tmp_path: Path, encoding: str) -> None:
    text = (
        "Council spend over £500\r\nDate,Supplier,Description,Amount\r\n01/03/2025,Café Nero,Coffee £5 each,£600.00\r\n"
    )
    result = parse_file(write(tmp_path / "spend.csv", text, encoding))
    assert result.spend.column("supplier_name").to_pylist() == ["Café Nero"]
    assert result.spend.column("purpose").to_pylist() == ["Coffee £5 each"]
    assert result.summary["total_amount"] == "600.00"
    assert result.summary["header_row"] == {"": 2}


def test_forced_encoding_and_column_override(tmp_path: Path) -> None:
    text = "When,Who,Paid out,Other\r\n01/03/2025,Acme,100.00,5\r\n"
    path = write(tmp_path / "odd.csv", text, "cp1252")
    assert parse_file(path).status == "not_spend"
    result = parse_file(
        path,
        columns={"amount": "Paid out", "supplier_name": "Who", "payment_date": "When"},
        encoding="cp1252",
        council_code="bir",
        dataset="purchase_card",
    )
    assert result.status == "ok" and result.summary["encoding"] == "cp1252"
    assert result.summary["columns"]["amount"]["how"] == "override"
    assert result.spend.column("dataset").to_pylist() == ["purchase_card"]
    assert result.spend.column("council_code").to_pylist() == ["BIR"]


def test_preamble_footer_blank_repeated_header_and_value_errors(tmp_path: Path) -> None:
    text = (
        "Report of payments,,,\n"
        ",,,\n"
        "Date,Supplier,Amount,Ref\n"
        "01/03/2025,A Ltd,100.00,R1\n"
        ",,,\n"
        "Date,Supplier,Amount,Ref\n"
        "02/03/2025,B Ltd,393.39-,R2\n"
        "03/03/2025,C Ltd,,R3\n"
        "04/03/2025,D Ltd,abc,R4\n"
        "31/02/2025,E Ltd,5.00,R5\n"
        ",,xxx,\n"
        ",,-293.39,\n"
        "Total,,-293.39,\n"
    )
    result = parse_file(write(tmp_path / "messy.csv", text))
    summary = result.summary
    assert summary["status"] == "partial"
    # the row dated 31/02/2025 keeps its money: it stays in spend with its issue
    assert summary["rows"] == 3 and summary["total_amount"] == "-288.39"
    assert summary["blank_rows"] == 1
    assert summary["rejected"] == {
        "repeated_header": 1,
        "missing_amount": 1,
        "unparseable_amount": 1,
        "junk": 1,
        "footer_total": 2,
    }
    assert summary["row_issues"] == {"unparseable_date": 1}
    rejects = {r["source_row"]: r for r in result.rejects.to_pylist()}
    assert rejects[9]["reason"] == "unparseable_amount" and rejects[9]["detail"] == "abc"
    assert json.loads(rejects[9]["raw"]) == ["04/03/2025", "D Ltd", "abc", "R4"]
    assert result.spend.column("source_row").to_pylist() == [4, 7, 10]
    assert result.spend.column("row_issues").to_pylist() == [None, None, ["unparseable_date"]]
    assert result.spend.column("payment_date").to_pylist()[2] is None


def test_ragged_rows_keep_their_numbers(tmp_path: Path) -> None:
    text = "Date,Supplier,Amount\n01/03/2025,A,1\n02/03/2025,B,2,\n03/03/2025,C\n04/03/2025,D,4\n"
    result = parse_file(write(tmp_path / "ragged.csv", text))
    assert result.spend.column("source_row").to_pylist() == [2, 3, 5]
    assert result.rejects.column("source_row").to_pylist() == [4]


def test_quoted_line_breaks(tmp_path: Path) -> None:
    text = 'Date,Supplier,Purpose,Amount\n01/03/2025,A,"two\nlines",1.00\n02/03/2025,B,one,2.00\n'
    result = parse_file(write(tmp_path / "multi.csv", text))
    assert result.spend.column("purpose").to_pylist() == ["two\nlines", "one"]
    assert result.summary["total_amount"] == "3.00"


def _sheet_rows() -> list[list[object]]:
    return [
        ["Payments over £500", None, None, None],
        [None, None, None, None],
        ["Transaction Number", "Date", "Supplier Name", "Amount"],
        ["T1", dt.datetime(2025, 10, 20, 23, 0), "Acme", 4999.9999999999991],
        ["T2", 45951.041666666664, "THIRD PARTY SUPPLIER", -20.5],
    ]


def test_xlsx_with_two_sheets_and_excel_dates(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    first = book.active
    first.title = "APR 24"
    for row in _sheet_rows():
        first.append(row)
    second = book.create_sheet("Nov 24")
    for row in _sheet_rows()[2:]:
        second.append(row)
    book.create_sheet("empty")
    path = tmp_path / "book.xlsx"
    book.save(path)
    result = parse_file(path)
    assert result.summary["format"] == "xlsx"
    assert result.summary["sheets"] == ["APR 24", "Nov 24"]
    assert result.summary["header_row"] == {"APR 24": 3, "Nov 24": 1}
    assert result.spend.column("payment_date").to_pylist() == [dt.date(2025, 10, 21)] * 4
    assert result.spend.column("amount").to_pylist() == [Decimal("5000.00"), Decimal("-20.50")] * 2
    assert result.spend.column("source_sheet").to_pylist() == ["APR 24", "APR 24", "Nov 24", "Nov 24"]
    assert result.spend.column("source_row").to_pylist() == [4, 5, 2, 3]
    assert result.spend.column("redacted").to_pylist() == [False, True] * 2


def test_ods_and_zip(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"Payment Date": ["2025-03-01", "2025-03-02"], "Beneficiary Name": ["A", "B"], "Amount": [1.5, 2.25]}
    )
    ods = tmp_path / "spend.ods"
    frame.to_excel(ods, engine="odf", index=False)
    result = parse_file(ods)
    assert result.summary["format"] == "ods" and result.summary["total_amount"] == "3.75"
    archive = tmp_path / "spend.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(ods, "inner/spend.ods")
        zf.writestr("notes.txt.pdf", b"%PDF-1.4 not data")
        zf.writestr("month.csv", "Date,Supplier,Amount\n01/03/2025,C,10.00\n")
    zipped = parse_file(archive)
    assert zipped.summary["format"] == "zip"
    assert zipped.summary["rows"] == 3 and zipped.summary["total_amount"] == "13.75"
    assert set(zipped.spend.column("source_sheet").to_pylist()) == {"inner/spend.ods!Sheet1", "month.csv"}


def test_purchase_card_and_grants_are_recognised(tmp_path: Path) -> None:
    card = "Transaction Date,Merchant Name,Merchant Category,Amount\n01/03/2025,SHELL,Fuel,50.00\n"
    result = parse_file(write(tmp_path / "card.csv", card))
    assert result.summary["dataset"] == "purchase_card"
    assert result.spend.column("merchant_category").to_pylist() == ["Fuel"]
    grants = (
        "Identifier,Title,Amount Awarded,Award Date,Recipient Org:Name,Recipient Org:Charity Number\n"
        "360G-x-1,Play,5000,2024-06-01,Kids Club,GB-CHC-1234567\n"
    )
    result = parse_file(write(tmp_path / "grants.csv", grants))
    assert result.summary["dataset"] == "grants"
    assert result.spend.column("charity_number_published").to_pylist() == ["1234567"]
    assert result.spend.column("transaction_id").to_pylist() == ["360G-x-1"]


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"%PDF-1.4\n...", "not_machine_readable"),
        (b"<!DOCTYPE html><html><body>Not found</body></html>", "not_machine_readable"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not_machine_readable"),
        (b"", "failed"),
        (b"PK\x03\x04[Content_Types].xml garbage", "failed"),
        (b"\xd0\xcf\x11\xe0 broken xls", "failed"),
        (b"Supplier,Sum of Amount\nA,5\n", "not_spend"),
        (b"just some words\nand more\n", "not_spend"),
        (b'{"not": "grants"}', "failed"),
    ],
)
def test_files_that_are_not_transactions_never_raise(tmp_path: Path, content: bytes, status: str) -> None:
    result = parse_file(write(tmp_path / "file.csv", content))
    assert result.status == status
    assert result.summary["error"]
    assert result.spend.num_rows == 0 and result.rejects.num_rows == 0


def test_streaming_in_small_chunks_gives_the_same_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = ["Title £500", "Date,Supplier,Purpose,Amount"]
    lines += [f'{i % 28 + 1:02d}/01/2025,"Supplier {i % 7}","note, {i}",{i}.{i % 100:02d}' for i in range(3000)]
    lines += ["01/01/2025,Supplier 1,note,1.00"] * 3  # identical rows stay three rows
    path = write(tmp_path / "big.csv", "\r\n".join(lines) + "\r\n", "cp1252")
    whole = parse_file(path)
    monkeypatch.setattr(tables, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(tables, "HEAD_BYTES", 4096)  # the file is read in chunks, not whole with its head
    run = iter_parse(path)
    batches = list(run)
    assert len(batches) > 10
    ids = [rid for spend, _ in batches for rid in spend.column("row_id").to_pylist()]
    assert ids == whole.spend.column("row_id").to_pylist()
    assert len(set(ids)) == 3003
    assert run.summary["total_amount"] == whole.summary["total_amount"]
    assert [r for spend, _ in batches for r in spend.column("source_row").to_pylist()] == list(range(3, 3006))


def test_parse_to_files_writes_spend_and_rejects(tmp_path: Path) -> None:
    source = write(tmp_path / "spend.csv", GUIDANCE_CSV + ",,,,,,,,,,,\r\n,,,,,,,,,,,\r\nTotal,,,,,2284.50,,,,,,\r\n")
    out = tmp_path / "out" / "spend.parquet"
    summary = parse_to_files(source, out)
    assert summary["rows"] == 4 and summary["rejected"] == {"footer_total": 1}
    spend, rejects = pq.read_table(out), pq.read_table(rejects_path(out))
    assert spend.schema == schema.arrow_schema("spend") and spend.num_rows == 4
    assert rejects.column("reason").to_pylist() == ["footer_total"]
    failed = parse_to_files(write(tmp_path / "x.pdf", b"%PDF-1.4"), tmp_path / "out" / "x.parquet")
    assert failed["status"] == "not_machine_readable"
    assert pq.read_table(tmp_path / "out" / "x.parquet").num_rows == 0


def test_parse_to_files_writes_arrow_for_the_work_area_in_place(tmp_path: Path) -> None:
    """``.arrow`` gives Arrow IPC files that read back as the same rows as Parquet; ``fresh`` writes no temporaries
    and no file for a table without rows (the work area's summary lists the files a parse wrote)."""
    source = write(tmp_path / "spend.csv", GUIDANCE_CSV + "Total,,,,,2284.50,,,,,,\r\n")
    parquet = parse_to_files(source, tmp_path / "p" / "spend.parquet")
    arrow = parse_to_files(source, tmp_path / "a" / "spend.arrow", fresh=True)
    assert arrow == parquet
    for table, read in (("spend", lambda p: p), ("rejects", rejects_path)):
        assert read_output(read(tmp_path / "a" / "spend.arrow"), table).equals(
            read_output(read(tmp_path / "p" / "spend.parquet"), table)
        )
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["spend.arrow", "spend.rejects.arrow"]
    failed = parse_to_files(write(tmp_path / "x.pdf", b"%PDF-1.4"), tmp_path / "a" / "x.arrow", fresh=True)
    assert failed["status"] == "not_machine_readable"
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["spend.arrow", "spend.rejects.arrow"]
    kept_as_before = parse_to_files(tmp_path / "x.pdf", tmp_path / "p" / "x.parquet")
    assert kept_as_before["status"] == "not_machine_readable"
    assert read_output(tmp_path / "p" / "x.parquet", "spend").num_rows == 0  # a user's output keeps its empty file


def test_same_transaction_in_month_and_year_files_is_kept_once(tmp_path: Path) -> None:
    header = "Date,Transaction Number,Supplier,Amount\n"
    month = write(tmp_path / "month.csv", header + "01/03/2025,T1,Acme,10.00\n01/03/2025,T1,Acme,10.00\n")
    year = write(
        tmp_path / "year.csv",
        header + "01/03/2025,T1,acme ,10.00\n01/03/2025,T1,Acme,10.00\n"
        "01/03/2025,T1,Acme,10.00\n02/04/2025,T9,Other,5.00\n",
    )
    a, b = parse_file(month, council_code="BIR"), parse_file(year, council_code="BIR")
    both = pa.concat_tables([a.spend, b.spend])
    spend, duplicates = merge_overlapping(both)
    assert spend.num_rows + duplicates.num_rows == both.num_rows
    assert spend.num_rows == 4  # two payments from the month file, the third repeat and T9 from the year file
    kept = spend.to_pylist()
    assert kept[0]["also_published_in"] == [b.summary["sha256"]] and kept[1]["also_published_in"] == [
        b.summary["sha256"]
    ]
    assert kept[2]["source_sha256"] == b.summary["sha256"] and kept[2]["also_published_in"] is None
    assert set(duplicates.column("reason").to_pylist()) == {"duplicate"}
    assert a.summary["sha256"] in duplicates.column("detail")[0].as_py()


def test_summary_round_trips_through_json(tmp_path: Path) -> None:
    summary = parse_file(write(tmp_path / "spend.csv", GUIDANCE_CSV)).summary
    assert json.loads(json.dumps(summary)) == summary


@pytest.mark.slow
def test_every_mock_council_file_matches_the_answer_key(tmp_path: Path) -> None:
    """The crawl parses the mock web's files with this code: statuses, counts, totals and columns must agree."""
    from mockweb.generate import generate, route_key

    site = generate(tmp_path / "mockweb", councils=8, faults=True)
    answers = pd.read_csv(site.root / "answers" / "files.csv", dtype=str, keep_default_na=False)
    routes = json.loads((site.root / "routes.json").read_text())
    checked = 0
    for row in answers[answers.http_status == "200"].itertuples():
        route = routes[route_key(row.redirect_to or row.url_path)]
        summary = parse_file(site.root / route["file"], council_code=row.council_code).summary
        assert summary["status"] == row.expected_status, (row.url_path, summary["error"])
        if row.expected_status in ("ok", "partial"):
            assert (summary["rows"], summary["total_amount"]) == (int(row.transactions), row.total_amount), row.url_path
            assert summary["rows"] + summary["rows_rejected"] == int(row.rows_total), row.url_path
            assert summary["dataset"] == row.dataset, row.url_path
            assert set(filter(None, row.columns.split(";"))) <= set(summary["columns_mapped"]), row.url_path
        checked += 1
    assert checked > 100


def test_carriage_return_line_endings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "CHUNK_BYTES", 64)
    monkeypatch.setattr(tables, "HEAD_BYTES", 64)  # the file is read in chunks, not whole with its head
    text = "Date,Supplier,Amount\r" + "".join(f"0{i}/03/2025,Supplier {i},{i}.00\r" for i in range(1, 10))
    result = parse_file(write(tmp_path / "mac.csv", text))
    assert result.summary["rows"] == 9 and result.summary["total_amount"] == "45.00"
    assert result.spend.column("source_row").to_pylist() == list(range(2, 11))


def test_an_oversized_amount_rejects_its_row_not_the_file(tmp_path: Path) -> None:
    text = (
        "Date,Supplier,Amount\n01/03/2025,A Ltd,100.00\n02/03/2025,B Ltd,9999999999999999.995\n03/03/2025,C Ltd,0.125\n"
    )
    result = parse_file(write(tmp_path / "huge.csv", text))
    assert result.status == "partial" and result.summary["error"] is None
    assert result.spend.column("amount").to_pylist() == [Decimal("100.00"), Decimal("0.13")]
    assert result.rejects.to_pylist()[0]["reason"] == "unparseable_amount"
    assert result.rejects.to_pylist()[0]["detail"] == "9999999999999999.995"


def test_decimal_commas_are_rejected_not_misread(tmp_path: Path) -> None:
    text = (
        'Date,Supplier,Amount\n01/03/2025,A Ltd,"1.234,56"\n02/03/2025,B Ltd,"1,5"\n'
        '03/03/2025,C Ltd,"12,345,678.90"\n04/03/2025,D Ltd,"-1,000"\n'
    )
    result = parse_file(write(tmp_path / "commas.csv", text))
    assert result.status == "partial"
    assert result.spend.column("amount").to_pylist() == [Decimal("12345678.90"), Decimal("-1000.00")]
    assert [(r["source_row"], r["reason"], r["detail"]) for r in result.rejects.to_pylist()] == [
        (2, "unparseable_amount", "1.234,56"),
        (3, "unparseable_amount", "1,5"),
    ]


EXTRA_CELLS_ROWS = [
    ["Date", "Supplier", "Amount", "Category"],
    ["12/03/2025", "Beta Ltd", "250.00", "Office", "", ""],
    ["13/03/2025", "Acme Ltd", "£1", "000.00", "Software"],
    ["14/03/2025", "Gamma Ltd", "75.00", "Travel"],
]


def _check_extra_cells(result) -> None:
    assert result.status == "partial"
    assert result.spend.column("supplier_name").to_pylist() == ["Beta Ltd", "Gamma Ltd"]
    [reject] = result.rejects.to_pylist()
    assert (reject["source_row"], reject["reason"]) == (3, "extra_cells")
    assert json.loads(reject["detail"]) == json.loads(reject["raw"]) == EXTRA_CELLS_ROWS[2]


@pytest.mark.parametrize("chunk_bytes", [None, 40])
def test_a_row_with_more_cells_than_the_header_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int | None
) -> None:
    if chunk_bytes:
        monkeypatch.setattr(tables, "CHUNK_BYTES", chunk_bytes)
        monkeypatch.setattr(tables, "HEAD_BYTES", chunk_bytes)  # the file is read in chunks, not whole with its head
    text = "".join(",".join(row) + "\n" for row in EXTRA_CELLS_ROWS)  # the unquoted '£1,000.00' splits in two
    _check_extra_cells(parse_file(write(tmp_path / "extra.csv", text)))


def test_a_workbook_row_with_more_cells_than_the_header_is_rejected(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    for row in EXTRA_CELLS_ROWS:
        book.active.append(row)
    book.save(tmp_path / "extra.xlsx")
    _check_extra_cells(parse_file(tmp_path / "extra.xlsx"))


def test_published_company_numbers_are_normalised_like_the_matcher_does(tmp_path: Path) -> None:
    published = {
        "GB-COH-01234567": "01234567",
        "crn 1234567": "01234567",
        "IP30027R": "IP30027R",
        "sc 12345": "SC012345",
        "Company No. 7654321": "07654321",
        "Not yet available": None,
        "0": None,
    }
    text = "Date,Supplier,Amount,Company Number\n" + "".join(
        f"01/03/2025,Supplier {i},10.00,{value}\n" for i, value in enumerate(published)
    )
    result = parse_file(write(tmp_path / "companies.csv", text))
    assert result.status == "ok"
    assert result.spend.column("company_number_published").to_pylist() == list(published.values())
