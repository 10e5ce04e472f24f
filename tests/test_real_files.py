"""Every real file in ../shared/realdata reads as a careful analyst reads it by hand.

The expected numbers were established independently of the parser: each file
was read with pandas with its header row, amount and date columns chosen by
hand (footer-total rows, which carry only an amount, removed; workbook dates
taken from the cells with the one-hour export offset removed), and the row
counts and redaction counts checked against SOURCES.md.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow.compute as pc
import pytest

from normalise import schema
from normalise.parsing.parse import parse_file

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"

pytestmark = pytest.mark.skipif(not REALDATA.is_dir(), reason="../shared/realdata is not available")

# file: (rows, total, date_min, date_max, {reject reason: n}, header_row of the first sheet, dataset)
EXPECTED = {
    "spend/calderdale__2015-06.csv": (5295, "23960366.12", "2015-06-01", "2015-06-30", {}, 1, "spend_over_500"),
    "spend/craven__payments.csv": (
        171,
        "726583.94",
        "2017-03-01",
        "2017-03-31",
        {"footer_total": 1},
        1,
        "spend_over_500",
    ),
    "spend/darlington__2010-07.csv": (4104, "19213253.07", "2010-07-01", "2010-07-01", {}, 1, "spend_over_500"),
    "spend/darlington__2014-12_a.csv": (881, "4024344.21", "2013-12-01", "2013-12-01", {}, 21, "spend_over_500"),
    "spend/darlington__2018-10.csv": (1852, "9839064.86", "2017-01-31", "2018-10-31", {}, 6, "spend_over_500"),
    "spend/devon__DCCSpendingOver500_201008.xls": (
        6384,
        "27977554.65",
        "2010-08-02",
        "2010-08-31",
        {},
        1,
        "spend_over_500",
    ),
    "spend/devon__DCCSpendingOver500_201101.csv": (
        7012,
        "28663931.81",
        "2011-01-04",
        "2011-01-31",
        {},
        1,
        "spend_over_500",
    ),
    "spend/devon__DCCSpendingOver500_201901.csv": (
        8951,
        "62189244.00",
        "2019-01-02",
        "2019-01-31",
        {},
        1,
        "spend_over_500",
    ),
    "spend/devon__DCCSpendingOver500_202603.csv": (
        3545,
        "57492900.67",
        "2026-03-02",
        "2026-03-31",
        {"footer_total": 1},
        1,
        "spend_over_500",
    ),
    "spend/harrogate__-12.csv": (1882, "2285216.66", "2018-09-03", "2018-09-26", {}, 1, "spend_over_500"),
    "spend/harrogate__2015-04.csv": (2168, "2886050.99", "2015-04-01", "2015-04-29", {}, 1, "spend_over_500"),
    "spend/hyndburn__1701.csv": (180, "538272.19", "2017-01-04", "2017-01-31", {}, 1, "spend_over_500"),
    "spend/hyndburn__April-2023.csv": (502, "1216217.07", "2023-03-14", "2023-04-30", {}, 2, "spend_over_500"),
    "spend/hyndburn__January-26-CSV.csv": (446, "9082922.07", "2026-01-06", "2026-01-29", {}, 1, "spend_over_500"),
    "spend/hyndburn__September-2022.csv": (14, "14309.72", "2022-08-11", "2022-09-30", {}, 1, "spend_over_500"),
    "spend/hyndburn__SpendOver250Feb24.csv": (569, "2030035.04", "2024-01-15", "2024-02-27", {}, 2, "spend_over_500"),
    "spend/lambeth__2012-06-payments.csv": (
        3155,
        "40292334.84",
        "2010-10-20",
        "2012-06-29",
        {"footer_total": 1, "junk": 1},
        10,
        "spend_over_500",
    ),
    "spend/lancsfire__fire-2025-26-q3.xlsx": (881, "5702960.85", "2025-09-26", "2025-12-23", {}, 1, "spend_over_500"),
    "spend/lancspcc__pcc-2024-25.xlsx": (7857, "110962284.83", "2024-04-01", "2025-01-30", {}, 1, "spend_over_500"),
    "spend/leeds__2010-12.csv": (10303, "77179009.24", "2010-11-01", "2010-12-31", {}, 1, "spend_over_500"),
    "spend/leeds__2020-06.csv": (16176, "104445727.45", "2020-02-25", "2020-06-30", {}, 1, "spend_over_500"),
    "spend/newcastle__-12.csv": (4302, "38212624.76", "2010-08-01", "2010-08-30", {}, 3, "spend_over_500"),
    "spend/newcastle__2017-01.csv": (5523, "29457362.65", "2017-01-03", "2017-01-31", {}, 3, "spend_over_500"),
    "spend/northtyneside__2014-04.csv": (11748, "24111542.58", "2014-04-01", "2014-04-30", {}, 1, "spend_over_500"),
    "spend/oxford__expenditure-over-500-jan-mar-2014.csv": (
        3859,
        "13413467.98",
        "2014-01-07",
        "2014-03-28",
        {"junk": 1},
        1,
        "spend_over_500",
    ),
    "spend/oxford__expenditure-over-500-jan-mar-2018.csv": (
        1220,
        "4339765.85",
        "2018-01-03",
        "2018-01-30",
        {},
        1,
        "spend_over_500",
    ),
    "spend/oxford__expenditure-over-500-jul-sep-2017.csv": (
        3259,
        "11344005.35",
        "2017-07-04",
        "2017-09-29",
        {},
        1,
        "spend_over_500",
    ),
    "spend/trafford__trafford-supplier-spend-2026-27.csv": (
        4999,
        "16999092.08",
        "2026-05-20",
        "2026-05-29",
        {},
        1,
        "spend_over_500",
    ),
    "spend/wakefield__2014-20.csv": (6531, "47565279.23", "2014-04-01", "2014-06-30", {}, 3, "spend_over_500"),
    "gpc/birmingham__cusersfinainmndesktoppublish-spend-august-2017-all-directorates.xls": (
        2306,
        "905865.92",
        "2017-07-25",
        "2017-08-31",
        {},
        1,
        "purchase_card",
    ),
    "gpc/birmingham__publish-spend-june-2016.xls": (
        4889,
        "772420.07",
        "2016-03-08",
        "2016-07-01",
        {},
        1,
        "purchase_card",
    ),
    "gpc/birmingham__purchasecardtransactionsapril2014.xls": (
        2690,
        "526760.25",
        "2013-11-12",
        "2014-05-02",
        {},
        1,
        "purchase_card",
    ),
    "gpc/oxford__procurement-card-spending-february-2018.csv": (
        366,
        "-1653.87",
        "2017-06-05",
        "2018-02-28",
        {},
        1,
        "purchase_card",
    ),
    "gpc/oxford__procurement-card-spending-jan-mar-2017.csv": (
        1141,
        "178660.96",
        "2017-01-01",
        "2017-03-30",
        {},
        1,
        "purchase_card",
    ),
    "gpc/trafford__government_procurement_card_transactions_2024-25.csv": (
        8134,
        "2150144.20",
        "2024-04-01",
        "2025-03-28",
        {},
        1,
        "purchase_card",
    ),
    "gpc/trafford__government_procurement_card_transactions_2026-27.csv": (
        2024,
        "494906.66",
        "2026-04-01",
        "2026-05-29",
        {},
        1,
        "purchase_card",
    ),
    "grants/devon__Grants paid - 1 Jan 2014 - 31 Dec 2014.csv": (
        781,
        "3197205.17",
        "2008-09-30",
        "2015-02-25",
        {"footer_total": 1},
        1,
        "grants",
    ),
    # 7 of 590 grants carry dates nobody can read ('12 July2 017', 'Various in July'): rejected, amounts kept there.
    "grants/devon__Grants paid - 1 Jan 2017 to 31 Dec 2017.csv": (
        583,
        "2446342.99",
        "2014-06-03",
        "2017-12-21",
        {"unparseable_date": 7},
        1,
        "grants",
    ),
    "grants/oxford__oxford-city-council-grants-awarded-214-15-to-2017-18.csv": (
        105,
        "1255243.00",
        "2014-02-12",
        "2017-02-09",
        {},
        1,
        "grants",
    ),
    "grants/trafford__trafford_council_voluntary_sector_grants.csv": (
        555,
        "1291436.54",
        "2013-01-18",
        "2024-06-19",
        {},
        1,
        "grants",
    ),
    "grants/trafford__trafford_council_voluntary_sector_grants.json": (
        555,
        "1291436.54",
        "2013-01-18",
        "2024-06-19",
        {},
        1,
        "grants",
    ),
}

# file: published redaction rows (SOURCES.md), negatives
REDACTIONS = {
    "spend/calderdale__2015-06.csv": 1892,
    "spend/devon__DCCSpendingOver500_201101.csv": 91,
    "spend/devon__DCCSpendingOver500_201901.csv": 428,
    "spend/leeds__2010-12.csv": 692 + 4,
    "spend/newcastle__-12.csv": 779,
    "spend/newcastle__2017-01.csv": 1411,
    "spend/northtyneside__2014-04.csv": 689,
    "spend/oxford__expenditure-over-500-jan-mar-2014.csv": 66,
    "spend/trafford__trafford-supplier-spend-2026-27.csv": 339,
    "spend/wakefield__2014-20.csv": 244,
}

COUNCILS = {
    "spend/calderdale__2015-06.csv": "CLD",
    "spend/darlington__2018-10.csv": "DAL",
    "spend/devon__DCCSpendingOver500_201101.csv": "DEV",
    "spend/lambeth__2012-06-payments.csv": "LBH",
    "spend/leeds__2020-06.csv": "LDS",
    "spend/newcastle__-12.csv": "NET",
    "spend/wakefield__2014-20.csv": "WKF",
    "gpc/trafford__government_procurement_card_transactions_2024-25.csv": "TRF",
}


@pytest.fixture(scope="module")
def results() -> dict:
    return {}


def _parse(name: str, cache: dict):
    if name not in cache:
        cache[name] = parse_file(REALDATA / name)
    return cache[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_rows_total_and_dates_match_a_hand_count(name: str, results: dict) -> None:
    rows, total, date_min, date_max, rejected, header_row, dataset = EXPECTED[name]
    result = _parse(name, results)
    summary = result.summary
    assert summary["status"] == ("partial" if "unparseable_date" in rejected else "ok")
    assert (summary["rows"], result.spend.num_rows) == (rows, rows)
    assert summary["total_amount"] == total
    assert pc.sum(result.spend.column("amount")).as_py() == Decimal(total)
    assert (summary["date_min"], summary["date_max"]) == (date_min, date_max)
    assert summary["rejected"] == rejected
    assert result.rejects.num_rows == sum(rejected.values())
    assert list(summary["header_row"].values())[0] == header_row
    assert summary["dataset"] == dataset
    for column in schema.SPEND:
        if column.required:
            assert result.spend.column(column.name).null_count == 0, column.name
    result.spend.cast(schema.arrow_schema("spend"))  # nullability holds
    assert len(pc.unique(result.spend.column("row_id"))) == rows


@pytest.mark.parametrize("name", sorted(REDACTIONS))
def test_redactions_are_flagged(name: str, results: dict) -> None:
    spend = _parse(name, results).spend
    assert pc.sum(spend.column("redacted")).as_py() == REDACTIONS[name]


@pytest.mark.parametrize("name", sorted(COUNCILS))
def test_council_is_inferred_from_the_file(name: str, results: dict) -> None:
    result = _parse(name, results)
    assert result.summary["council_code"] == COUNCILS[name]
    assert set(result.spend.column("council_code").to_pylist()) == {COUNCILS[name]}


def test_per_supplier_summary_is_not_spend() -> None:
    result = parse_file(REALDATA / "spend/lambeth__2011-01-payments.csv")
    assert result.status == "not_spend"
    assert "per-supplier summary" in result.summary["error"]
    assert result.spend.num_rows == 0


def test_pdf_saved_as_csv_is_not_machine_readable() -> None:
    result = parse_file(REALDATA / "spend/northtyneside__2015-03_b.csv")
    assert result.status == "not_machine_readable"
    assert result.summary["format"] == "pdf"


def test_quirks_survive_in_the_values(results: dict) -> None:
    jan26 = _parse("spend/hyndburn__January-26-CSV.csv", results).spend
    assert pc.sum(pc.less(jan26.column("amount"), 0)).as_py() == 11  # trailing-minus credits
    wakefield = _parse("spend/wakefield__2014-20.csv", results).summary
    assert wakefield["encoding"] == "cp850"
    darlington = _parse("spend/darlington__2014-12_a.csv", results)
    assert darlington.summary["columns"]["department"] == {"source": "Directotate", "how": "fuzzy", "score": 90.9}
    assert set(darlington.spend.column("date_precision").to_pylist()) == {"month"}
    quarter = _parse("spend/darlington__2010-07.csv", results).spend
    assert set(quarter.column("date_precision").to_pylist()) == {"quarter"}
    lancs = _parse("spend/lancspcc__pcc-2024-25.xlsx", results)
    assert len(lancs.summary["sheets"]) == 10
    card = _parse("gpc/trafford__government_procurement_card_transactions_2024-25.csv", results).spend
    assert card.column("merchant_category").null_count == 0


def test_a_zip_of_a_real_file_reads_like_the_file(tmp_path: Path, results: dict) -> None:
    import zipfile

    name = "spend/trafford__trafford-supplier-spend-2026-27.csv"
    archive = tmp_path / "trafford-supplier-spend-2026-27.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(REALDATA / name, "trafford-supplier-spend-2026-27.csv")
    zipped, plain = parse_file(archive).summary, _parse(name, results).summary
    assert zipped["format"] == "zip"
    assert (zipped["rows"], zipped["total_amount"], zipped["date_min"]) == (
        plain["rows"],
        plain["total_amount"],
        plain["date_min"],
    )


@pytest.mark.parametrize(
    "name",
    [
        "spend/wakefield__2014-20.csv",
        "spend/lancspcc__pcc-2024-25.xlsx",
        "gpc/oxford__procurement-card-spending-february-2018.csv",
    ],
)
def test_parquet_output_of_real_files_reads_back(tmp_path: Path, name: str) -> None:
    import pyarrow.parquet as pq

    from normalise.parsing.parse import parse_to_parquet

    summary = parse_to_parquet(REALDATA / name, tmp_path / "out.parquet")
    table = pq.read_table(tmp_path / "out.parquet")
    assert summary["status"] == "ok" and table.num_rows == EXPECTED[name][0]
    assert table.schema == schema.arrow_schema("spend")
