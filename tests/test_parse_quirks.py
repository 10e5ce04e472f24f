"""Every class of real-world quirk the parser handles, reproduced in small files written here.

Each test stands for publishers nobody here has seen: the files are made by the test itself (no
copies of real files), so a fresh clone exercises every quirk without ../shared.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from normalise.parsing import tables
from normalise.parsing.parse import parse_file, parse_to_files


def write(path: Path, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


# ------------------------------------------------------------------ columns from headers and values


def test_headers_the_synonyms_never_listed_are_read_by_their_words(tmp_path: Path) -> None:
    text = (
        "Expenditure Category,Pay Date,Total Invoice Amount,SUPPLIER,Column1\n"
        "Clothing,03/04/2018,960.00,ALTBERG LTD,\n"
        "Training,14/04/2018,530.46,2am,\n"
    )
    result = parse_file(write(tmp_path / "monthly.csv", text))
    assert result.status == "ok"
    columns = result.summary["columns"]
    assert (columns["payment_date"]["source"], columns["payment_date"]["how"]) == ("Pay Date", "words")
    assert columns["amount"]["source"] == "Total Invoice Amount"
    assert result.spend.column("payment_date").to_pylist() == [dt.date(2018, 4, 3), dt.date(2018, 4, 14)]
    assert result.summary["total_amount"] == "1490.46"


def test_compliance_sees_the_dates_however_the_file_gives_them(tmp_path: Path) -> None:
    """A quarter with dates in the file is never judged to lack them (compliance reads ``columns_mapped``)."""
    from normalise.compliance.rules import fields_missing

    files = {
        "pay-date.csv": "Pay Date,Supplier,Amount\n03/04/2018,Acme Ltd,5.00\n",
        "unknown-header.csv": "Processed,Supplier,Amount\n03/04/2018,Acme Ltd,5.00\n04/04/2018,Beta,1.00\n"
        "05/04/2018,Gamma,2.00\n",
        "title-period.csv": "Payments for Dec-13\n\nSupplier,Amount\nAcme Ltd,5.00\n",
        "later-header.csv": "Supplier,Amount\nAcme Ltd,5.00\nDate,Supplier,Amount\n03/04/2018,Beta,1.00\n",
    }
    for name, text in files.items():
        summary = parse_file(write(tmp_path / name, text)).summary
        assert "date" not in fields_missing(summary["columns_mapped"]), name


def test_an_unknown_header_over_dates_is_the_date(tmp_path: Path) -> None:
    text = "Processed,Supplier,Amount\n02/05/2024,Acme Ltd,10.00\n17/05/2024,Beta plc,20.00\n03/06/2024,Acme Ltd,5.00\n"
    result = parse_file(write(tmp_path / "odd.csv", text))
    assert result.summary["columns"]["payment_date"]["how"] == "values"
    assert (result.summary["date_min"], result.summary["date_max"]) == ("2024-05-02", "2024-06-03")


def test_a_known_header_over_the_wrong_values_is_not_trusted(tmp_path: Path) -> None:
    text = (
        "Date,Period,Supplier,Amount\n"
        "VARIOUS,01/05/2024,Acme Ltd,10.00\n"
        "N/A,14/05/2024,Beta plc,20.00\n"
        "VARIOUS,30/05/2024,Acme Ltd,5.00\n"
    )
    result = parse_file(write(tmp_path / "various.csv", text))
    assert result.summary["columns"]["payment_date"]["source"] == "Period"
    assert result.summary["date_max"] == "2024-05-30"


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        (["Invoice Date", "Payment Date"], "Payment Date"),
        (["Posting Date", "Clearing Date"], "Clearing Date"),
        (["Date", "Invoice Date"], "Date"),
    ],
)
def test_paid_dates_are_preferred_to_invoice_and_posting_dates(tmp_path: Path, header: list[str], chosen: str) -> None:
    text = f"{header[0]},{header[1]},Supplier,Amount\n01/02/2024,20/02/2024,Acme Ltd,10.00\n"
    result = parse_file(write(tmp_path / "dates.csv", text))
    assert result.summary["columns"]["payment_date"]["source"] == chosen


def test_sterling_is_preferred_to_the_original_currency_and_net_to_gross(tmp_path: Path) -> None:
    card = (
        "TRANS DATE,ORIGINAL GROSS AMT,ORIGINAL CUR,BILLING GROSS AMT,BILLING CUR CODE,MERCHANT NAME\n"
        "10/08/2017,7.00,CAD,4.38,GBP,CANADA SHOP\n"
        "11/08/2017,20.00,GBP,20.00,GBP,UK SHOP\n"
    )
    result = parse_file(write(tmp_path / "card.csv", card))
    assert result.summary["columns"]["amount"]["source"] == "BILLING GROSS AMT"
    assert result.summary["total_amount"] == "24.38"
    spend = "Date,Supplier,Gross Amount,Net Amount,VAT\n01/02/2024,Acme Ltd,120.00,100.00,20.00\n"
    result = parse_file(write(tmp_path / "spend.csv", spend))
    assert result.summary["columns"]["amount"]["source"] == "Net Amount"
    assert result.spend.column("gross_amount").to_pylist() == [Decimal("120.00")]


def test_names_under_an_id_header_are_the_supplier(tmp_path: Path) -> None:
    text = (
        "Service,TransNo,Period,Supplier ID(T),Amount,Updated\n"
        "Highways,148016545,201505,O2 (UK) LTD,6,2015-08-13\n"
        "Libraries,41125444,201505,FULL BLOWN METALS,1665,2015-08-18\n"
        "Libraries,41125445,201505,ACME TRADING LTD,12,2015-08-19\n"
    )
    result = parse_file(write(tmp_path / "ids.csv", text))
    assert result.summary["columns"]["supplier_name"]["source"] == "Supplier ID(T)"
    assert result.spend.column("supplier_name").to_pylist()[0] == "O2 (UK) LTD"


def test_an_amount_excluding_vat_is_the_amount_and_data_rows_are_never_the_header(tmp_path: Path) -> None:
    text = (
        "Directorate,Paid Date,Supplier Name,Internal Ref,Cost Centre,Total (excludes VAT)\n"
        "Adults,2020-08-04,18 SEA VIEW VILLAS,8100222,1MK34,1600\n"
        "Children,2020-08-10,1ST MOVERS,8103511,1MR68,500\n"
    )
    result = parse_file(write(tmp_path / "net.csv", text))
    assert (result.summary["header_row"], result.summary["rows"]) == ({"": 1}, 2)
    assert result.summary["columns"]["amount"]["source"] == "Total (excludes VAT)"


def test_year_and_month_dates(tmp_path: Path) -> None:
    text = "Date,Supplier,Amount\n2015-04,Acme Ltd,569.65\n2015-04,Beta plc,553.10\n2015-04,Acme Ltd,1.00\n"
    result = parse_file(write(tmp_path / "months.csv", text))
    assert set(result.spend.column("date_precision").to_pylist()) == {"month"}
    assert (result.summary["period_start"], result.summary["period_end"]) == ("2015-04-01", "2015-04-30")


# ------------------------------------------------------------------ headers anywhere


def test_a_two_row_header_is_merged(tmp_path: Path) -> None:
    rows = [
        ["Date the grant was awarded", "Time period for the grant", "", "Beneficiary", "Amount"],
        ["", "From", "To", "", ""],
        [dt.datetime(2016, 1, 11), dt.datetime(2016, 4, 1), dt.datetime(2017, 3, 31), "Sea Cadets", 500.0],
        [dt.datetime(2016, 2, 15), "One off", "", "Food Bank", 1000.0],
    ]
    result = parse_file(workbook(tmp_path / "grants.xlsx", {"GRANTS": rows}))
    assert result.status == "ok" and result.summary["rows"] == 2
    assert result.summary["rejected"] == {}  # the second header row is header, not a rejected row
    assert result.summary["dataset"] == "grants"
    assert result.spend.column("payment_date").to_pylist() == [dt.date(2016, 1, 11), dt.date(2016, 2, 15)]


def test_a_header_that_changes_mid_sheet_remaps_the_rows_below(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Transaction Number", "Date", "Category", "Supplier Name", "Classification", "Amount"]]
    rows += [
        [100 + i, dt.datetime(2022, 4, 1 + i), "Training", f"Firm {i} Ltd", "Fees", 10.0 * (i + 1)] for i in range(5)
    ]
    rows += [["Transaction Number", "Date", "Subjective Description", "Supplier Name", "Amount", ""]]
    rows += [[f"600{i}", dt.datetime(2023, 1, 2 + i), "Repairs", f"Garage {i} Ltd", 100.0 + i, ""] for i in range(3)]
    result = parse_file(workbook(tmp_path / "two-blocks.xlsx", {"Data to upload": rows}))
    assert result.status == "ok"
    assert result.summary["rows"] == 8
    assert result.summary["total_amount"] == "453.00"  # 150.00 above the new header, 303.00 below it
    assert result.summary["date_max"] == "2023-01-04"
    assert result.summary["rejected"] == {"new_header": 1}
    [remap] = result.summary["remapped"]["Data to upload"]
    assert remap["row"] == 7 and remap["columns"]["amount"]["source"] == "Amount"
    assert "amount from column 6 to column 5" in result.rejects.column("detail")[0].as_py()


def test_a_repeated_header_in_a_csv_is_rejected_and_changes_nothing(tmp_path: Path) -> None:
    text = "Date,Supplier,Amount\n01/03/2025,A Ltd,1.00\nDate,Supplier,Amount\n02/03/2025,B Ltd,2.00\n"
    result = parse_file(write(tmp_path / "pages.csv", text))
    assert (result.summary["rows"], result.summary["rejected"]) == (2, {"repeated_header": 1})
    assert "remapped" not in result.summary


def test_every_sheet_is_judged_on_its_own(tmp_path: Path) -> None:
    sheets: dict[str, list[list[object]]] = {
        "Notes": [["This workbook lists payments over £500"], ["Source: finance system"]],
        "Summary": [["Supplier", "Sum of Amount"]] + [[f"Firm {i}", 100.0 * i] for i in range(1, 25)],
        "Apr 18": [["Expenditure Category", "Date", "Total Invoice Amount", "SUPPLIER"]]
        + [["Fees", dt.datetime(2018, 4, 3), 960.0, "2am"]],
        "May 18": [["Title row"], [], ["Date", "Supplier", "Amount"], [dt.datetime(2018, 5, 14), "Acme", 1.5]],
    }
    result = parse_file(workbook(tmp_path / "year.xlsx", sheets))
    assert result.summary["sheets"] == ["Apr 18", "May 18"]
    assert result.summary["header_row"] == {"Apr 18": 1, "May 18": 3}
    skipped = result.summary["skipped_sheets"]
    assert set(skipped) == {"Notes", "Summary"} and "per-supplier summary" in skipped["Summary"]
    assert result.summary["total_amount"] == "961.50"


# ------------------------------------------------------------------ bytes as they come


def test_gzip_content_under_a_csv_name(tmp_path: Path) -> None:
    path = tmp_path / "served-compressed.csv"
    path.write_bytes(gzip.compress(b"Date,Supplier,Amount\n01/03/2025,Acme Ltd,12.50\n02/03/2025,Beta,7.50\n"))
    result = parse_file(path)
    assert (result.summary["format"], result.summary["rows"], result.summary["total_amount"]) == ("gzip", 2, "20.00")


def test_a_gzip_inside_a_zip(tmp_path: Path) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("march.csv.gz", gzip.compress(b"Date,Supplier,Amount\n01/03/2025,Acme Ltd,12.50\n"))
    assert parse_file(archive).summary["total_amount"] == "12.50"


@pytest.mark.parametrize("chunk_bytes", [None, 48])
def test_carriage_return_lines_with_a_final_crlf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int | None
) -> None:
    """Old Mac exports: every line ends with a lone CR, and only the last with CR LF (read whole, or in chunks)."""
    if chunk_bytes:
        monkeypatch.setattr(tables, "CHUNK_BYTES", chunk_bytes)
        monkeypatch.setattr(tables, "HEAD_BYTES", chunk_bytes * 2)
    lines = ["Supplier ID,Supplier Name,Amount,Pay date"] + [f"{i},Firm {i},{i}.00 ,0{i}/10/2012" for i in range(1, 8)]
    path = tmp_path / "mac.csv"
    path.write_bytes(("\r".join(lines) + "\r\n").encode("mac_roman"))
    result = parse_file(path)
    assert (result.summary["rows"], result.summary["total_amount"]) == (7, "28.00")
    assert result.spend.column("source_row").to_pylist() == list(range(2, 9))


@pytest.mark.parametrize(
    ("raw", "encoding", "supplier"),
    [
        (b"St Francis Children\xabs Society", "mac_roman", "St Francis Children\u00b4s Society"),
        (b"Children\x92s Society", "cp1252", "Children\u2019s Society"),
        (b"Caf\x82 Royal", "cp850", "Caf\u00e9 Royal"),
    ],
)
def test_legacy_encodings_are_chosen_by_evidence(tmp_path: Path, raw: bytes, encoding: str, supplier: str) -> None:
    body = b"Date,Supplier,Amount\n01/03/2025," + raw + b",12.50\n02/03/2025,Plain Ltd,1.00\n"
    result = parse_file(_bytes(tmp_path / "legacy.csv", body))
    assert result.summary["encoding"] == encoding
    assert result.spend.column("supplier_name").to_pylist()[0] == supplier


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------ keep the money


def test_rows_with_an_amount_stay_whatever_else_is_unreadable(tmp_path: Path) -> None:
    text = (
        "Supplier Name,Supplier ID,Payment Date,Amount\n"
        "Acme Ltd,C1,14/04/2011,100.00\n"
        "VARIOUS,VARIOUS,VARIOUS,3615.39\n"
        ",Cobbetts LLP,05/04/2011,50.00\n"
        "Zurich,C2,21/04/2011,REDACTED\n"
        "Beta plc,C3,,25.00\n"
    )
    result = parse_file(write(tmp_path / "money.csv", text))
    summary = result.summary
    assert (summary["rows"], summary["total_amount"]) == (4, "3790.39")  # the council's own total
    assert summary["rejected"] == {"unparseable_amount": 1}  # only the row without a usable amount
    assert summary["row_issues"] == {"unparseable_date": 1, "missing_supplier": 1, "missing_date": 1}
    assert summary["status"] == "partial"
    issues = dict(zip(result.spend.column("source_row").to_pylist(), result.spend.column("row_issues").to_pylist()))
    assert issues == {2: None, 3: ["unparseable_date"], 4: ["missing_supplier"], 6: ["missing_date"]}


def test_a_grand_total_in_the_supplier_column_is_a_footer_not_a_firm_called_total(tmp_path: Path) -> None:
    text = (
        "Supplier Name,Description,Invoice GL Date,Spend\n"
        "Costain Ltd,Maintenance,2017-01-24,100.00\n"
        "Total Gas & Power Ltd,Electricity,2017-01-25,50.00\n"
        "Grand Total,,,150.00\n"
    )
    result = parse_file(write(tmp_path / "footer.csv", text))
    assert (result.summary["rows"], result.summary["total_amount"]) == (2, "150.00")
    assert result.summary["rejected"] == {"footer_total": 1}


def test_a_stray_cell_beyond_the_header_keeps_its_row_unless_the_amount_may_be_cut(tmp_path: Path) -> None:
    text = (
        "Date of Payment,Document Number,Net,Supplier Name,Description\n"
        "2015-12-01,601155100,1860,Ahmedia Ltd,Training\n"
        "2015-12-02,axxroyqkw,493.89,Brake Bros Ltd,Food,axxroyqkw\n"  # a systematic trailing copy of the number
        "2015-12-03,601155101,£1,000.00,Acme Ltd,Hire\n"  # unquoted thousands: the amount is cut in two
    )
    result = parse_file(write(tmp_path / "extra.csv", text))
    assert (result.summary["rows"], result.summary["total_amount"]) == (2, "2353.89")
    assert result.summary["rejected"] == {"extra_cells": 1}
    assert result.summary["row_issues"] == {"extra_cells": 1}


def test_ok_never_hides_an_empty_date_or_supplier_column(tmp_path: Path) -> None:
    """A file that plainly has dates and suppliers must not say ``ok`` when they came out empty."""
    text = "Payment Date,Supplier,Amount\n2024-13-45,Acme Ltd,1.00\n2024-14-46,Beta plc,2.00\n"
    result = parse_file(write(tmp_path / "bad-dates.csv", text))
    assert result.summary["rows"] == 2
    assert result.spend.column("payment_date").null_count == 2
    assert result.status != "ok"


# ------------------------------------------------------------------ what is not a payment list


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        (
            [["Supplier", "Total Spend 2024/25", "Number of Payments"]]
            + [[f"Firm {i} Ltd", f"{1000 + i}.00", str(i)] for i in range(30)],
            "per-supplier summary",
        ),
        ([["Supplier Name", "Amount"]] + [[f"Firm {i} Ltd", f"{1000 + i}.50"] for i in range(30)], "per-supplier"),
        (
            [["Directorate", "Service", "Actual Expenditure to 2008/09 £'000", "Planned Expenditure 2009/10 £'000"]]
            + [["Adults", "Day Services", "337", "240"]],
            "thousands",
        ),
        (
            [["Service", "Budget 2024/25", "Outturn 2024/25", "Supplier"]] + [["Highways", "1000.00", "950.00", "n/a"]],
            "budget",
        ),
        (
            [["Job Title", "Grade", "Salary", "Employee Name"]] + [["Director", "G1", "95000.00", "A Person"]],
            "pay",
        ),
        (
            [["Authority", "Expenditure on Education", "Expenditure on Highways", "Expenditure on Care", "Total"]]
            + [["Bath", "100.5", "200.5", "300.5", "601.5"]],
            "table of totals",
        ),
    ],
)
def test_tables_that_are_not_payments_are_flagged_with_the_reason(
    tmp_path: Path, rows: list[list[str]], reason: str
) -> None:
    path = tmp_path / "table.csv"
    path.write_text("\n".join(",".join(f'"{c}"' for c in row) for row in rows) + "\n", encoding="utf-8")
    result = parse_file(path)
    assert result.status == "not_spend", result.summary
    assert reason in result.summary["error"]
    assert result.spend.num_rows == 0


def test_small_card_purchases_are_a_card_file_even_without_card_words(tmp_path: Path) -> None:
    text = "Supplier,Transno,Amount,Directorate,Pay Date\n" + "".join(
        f"Shop {i},{5000 + i},{3 + i % 40}.99,Resources,{1 + i % 28:02d}/06/2021\n" for i in range(30)
    )
    assert parse_file(write(tmp_path / "cards.csv", text)).summary["dataset"] == "purchase_card"
    assert parse_file(write(tmp_path / "cards.csv", text), dataset="spend_over_500").summary["dataset"] == (
        "spend_over_500"
    )  # the link's word wins over the values


# ------------------------------------------------------------------ contracts over £5,000


CONTRACTS = (
    "Contract Reference,Contract Title,Supplier Name,Company Number,Contract Value,Start Date,End Date,"
    "Review Date,Procurement Procedure,SME,VCSE,Department\n"
    'C-001,Grounds maintenance,Green Ltd,01234567,"125,000.00",01/04/2025,31/03/2028,01/01/2028,Open tender,Yes,No,Place\n'
    "C-002,Agency staff,Temps plc,7654321,8000,14/05/2025,13/05/2026,,Invitation to quote,No,No,People\n"
    "C-003,Food bank support,Helping Hands,,tbc,20/06/2025,19/06/2026,,Direct award,n/a,Yes,People\n"
)


def test_a_contracts_register_is_read_into_the_contracts_table(tmp_path: Path) -> None:
    result = parse_file(write(tmp_path / "register.csv", CONTRACTS), council_code="BIR", dataset="spend_over_500")
    summary = result.summary
    assert (result.status, summary["table"], summary["dataset"]) == ("partial", "contracts", "contracts")
    assert result.spend.num_rows == 0 and result.contracts.num_rows == 3
    rows = result.contracts.to_pylist()
    assert [r["value"] for r in rows] == [Decimal("125000.00"), Decimal("8000.00"), None]
    assert rows[0]["company_number_published"] == "01234567" and rows[1]["company_number_published"] == "07654321"
    assert [r["sme"] for r in rows] == [True, False, None] and rows[2]["vcse"] is True
    assert rows[0]["end_date"] == dt.date(2028, 3, 31) and rows[0]["review_date"] == dt.date(2028, 1, 1)
    assert rows[2]["row_issues"] == ["unparseable_value", "unparseable_sme"]
    assert summary["total_amount"] == "133000.00"
    assert (summary["period_start"], summary["period_end"]) == ("2025-04-01", "2025-06-30")  # latest start's quarter
    assert {"reference", "title", "value", "start_date", "end_date", "procedure", "sme", "vcse"} <= set(
        summary["columns_mapped"]
    )
    assert len(set(result.contracts.column("row_id").to_pylist())) == 3


def test_a_contracts_register_is_written_beside_an_empty_spend_file(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from normalise.parsing.parse import contracts_path

    out = tmp_path / "out" / "register.parquet"
    summary = parse_to_files(write(tmp_path / "register.csv", CONTRACTS), out, council_code="BIR")
    assert summary["table"] == "contracts"
    assert pq.read_table(out).num_rows == 0 and pq.read_table(contracts_path(out)).num_rows == 3
    spend = parse_to_files(write(tmp_path / "spend.csv", "Date,Supplier,Amount\n01/03/2025,A,1\n"), out)
    assert spend["table"] == "spend" and not contracts_path(out).exists()


def test_a_list_linked_as_a_contracts_register_is_read_as_one(tmp_path: Path) -> None:
    text = "Supplier,Amount,Date Awarded,Description\nGreen Ltd,125000,01/04/2025,Grounds maintenance\n"
    assert parse_file(write(tmp_path / "awarded.csv", text)).summary["table"] == "spend"  # alone, it reads as spend
    result = parse_file(write(tmp_path / "awarded.csv", text), dataset="contracts")
    assert (result.summary["table"], result.contracts.column("value").to_pylist()) == ("contracts", [Decimal("125000")])
    assert result.contracts.column("start_date").to_pylist() == [dt.date(2025, 4, 1)]


def test_a_header_with_no_rows_is_empty_not_ok(tmp_path: Path) -> None:
    result = parse_file(write(tmp_path / "header-only.csv", "Date,Supplier,Amount\n,,\n"))
    assert (result.status, result.summary["rows"], result.summary["error"]) == ("empty", 0, "a header and no rows")
    assert json.loads(json.dumps(result.summary)) == result.summary
