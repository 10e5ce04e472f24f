"""Score supplier matches against an answer key: precision, recall and counts."""

from __future__ import annotations

import pandas as pd


def evaluate(predicted: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Precision and recall of ``predicted`` (name, org_id) against ``truth`` (name, org_id).

    Rows join on ``name`` (or ``supplier_name``).  A truth org_id that is null or empty means "no
    organisation": any prediction for it is wrong.  Precision = correct / predicted matches;
    recall = correct / truth rows that have an organisation.

    >>> truth = pd.DataFrame({"name": ["a", "b", "c", "d"], "org_id": ["X", "Y", None, "Z"]})
    >>> got = pd.DataFrame({"name": ["a", "b", "c", "d"], "org_id": ["X", "Q", "W", None]})
    >>> m = evaluate(got, truth)
    >>> (m["correct"], m["wrong"], m["missed"], m["precision"], m["recall"])
    (1, 2, 2, 0.3333333333333333, 0.3333333333333333)
    """

    def prepared(frame: pd.DataFrame, side: str) -> pd.DataFrame:
        name = "name" if "name" in frame.columns else "supplier_name"
        out = frame[[name, "org_id"]].rename(columns={name: "name", "org_id": side})
        out = out.drop_duplicates("name").astype(object)
        return out.where(out.notna() & (out != ""), None)

    joined = prepared(truth, "truth").merge(prepared(predicted, "predicted"), on="name", how="left")
    has_truth = joined["truth"].notna()
    has_prediction = joined["predicted"].notna()
    correct = int((has_prediction & (joined["predicted"] == joined["truth"])).sum())
    claimed = int(has_prediction.sum())
    relevant = int(has_truth.sum())
    return {
        "names": len(joined),
        "with_organisation": relevant,
        "predicted": claimed,
        "correct": correct,
        "wrong": claimed - correct,
        "missed": relevant - correct,
        "precision": correct / claimed if claimed else 1.0,
        "recall": correct / relevant if relevant else 1.0,
    }
