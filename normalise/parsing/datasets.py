"""Which dataset a file holds (spend over £500, purchase card, grants), or that it holds none."""

from __future__ import annotations

import re

from normalise.parsing.columns import Choice, normalise_header

_GRANT = re.compile(r"\bgrants?\b|amount awarded|recipient org|award date|funding org")
_CARD = re.compile(r"\bmerchant\b|\bmch\b|card number|card transaction|\bmcc\b|merchant category")
_PIVOT = re.compile(r"^(sum|count|total|average) of\b")


def detect_dataset(header: list[str], choices: dict[str, Choice]) -> str:
    """spend_over_500, purchase_card or grants, from the header's vocabulary.

    Grants need a grant word in a key column (amount, recipient, date, purpose,
    reference): a 'VCSE Grant' flag column on a spend file does not count.

    >>> header = ["Award Date", "Recipient Org:Name", "Amount Awarded"]
    >>> detect_dataset(header, {"amount": Choice(2, "Amount Awarded", "synonym", 100)})
    'grants'
    >>> detect_dataset(["Date", "Supplier", "VCSE Grant", "Amount"], {"amount": Choice(3, "Amount", "exact", 100)})
    'spend_over_500'
    >>> detect_dataset(["TRANS DATE", "MERCHANT NAME", "ORIGINAL GROSS AMT"], {})
    'purchase_card'
    """
    key_columns = ("amount", "supplier_name", "payment_date", "purpose", "transaction_id")
    if any(_GRANT.search(normalise_header(choices[c].source)) for c in key_columns if c in choices):
        return "grants"
    if _CARD.search(" | ".join(normalise_header(h) for h in header if h)):
        return "purchase_card"
    return "spend_over_500"


def not_spend_reason(choices: dict[str, Choice]) -> str | None:
    """Why a mapped header does not describe transactions, or None when it does.

    >>> not_spend_reason({"supplier_name": Choice(0, "Supplier Name", "exact", 100),
    ...                   "amount": Choice(1, "Sum of Invoice Nett Amount", "synonym", 100)})
    'per-supplier summary (Sum of Invoice Nett Amount), not transactions: no dates or transaction numbers'
    """
    if "amount" not in choices:
        return "no amount column"
    if "supplier_name" not in choices:
        return "no supplier or beneficiary column"
    amount = choices["amount"].source
    if _PIVOT.match(normalise_header(amount)) and not {"payment_date", "transaction_id"} & set(choices):
        return f"per-supplier summary ({amount}), not transactions: no dates or transaction numbers"
    return None


def adapt_to_dataset(choices: dict[str, Choice], header: list[str], dataset: str) -> dict[str, Choice]:
    """Dataset-specific readings: on card files the LGA 'CategoryInternalName' is the merchant category."""
    if dataset == "purchase_card":
        for i, cell in enumerate(header):
            if normalise_header(cell) == "category internal name":
                adapted = {k: v for k, v in choices.items() if v.index != i and k != "merchant_category"}
                adapted["merchant_category"] = Choice(i, cell, "synonym", 100.0)
                return adapted
    return choices
