"""Who gets council money: the ``supplier_shares`` table.

Every spend row is put in exactly one group, so the groups add up to the total paid:

* ``individual_or_redacted``: the row's beneficiary was withheld (``spend.redacted``), or its
  supplier is a person (a sole trader);
* otherwise by the supplier's ``sector`` and ``size_band`` in ``suppliers``: ``vcse`` (whatever
  its size), ``sme`` (private, micro/small/medium), ``large`` (private, large),
  ``private_size_unknown``, ``public``, and ``unmatched`` (matched to nothing, or a supplier the
  suppliers table does not hold yet).

Rows are summed per council, UK local-government financial year (April to March, from
``payment_date``; undated rows under a null year) and dataset, and again for all councils
together (``level = 'national'``). Size bands are proxies (see ``normalise.registers.classify``):
the SME share is a lower bound, because a medium company filing full accounts counts as large.
DuckDB reads the Parquet files, so this scales with the national dataset.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from normalise.schema import SHARE_GROUPS, conform, empty_table
from normalise.store.layout import Layout

_GROUP = """
CASE
    WHEN s.redacted THEN 'individual_or_redacted'
    WHEN p.sector IS NULL THEN 'unmatched'
    WHEN p.sector = 'private' AND p.size_band IN ('micro', 'small', 'medium') THEN 'sme'
    WHEN p.sector = 'private' AND p.size_band = 'large' THEN 'large'
    WHEN p.sector = 'private' THEN 'private_size_unknown'
    ELSE p.sector
END
"""


def financial_year_sql(column: str) -> str:
    """SQL for the financial-year label (``2024-25``) of a date column; null for null dates."""
    start = f"(year({column}) - CASE WHEN month({column}) < 4 THEN 1 ELSE 0 END)"
    return f"CAST({start} AS VARCHAR) || '-' || lpad(CAST(({start} + 1) % 100 AS VARCHAR), 2, '0')"


def _shares_sql(with_suppliers: bool) -> str:
    paid = ",\n".join(f"coalesce(sum(amount) FILTER (WHERE grp = '{g}'), 0) AS paid_{g}" for g in SHARE_GROUPS)
    shares = ",\n".join(
        f"CASE WHEN paid_total > 0 THEN CAST(paid_{g} AS DOUBLE) / CAST(paid_total AS DOUBLE) END AS share_{g}"
        for g in SHARE_GROUPS
    )
    suppliers = (
        "LEFT JOIN read_parquet($suppliers) AS p "
        "ON p.council_code = s.council_code AND p.supplier_key = coalesce(s.supplier_key, '')"
        if with_suppliers
        else "LEFT JOIN (SELECT NULL AS sector, NULL AS size_band) AS p ON false"
    )
    return f"""
WITH rows AS (
    SELECT s.council_code, s.dataset, s.amount, {financial_year_sql("s.payment_date")} AS financial_year,
           {_GROUP} AS grp
    FROM read_parquet($spend, hive_partitioning = true, union_by_name = true) AS s
    {suppliers}
),
totals AS (
    SELECT CASE WHEN grouping(council_code) = 1 THEN 'national' ELSE 'council' END AS level,
           council_code, financial_year, dataset, count(*) AS transactions, sum(amount) AS paid_total,
           {paid}
    FROM rows
    GROUP BY GROUPING SETS ((council_code, financial_year, dataset), (financial_year, dataset))
)
SELECT *, {shares}
FROM totals
ORDER BY level, council_code NULLS FIRST, financial_year NULLS LAST, dataset
"""


def supplier_shares(out: Path, suppliers: Path | None = None) -> pa.Table:
    """The ``supplier_shares`` table of the output folder ``out`` (spend joined to suppliers).

    ``suppliers`` reads the suppliers from elsewhere than ``out`` (a version not yet committed).
    """
    layout = Layout(out)
    files = layout.spend_files()
    if not files:
        return empty_table("supplier_shares")
    suppliers = suppliers or layout.table("suppliers")
    params: dict[str, object] = {"spend": [str(f) for f in files]}
    if suppliers.is_file():
        params["suppliers"] = str(suppliers)
    with duckdb.connect() as con:
        table = con.sql(_shares_sql(suppliers.is_file()), params=params).to_arrow_table()
    return conform(table, "supplier_shares")
