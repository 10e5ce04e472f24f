"""supplier_shares on a small output folder, against figures worked out by hand."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from normalise.matching.shares import supplier_shares
from normalise.schema import SHARE_GROUPS
from normalise.store.layout import Layout
from normalise.store.parquet_io import write_table

# (council, supplier_key, sector, size_band)
SUPPLIERS = [
    ("BIR", "acme", "private", "small"),
    ("BIR", "age uk", "vcse", "large"),
    ("BIR", "megacorp", "private", "large"),
    ("BIR", "redacted personal data", "individual_or_redacted", None),
    ("BIR", "leeds city council", "public", None),
    ("BIR", "unknown bob", "unmatched", None),
    ("BIR", "newco", "private", "unknown"),
    ("LDS", "acme", "private", "micro"),
    ("LDS", "leeds mind", "vcse", "medium"),
]
# (council, supplier_key, payment_date, dataset, amount, redacted)
SPEND = [
    ("BIR", "acme", date(2024, 3, 15), "spend_over_500", "1000.00", False),  # 2023-24
    ("BIR", "age uk", date(2024, 3, 20), "spend_over_500", "500.00", False),  # 2023-24
    ("BIR", "acme", date(2024, 4, 2), "spend_over_500", "2000.00", False),
    ("BIR", "megacorp", date(2024, 4, 3), "spend_over_500", "3000.00", False),
    ("BIR", "megacorp", date(2024, 4, 5), "spend_over_500", "-500.00", False),  # a credit note
    ("BIR", "redacted personal data", date(2024, 5, 1), "spend_over_500", "700.00", True),
    ("BIR", "leeds city council", date(2024, 6, 1), "spend_over_500", "800.00", False),
    ("BIR", "unknown bob", date(2024, 6, 2), "spend_over_500", "100.00", False),
    ("BIR", "age uk", date(2024, 7, 1), "grants", "5000.00", False),
    ("BIR", "newco", date(2024, 7, 2), "spend_over_500", "250.00", False),
    ("BIR", "stranger", date(2024, 8, 1), "spend_over_500", "50.00", False),  # not in suppliers yet
    ("BIR", "acme", None, "spend_over_500", "10.00", False),  # undated
    ("LDS", "acme", date(2024, 4, 10), "spend_over_500", "400.00", False),
    ("LDS", "leeds mind", date(2025, 1, 10), "spend_over_500", "600.00", False),  # still 2024-25
]


def _write(out: Path) -> None:
    layout = Layout(out)
    for council in ("BIR", "LDS"):
        rows = [
            {
                "row_id": hashlib.sha256(f"{council}{i}".encode()).hexdigest()[:32],
                "council_code": council,
                "dataset": dataset,
                "payment_date": day,
                "amount": Decimal(amount),
                "supplier_name": key.title(),
                "supplier_key": key,
                "redacted": redacted,
                "source_sha256": "0" * 64,
                "source_row": i + 2,
            }
            for i, (c, key, day, dataset, amount, redacted) in enumerate(SPEND)
            if c == council
        ]
        write_table(
            pa.Table.from_pylist(rows),
            layout.spend_council(council) / "year=2024" / "part-0.parquet",
            schema_of="spend",
        )
    suppliers = [
        {"council_code": c, "supplier_key": k, "sector": sector, "size_band": band} for c, k, sector, band in SUPPLIERS
    ]
    write_table(pa.Table.from_pylist(suppliers), layout.table("suppliers"), schema_of="suppliers")


@pytest.fixture()
def shares(tmp_path: Path) -> dict[tuple, dict]:
    _write(tmp_path)
    return {
        (r["level"], r["council_code"], r["financial_year"], r["dataset"]): r
        for r in supplier_shares(tmp_path).to_pylist()
    }


def _paid(row: dict) -> dict[str, str]:
    return {g: f"{row[f'paid_{g}']:.2f}" for g in SHARE_GROUPS if row[f"paid_{g}"]}


def test_one_council_year_by_hand(shares: dict[tuple, dict]) -> None:
    row = shares[("council", "BIR", "2024-25", "spend_over_500")]
    assert row["transactions"] == 8
    assert row["paid_total"] == Decimal("6400.00")  # 2000 + 3000 - 500 + 700 + 800 + 100 + 250 + 50
    assert _paid(row) == {
        "sme": "2000.00",
        "large": "2500.00",
        "private_size_unknown": "250.00",
        "public": "800.00",
        "individual_or_redacted": "700.00",
        "unmatched": "150.00",  # a name matched to nothing and one the suppliers table lacks
    }
    assert row["share_sme"] == pytest.approx(2000 / 6400) and row["share_vcse"] == 0.0
    assert row["share_large"] == pytest.approx(2500 / 6400)


def test_years_datasets_and_undated_rows(shares: dict[tuple, dict]) -> None:
    march = shares[("council", "BIR", "2023-24", "spend_over_500")]
    assert (march["paid_total"], _paid(march)) == (Decimal("1500.00"), {"sme": "1000.00", "vcse": "500.00"})
    assert march["share_vcse"] == pytest.approx(1 / 3)
    grants = shares[("council", "BIR", "2024-25", "grants")]
    assert (grants["paid_total"], grants["share_vcse"]) == (Decimal("5000.00"), 1.0)
    undated = shares[("council", "BIR", None, "spend_over_500")]
    assert (undated["transactions"], _paid(undated)) == (1, {"sme": "10.00"})
    leeds = shares[("council", "LDS", "2024-25", "spend_over_500")]
    assert _paid(leeds) == {"sme": "400.00", "vcse": "600.00"}


def test_national_rows_add_up_the_councils(shares: dict[tuple, dict]) -> None:
    national = shares[("national", None, "2024-25", "spend_over_500")]
    assert national["paid_total"] == Decimal("7400.00") and national["transactions"] == 10
    assert _paid(national)["sme"] == "2400.00" and _paid(national)["vcse"] == "600.00"
    assert len([k for k in shares if k[0] == "national"]) == 4  # 2023-24, 2024-25 x2 datasets, undated
    for row in shares.values():  # the groups add up to the total
        assert sum(row[f"paid_{g}"] for g in SHARE_GROUPS) == row["paid_total"]
    councils = sum(r["paid_total"] for k, r in shares.items() if k[0] == "council")
    assert councils == sum(Decimal(s[4]) for s in SPEND)


def test_without_spend_the_table_is_empty(tmp_path: Path) -> None:
    table = supplier_shares(tmp_path)
    assert table.num_rows == 0 and "share_vcse" in table.column_names
