"""Which Transparency Code dataset a table holds, or why it holds no payments at all.

Spend over £500, purchase card and grants are told apart by the header's vocabulary first, then a
hint (the link the file came from), then the values (card files are mostly small sums). Tables
that look like spending but are not payments are recognised by their structure and their words:
summaries with one line per supplier and no dates, budgets and outturn, capital programmes,
amounts in £ thousands, pay tables, matrices of totals.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from statistics import median

import pyarrow as pa

from normalise.parsing.columns import Choice, Profile, column_values
from normalise.parsing.values import parse_amounts
from normalise.parsing.vocabulary import normalise_header, readings

_GRANT = re.compile(r"\bgrants?\b|amount awarded|recipient org|award date|funding org")
_CARD = re.compile(r"\bmerchant\b|\bmch\b|card number|card transaction|\bmcc\b|merchant category|\bcardholder\b")
_PIVOT = re.compile(r"^(sum|count|total|average) of\b")
_THOUSANDS = re.compile(r"£\s*'?\s*0{3}\b|'000|£\s*k\b|\(£k\)|\bthousands?\b|£m\b|\bmillions?\b", re.I)
_BUDGET = re.compile(
    r"\b(budgets?|outturn|forecasts?|estimates?|planned|allocations?|variance|virement|provisional|"
    r"projected|profiled|actuals?)\b"
)
_PAY = re.compile(r"\b(salary|salaries|pay band|pay scale|grade|spinal|fte|remuneration|headcount|pension)\b")
_COUNT = re.compile(r"\b(number|count|no) of (payments|transactions|invoices|items)\b|^(count|transactions|payments)$")
#: card purchases: a file whose typical amount is under this is not a list of payments over £500
CARD_MEDIAN = Decimal(100)
SUMMARY_MIN_ROWS = 20
#: columns of figures beside no payment date that make a table of totals (outturn by service, ...)
MATRIX_COLUMNS = 4


def detect_dataset(header: Sequence[str], choices: dict[str, Choice]) -> str | None:
    """grants or purchase_card from the header's vocabulary; None when the words say nothing specific.

    Grants need a grant word in a key column (amount, recipient, date, purpose, reference): a 'VCSE
    Grant' flag column on a spend file does not count.

    >>> header = ["Award Date", "Recipient Org:Name", "Amount Awarded"]
    >>> detect_dataset(header, {"amount": Choice(2, "Amount Awarded", "synonym", 1.0)})
    'grants'
    >>> detect_dataset(["Date", "Supplier", "VCSE Grant", "Amount"], {"amount": Choice(3, "Amount", "exact", 1.0)}) is None
    True
    >>> detect_dataset(["TRANS DATE", "MERCHANT NAME", "ORIGINAL GROSS AMT"], {})
    'purchase_card'
    """
    key_columns = ("amount", "supplier_name", "payment_date", "purpose", "transaction_id")
    if any(_GRANT.search(normalise_header(choices[c].source)) for c in key_columns if c in choices):
        return "grants"
    if _CARD.search(" | ".join(normalise_header(h) for h in header if h)):
        return "purchase_card"
    return None


def dataset_from_values(sample: Sequence[Sequence[str]], choices: dict[str, Choice]) -> str | None:
    """purchase_card when the typical amount is a small purchase (median under £100), else None.

    >>> rows = [[f"{v}.99"] for v in (3, 12, 25, 40, 8, 70, 15, 9, 33, 120)]
    >>> dataset_from_values(rows, {"amount": Choice(0, "Amount", "exact", 1.0)})
    'purchase_card'
    """
    if "amount" not in choices:
        return None
    amounts = parse_amounts(pa.array(column_values(sample, choices["amount"].index), pa.string())).amounts
    values = [abs(a) for a in amounts.to_pylist() if a is not None]
    if len(values) >= 10 and median(values) < CARD_MEDIAN:
        return "purchase_card"
    return None


def not_spend_reason(
    header: Sequence[str], choices: dict[str, Choice], sample: Sequence[Sequence[str]], profiles: Sequence[Profile]
) -> str | None:
    """Why a mapped table does not list payments, or None when it does.

    >>> amount = Choice(1, "Sum of Invoice Nett Amount", "synonym", 1.0)
    >>> named = {"supplier_name": Choice(0, "Supplier Name", "exact", 1.0), "amount": amount}
    >>> not_spend_reason(["Supplier Name", "Sum of Invoice Nett Amount"], named, [], [Profile(0), Profile(0)])
    'per-supplier summary (Sum of Invoice Nett Amount), not transactions: no dates or transaction numbers'
    """
    if "amount" not in choices:
        return "no column of amounts"
    amount = choices["amount"].source
    money_headers = [h for h, p in zip(header, profiles) if h and _is_money_header(h, p)]
    if any(_THOUSANDS.search(h) for h in money_headers):
        scaled = next(h for h in money_headers if _THOUSANDS.search(h))
        return f"amounts in thousands or millions ({_short(scaled)}): a summary or budget table, not payments"
    budget = [h for h in money_headers if _BUDGET.search(normalise_header(h))]
    if budget:
        return f"budget, outturn or programme figures ({_short(budget[0])}), not payments"
    dated = "payment_date" in choices
    if not dated and any(_PAY.search(normalise_header(h)) for h in header if h):
        return "a pay or staffing table, not payments"
    figures = _figure_columns(choices, profiles)
    if not dated and figures >= MATRIX_COLUMNS:
        return f"a table of totals ({figures} columns of figures, no payment dates), not payments"
    if "supplier_name" not in choices:
        return "no supplier or beneficiary column: totals by service or account, not payments"
    undated = not {"payment_date", "transaction_id"} & set(choices)
    if _PIVOT.match(normalise_header(amount)) and undated:
        return f"per-supplier summary ({amount}), not transactions: no dates or transaction numbers"
    if undated and any(_COUNT.search(normalise_header(h)) for h in header if h):
        return "per-supplier summary (a count of payments per line), not transactions"
    if undated and _one_line_per_supplier(sample, choices["supplier_name"].index):
        return "per-supplier summary (each supplier once, no dates or transaction numbers), not transactions"
    return None


def _figure_columns(choices: dict[str, Choice], profiles: Sequence[Profile]) -> int:
    """Columns holding figures (by their values), other than those mapped to ids, codes or dates."""
    other = {c.index for canon, c in choices.items() if canon not in ("amount", "gross_amount", "vat_amount")}
    return sum(
        1
        for i, values in enumerate(profiles)
        if i not in other and values.filled and values.money >= 0.9 and values.long_integers < 0.5
    )


def _is_money_header(header: str, values: Profile) -> bool:
    named = readings(header)
    if not named or named[0].field not in ("amount", "gross_amount", "value"):
        return False
    return values.filled == 0 or values.money >= 0.8


def _one_line_per_supplier(sample: Sequence[Sequence[str]], index: int) -> bool:
    names = [v.strip().casefold() for v in column_values(sample, index) if v.strip()]
    return len(names) >= SUMMARY_MIN_ROWS and len(set(names)) == len(names)


def _short(header: str) -> str:
    return " ".join(header.split())[:60]


def adapt_to_dataset(choices: dict[str, Choice], header: Sequence[str], dataset: str) -> dict[str, Choice]:
    """Dataset-specific readings: on card files the LGA 'CategoryInternalName' is the merchant category."""
    if dataset == "purchase_card":
        for i, cell in enumerate(header):
            if normalise_header(cell) == "category internal name":
                adapted = {k: v for k, v in choices.items() if v.index != i and k != "merchant_category"}
                adapted["merchant_category"] = Choice(i, cell, "synonym", 1.0)
                return adapted
    return choices
