"""Every council's suppliers, aggregated straight from the spend Parquet (usable from a notebook)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from normalise.store.layout import Layout

_SUPPLIERS_SQL = """
SELECT council_code,
       coalesce(supplier_key, '') AS supplier_key,
       mode(supplier_name) AS supplier_name,
       count(*) AS transactions,
       sum(amount) AS total_amount,
       mode(company_number_published) AS company_number_published,
       mode(charity_number_published) AS charity_number_published,
       bool_and(redacted) AS redacted
FROM read_parquet(?, hive_partitioning = true, union_by_name = true)
GROUP BY ALL
ORDER BY council_code, supplier_key
"""


def supplier_totals(out: Path) -> pd.DataFrame:
    """One row per council and supplier key, aggregated by DuckDB straight from the spend Parquet."""
    files = Layout(out).spend_files()
    if not files:
        return pd.DataFrame(
            columns=[
                "council_code",
                "supplier_key",
                "supplier_name",
                "transactions",
                "total_amount",
                "company_number_published",
                "charity_number_published",
                "redacted",
            ]
        )
    with duckdb.connect() as con:
        return con.sql(_SUPPLIERS_SQL, params=[[str(f) for f in files]]).to_arrow_table().to_pandas()
