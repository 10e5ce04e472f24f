"""Score a demo run's supplier matches against the mock web's answer key."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from mockweb.answers import load_answer_key
from normalise.matching.evaluation import evaluate
from normalise.names import supplier_key
from normalise.store.layout import Layout


def score_suppliers(out: Path) -> dict:
    """Precision and recall of ``<out>/suppliers.parquet`` over the non-redacted suppliers of the
    answer key in ``<out>/_mockweb`` (where ``councilspend demo`` generates it), overall and by the
    true ``org_type``; and, over the correctly matched names, how often the sector and the size
    band agree with the truth (``sector_agreement``, ``size_band_agreement``; a size band the
    registers cannot tell, ``unknown``, counts against).

    Suppliers are compared per council by their supplier key, as the suppliers table groups them.
    """
    out = Path(out)
    suppliers_path = Layout(out).table("suppliers")
    if not suppliers_path.exists():
        raise FileNotFoundError(f"no {suppliers_path}: run `councilspend demo --out {out}` first")
    truth = load_answer_key(Layout(out).demo_web).suppliers
    truth = truth[truth["org_type"] != "individual_or_redacted"].copy()
    truth["name"] = truth["council_code"] + "|" + truth["supplier_name"].map(supplier_key)
    truth["org_id"] = truth["org_id"].replace("", None)
    predicted = pq.read_table(
        suppliers_path, columns=["council_code", "supplier_key", "org_id", "sector", "size_band"]
    ).to_pandas()
    predicted["name"] = predicted["council_code"] + "|" + predicted["supplier_key"]
    result = evaluate(predicted[["name", "org_id"]], truth[["name", "org_id"]])
    both = truth.drop_duplicates("name").merge(predicted.drop_duplicates("name"), on="name", suffixes=("", "_got"))
    right = both[both["org_id"].notna() & (both["org_id"] == both["org_id_got"])]
    sized = right[right["size_band"] != ""]
    result["sector_agreement"] = float((right["sector"] == right["sector_got"]).mean()) if len(right) else 1.0
    result["size_band_agreement"] = float((sized["size_band"] == sized["size_band_got"]).mean()) if len(sized) else 1.0
    result["by_org_type"] = {
        org_type: evaluate(predicted[["name", "org_id"]], group[["name", "org_id"]])
        for org_type, group in truth.groupby("org_type")
    }
    return result


def metrics_table(result: dict) -> pd.DataFrame:
    """The overall and per-type metrics as one small table for printing."""
    rows = {"all": result, **result["by_org_type"]}
    counts = ["names", "with_organisation", "predicted", "correct", "wrong", "missed"]
    table = pd.DataFrame.from_records(
        [{k: r[k] for k in [*counts, "precision", "recall"]} for r in rows.values()], index=list(rows)
    )
    return table.astype({k: "int64" for k in counts})
