"""Map published column headers to the canonical spend columns.

Synonyms cover the 2010 spending-data guidance, the 2015 Transparency Code,
the LGA/esd Spend schema (CamelCase), 360Giving, procurement-card bank exports
and every variant seen in real files. Near misses ('Expenditure Catergory',
'Directotate') are caught by rapidfuzz; per-council overrides win over all.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

#: canonical column -> normalised headers, most preferred first.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "amount": (
        "net amount",
        "amount",
        "net amt",
        "sum of net amt",
        "invoice line value net of vat",
        "line value net of vat",
        "invoice line value",
        "nett amount",
        "invoice nett amount",
        "net value",
        "amount paid",
        "amount excluding vat",
        "amount excl vat",
        "amount ex vat",
        "net",
        "amount gbp",
        "payment amount",
        "transaction amount",
        "fin transaction amount",
        "value",
        "amount awarded",
        "amount disbursed",
        "grant amount",
        "amount of grant",
        "expenditure",
        "spend",
        "total",
        "grand total",
        "original gross amt",
        "billing gross amt",
        "invoice amount",
        "paid amount",
        "line amount",
        "sum of invoice nett amount",
        "sum of amount",
        "sum of net amount",
        "total paid",
    ),
    "gross_amount": (
        "gross amount",
        "gross",
        "sum of gross amt",
        "gross amt",
        "amount including vat",
        "amount inc vat",
        "total inc vat",
        "gross value",
    ),
    "vat_amount": ("vat amount", "vat", "sum of vat amt", "vat amt", "vat value"),
    "irrecoverable_vat": (
        "irrecoverable vat",
        "irrecoverable vat amount",
        "irrecoverable vat amt",
        "vat irrecoverable",
        "non recoverable vat",
    ),
    "payment_date": (
        "payment date",
        "date paid",
        "paid date",
        "pymt date",
        "date of payment",
        "transaction date",
        "trans date",
        "fin transaction date",
        "date",
        "invoice payment date",
        "voucher date",
        "posting date",
        "award date",
        "date grant awarded",
        "invoice creation date",
        "invoice date",
        "effective date",
        "period",
    ),
    "transaction_id": (
        "transaction number",
        "transaction no",
        "trans no",
        "transaction id",
        "transaction ref",
        "transaction reference",
        "trans number",
        "unique ref",
        "internal ref",
        "internal ref number",
        "internal reference",
        "hbc ref no",
        "invoice number",
        "invoice no",
        "invoice ref",
        "voucher number",
        "voucher no",
        "payment reference",
        "reference",
        "ref",
        "ref no",
        "document number",
        "identifier",
        "grant reference",
        "id",
    ),
    "supplier_name": (
        "supplier name",
        "supplier",
        "supplier beneficiary name",
        "beneficiary name",
        "beneficiary",
        "payee name",
        "payee",
        "creditor name",
        "vendor name",
        "vendor",
        "merchant name",
        "mch merchant name",
        "merchant",
        "recipient org name",
        "recipient organization name",
        "recipient name",
        "grant beneficiary",
        "supplier final",
        "en entity name",
        "entity name",
        "name",
        "company name",
        "organisation name of supplier",
    ),
    "supplier_id_published": (
        "supplier id",
        "supplier number",
        "supplier no",
        "supplier code",
        "supplier reference",
        "vendor id",
        "vendor number",
        "creditor id",
        "creditor number",
        "creditor code",
        "beneficiary id",
        "beneficiary other id",
        "recipient org identifier",
        "recipient organization id",
        "entity",
    ),
    "company_number_published": (
        "supplier registered company number",
        "company registration number",
        "company registration",
        "company number",
        "companies house number",
        "recipient org company number",
        "recipient organization company number",
        "beneficiary company number",
        "registered company number",
        "companies house registration number",
    ),
    "charity_number_published": (
        "supplier registered charity number",
        "charity registration number",
        "charity registration",
        "charity number",
        "registered charity number",
        "recipient org charity number",
        "recipient organization charity number",
        "beneficiary charity number",
        "beneficiary s registration number",
        "charity commission number",
        "charity commission registration number",
    ),
    "department": (
        "directorate",
        "department",
        "department area",
        "organisational unit",
        "organisation unit",
        "cardholder department",
        "organisatonal unit",
        "service label",
        "function",
        "portfolio",
        "division",
    ),
    "service_area": (
        "service area",
        "expense area",
        "service",
        "service division label",
        "service cost centre",
        "cost centre name",
        "cost centre description",
        "cost centre",
        "service code",
        "service sercop",
        "sercop service",
        "responsible unit",
        "profit centre",
        "expenditure unit",
    ),
    "expense_type": (
        "expense type",
        "expenditure category",
        "expenditure type",
        "detailed expenditure type",
        "account description",
        "account detail",
        "account",
        "account name",
        "subjective description",
        "subj description",
        "element description",
        "expenditure code description",
        "category internal name",
        "proclass label",
        "procurement classification",
        "sercop expenditure category",
        "sercop detailed expenditure type",
        "type of expenditure",
        "expense description",
        "category",
        "account code",
        "expenditure code",
        "expense code",
    ),
    "purpose": (
        "purpose",
        "purpose of spend",
        "purpose of spend summary",
        "summary of purpose",
        "purpose of expenditure",
        "purpose of grant",
        "narrative",
        "description",
        "transaction description",
        "details",
        "title",
        "grant purpose",
        "transaction description 2",
        "item description",
    ),
    "merchant_category": (
        "merchant category",
        "merchant category description",
        "merchant category name",
        "mcc description",
        "merchant category code",
        "mcc",
        "merchant type",
        "merchant category code description",
    ),
    "body": (
        "body name",
        "organisation name",
        "name of body",
        "organisation label",
        "body",
        "organisation code",
        "organisation uri",
        "organisation",
        "client",
        "funding org name",
        "funding organization name",
        "local authority",
        "council",
    ),
}

#: text columns: among equally good candidates, the one with words beats the one with codes.
TEXT_COLUMNS = {"supplier_name", "department", "service_area", "expense_type", "purpose", "merchant_category", "body"}
FUZZY_CUTOFF = 88.0
_LOOKUP = {syn: (canon, rank) for canon, syns in SYNONYMS.items() for rank, syn in enumerate(syns)}
_KEYS = list(_LOOKUP)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_ASIDE = re.compile(r"\(=[^)]*\)|\(£\)|£")


def normalise_header(header: str) -> str:
    """Headers compared without case, punctuation, CamelCase, asides or pound signs.

    >>> normalise_header("BeneficiaryOtherID"), normalise_header("* SUPPLIER FINAL"), normalise_header("Body(=18)")
    ('beneficiary other id', 'supplier final', 'body')
    >>> normalise_header(" Net Amount(£) "), normalise_header("Name:  "), normalise_header("FIN.TRANSACTION DATE")
    ('net amount', 'name', 'fin transaction date')
    """
    text = _ASIDE.sub(" ", header)
    text = _CAMEL.sub(" ", text).lower()
    return " ".join(_NON_WORD.sub(" ", text).split())


@dataclass(frozen=True)
class Choice:
    """Where a canonical column comes from: the source column, its header, how it was chosen, the score."""

    index: int
    source: str
    how: str
    score: float

    def summary(self) -> dict:
        return {"source": self.source, "how": self.how, "score": round(self.score, 1)}


@lru_cache(maxsize=4096)
def classify_header(header: str) -> tuple[str, int, str, float] | None:
    """(canonical, rank, how, score) for one header, or None.

    >>> classify_header("Expenditure Catergory")[:1], classify_header("Directotate")[:1], classify_header("Amount")
    (('expense_type',), ('department',), ('amount', 1, 'exact', 100.0))
    >>> classify_header("REDACTIVE EVENTS") is None
    True
    """
    key = normalise_header(header)
    if not key:
        return None
    if key in _LOOKUP:
        canon, rank = _LOOKUP[key]
        how = "exact" if key == canon.replace("_", " ") else "synonym"
        return canon, rank, how, 100.0
    if len(key) < 5:
        return None
    found = process.extractOne(key, _KEYS, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
    if found is None:
        return None
    canon, rank = _LOOKUP[found[0]]
    return canon, rank, "fuzzy", float(found[1])


def _wordiness(values: list[str]) -> float:
    """Share of non-blank values that contain letters (descriptions beat codes)."""
    filled = [v for v in values if v.strip()]
    return sum(any(c.isalpha() for c in v) for v in filled) / len(filled) if filled else 0.0


def map_columns(
    header: list[str], sample_rows: list[list[str]], overrides: dict[str, str] | None = None
) -> dict[str, Choice]:
    """Choose one source column for each canonical column the header provides.

    Overrides (canonical -> header text) win; then exact and synonym matches by
    preference rank, then fuzzy matches. Each source column is used once.
    """
    chosen: dict[str, Choice] = {}
    used: set[int] = set()
    for canon, source in (overrides or {}).items():
        target = normalise_header(source)
        for i, cell in enumerate(header):
            if i not in used and normalise_header(cell) == target:
                chosen[canon] = Choice(i, cell, "override", 100.0)
                used.add(i)
                break
    candidates = []
    for i, cell in enumerate(header):
        if i in used or (found := classify_header(cell)) is None:
            continue
        canon, rank, how, score = found
        if canon in chosen:
            continue
        words = _wordiness([r[i] for r in sample_rows if i < len(r)]) if canon in TEXT_COLUMNS else 0.0
        candidates.append((how == "fuzzy", rank, -round(words, 1), -score, i, canon, how, score))
    for *_, i, canon, how, score in sorted(candidates):
        if canon not in chosen and i not in used:
            chosen[canon] = Choice(i, header[i], how, score)
            used.add(i)
    return chosen


def header_score(cells: list[str], overridden: Set[str] = frozenset()) -> tuple[int, bool]:
    """How header-like a row is: how many cells name a canonical column, and whether one names an amount.

    Cells naming an overridden source header count as matches (and as the amount).

    >>> header_score(["Date", "Supplier", "Amount"]), header_score(["When", "Paid out"], {"Paid out", "When"})
    ((3, True), (2, True))
    """
    wanted = {normalise_header(o) for o in overridden}
    found = [classify_header(c) for c in cells if c and len(c) < 60]
    canon = {f[0] for f in found if f}
    extra = sum(1 for c in cells if c and normalise_header(c) in wanted)
    return len(canon) + extra, "amount" in canon or "gross_amount" in canon or extra > 0
