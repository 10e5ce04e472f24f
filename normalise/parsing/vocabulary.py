"""What a column header says: which canonical fields it may name, and how strongly.

Three readings, strongest first:

* an exact **synonym** (a header seen in real files, the 2010 guidance, the Transparency Code,
  the LGA/esd schema, 360Giving, card bank exports), ranked most preferred first;
* **words**: the header cut into words (any case, any order, CamelCase split) and read by the
  family of its head word, e.g. any header with a date word is a date ('Pay Date', 'Date the grant
  was awarded'), any header with an amount word and no date, VAT, id or category word is an amount
  ('Total Invoice Amount');
* **fuzzy**: a near miss of a synonym ('Directotate', 'Expenditure Catergory'), by rapidfuzz.

Words that make one candidate better than another of the same field (paid over invoice dates,
sterling over original currency, net over gross) give a preference bonus. Values decide the rest
(see ``columns.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

#: canonical field -> normalised headers, most preferred first (spend and contracts fields).
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
    # contracts registers (Transparency Code: contracts over £5,000)
    "reference": (
        "contract reference",
        "contract ref",
        "contract reference number",
        "contract number",
        "contract id",
        "reference",
        "reference number",
        "ref",
        "ref no",
        "id",
    ),
    "title": ("contract title", "title", "title of contract", "contract name", "name of contract", "subject"),
    "description": ("description", "contract description", "description of goods services", "summary"),
    "value": (
        "contract value",
        "value",
        "total contract value",
        "total value",
        "estimated value",
        "estimated contract value",
        "whole life value",
        "value of contract",
        "annual value",
        "estimated annual value",
        "award value",
    ),
    "start_date": ("start date", "contract start date", "commencement date", "start", "date of award", "award date"),
    "end_date": ("end date", "contract end date", "expiry date", "end", "finish date"),
    "review_date": ("review date", "contract review date", "date of review"),
    "procedure": (
        "procurement procedure",
        "procedure",
        "procurement route",
        "procurement method",
        "route to market",
        "procurement type",
        "award procedure",
        "tender or quote",
    ),
    "sme": ("sme", "is the supplier an sme", "supplier is an sme", "sme status"),
    "vcse": ("vcse", "is the supplier a vcse", "supplier is a vcse", "vcse status", "voluntary or community"),
}

SPEND_FIELDS = (
    "amount",
    "gross_amount",
    "vat_amount",
    "irrecoverable_vat",
    "payment_date",
    "transaction_id",
    "supplier_name",
    "supplier_id_published",
    "company_number_published",
    "charity_number_published",
    "department",
    "service_area",
    "expense_type",
    "purpose",
    "merchant_category",
    "body",
)
CONTRACT_FIELDS = (
    "reference",
    "title",
    "description",
    "supplier_name",
    "supplier_id_published",
    "company_number_published",
    "charity_number_published",
    "value",
    "irrecoverable_vat",
    "start_date",
    "end_date",
    "review_date",
    "department",
    "procedure",
    "sme",
    "vcse",
    "body",
)

#: What kind of values each field holds (``columns.py`` checks the values against it).
KINDS = {
    "amount": "money",
    "gross_amount": "money",
    "vat_amount": "money",
    "irrecoverable_vat": "money",
    "value": "money",
    "payment_date": "date",
    "start_date": "date",
    "end_date": "date",
    "review_date": "date",
    "supplier_name": "name",
    "sme": "flag",
    "vcse": "flag",
} | {f: "code" for f in ("transaction_id", "supplier_id_published", "reference")}
TEXT_FIELDS = frozenset(
    {"supplier_name", "department", "service_area", "expense_type", "purpose", "merchant_category", "body", "title"}
)

# ------------------------------------------------------------------ words

_DATE = {"date", "dated", "dt", "when", "day"}
_WEAK_DATE = {"period", "month"}
_MONEY = {
    "amount",
    "amt",
    "amounts",
    "value",
    "paid",
    "spend",
    "spent",
    "expenditure",
    "total",
    "sum",
    "net",
    "nett",
    "gross",
    "cost",
    "costs",
    "charge",
    "price",
    "gbp",
    "sterling",
    "pounds",
    # figures that are not payments, read as money so the table can be recognised (datasets.py)
    "budget",
    "budgets",
    "outturn",
    "forecast",
    "allocation",
    "estimate",
    "estimates",
    "actual",
    "actuals",
    "salary",
    "salaries",
}
_VAT = {"vat"}
_VAT_EXCLUDED = re.compile(
    r"\b(ex|exc|excl|excludes?|excluded|excluding|exclusive|net of|before|less|without|minus)\b.*\bvat\b"
)
_VAT_INCLUDED = re.compile(r"\b(inc|incl|including|inclusive|with|plus)( of)? vat\b")
_ID = {
    "id",
    "ref",
    "reference",
    "no",
    "number",
    "num",
    "nos",
    "code",
    "identifier",
    "urn",
    "crn",
    "registration",
    "reg",
    "transno",
}
_CATEGORY = {
    "type",
    "category",
    "categorisation",
    "categorization",
    "classification",
    "class",
    "subjective",
    "account",
    "nominal",
    "ledger",
    "element",
    "cpv",
    "proclass",
    "sercop",
    "analysis",
}
_PARTY = {
    "supplier",
    "suppliers",
    "vendor",
    "payee",
    "beneficiary",
    "beneficiaries",
    "creditor",
    "merchant",
    "recipient",
    "contractor",
    "provider",
    "trader",
    "company",
    "organisation",
    "organization",
    "name",
    "grantee",
}
_DEPARTMENT = {"directorate", "department", "dept", "division", "portfolio", "function", "unit", "group"}
_SERVICE = {"service", "services", "area", "centre", "center", "section", "team", "cost"}
#: words of places, addresses and links: such a column names none of the fields
_ELSEWHERE = {
    "location",
    "geographic",
    "geo",
    "latitude",
    "longitude",
    "postcode",
    "address",
    "street",
    "city",
    "county",
    "country",
    "web",
    "url",
    "uri",
    "email",
    "phone",
    "telephone",
    "website",
}
_PURPOSE = {
    "purpose",
    "description",
    "desc",
    "narrative",
    "details",
    "detail",
    "reason",
    "summary",
    "particulars",
    "comments",
    "comment",
    "text",
    "item",
    "items",
    "goods",
    "notes",
}
_BODY = {"body", "council", "authority", "funder", "funding"}
_TRANSACTION = {
    "transaction",
    "trans",
    "transno",
    "invoice",
    "voucher",
    "document",
    "doc",
    "payment",
    "journal",
    "order",
    "po",
    "unique",
    "internal",
    "line",
    "grant",
}

#: Per field: words that make a column a better candidate (+) or a worse one (-).
PREFERRED: dict[str, frozenset[str]] = {
    "payment_date": frozenset({"paid", "payment", "pay", "pymt", "clearing", "cleared", "settled", "awarded", "award"}),
    "amount": frozenset({"net", "nett", "billing", "sterling", "gbp", "paid", "excl", "excluding"}),
    "gross_amount": frozenset({"billing", "sterling", "gbp"}),
    "supplier_name": frozenset({"name", "supplier", "beneficiary", "payee"}),
    "value": frozenset({"total", "whole", "life", "contract"}),
}
DISFAVOURED: dict[str, frozenset[str]] = {
    "payment_date": frozenset(
        {"invoice", "posting", "posted", "created", "creation", "input", "entered", "received", "due", "document"}
        | {"voucher", "effective", "period", "order", "goods", "raised", "from", "to", "start", "end"}
    ),
    "amount": frozenset(
        {"original", "foreign", "currency", "gross", "budget", "estimate", "forecast", "outturn", "salary"}
    ),
    "gross_amount": frozenset({"original", "foreign", "currency"}),
    "supplier_name": frozenset(
        {"classification", "type", "category", "postcode", "address", "town", "county", "cardholder", "holder"}
        | {"card", "employee", "officer", "approver", "requisitioner", "location"}
    ),
    "value": frozenset({"annual", "estimated", "yearly"}),
}

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^0-9a-z£]+")
_ASIDE = re.compile(r"\(=[^)]*\)")


def normalise_header(header: str) -> str:
    """Headers compared without case, punctuation, CamelCase, asides or pound signs.

    >>> normalise_header("BeneficiaryOtherID"), normalise_header("* SUPPLIER FINAL"), normalise_header("Body(=18)")
    ('beneficiary other id', 'supplier final', 'body')
    >>> normalise_header(" Net Amount(£) "), normalise_header("Name:  "), normalise_header("FIN.TRANSACTION DATE")
    ('net amount', 'name', 'fin transaction date')
    """
    return " ".join(w for w in header_words(header) if w != "£")


def header_words(header: str) -> list[str]:
    """A header's words, lower case, with '£' kept as a word of its own.

    >>> header_words("Net Amount (£)"), header_words("TotalInvoiceAmount")
    (['net', 'amount', '£'], ['total', 'invoice', 'amount'])
    """
    text = _ASIDE.sub(" ", header)
    text = _CAMEL.sub(" ", text).lower().replace("£", " £ ")
    return _NON_WORD.sub(" ", text).split()


@dataclass(frozen=True)
class Reading:
    """One way a header can be read: the field, how (synonym, words, fuzzy), a score and the synonym rank."""

    field: str
    how: str
    score: float
    rank: int = 99


_LOOKUP = {syn: (canon, rank) for canon, syns in SYNONYMS.items() for rank, syn in enumerate(syns)}
_KEYS = list(_LOOKUP)
FUZZY_CUTOFF = 88.0
SYNONYM_SCORE, WORDS_SCORE, PREFERENCE = 1.0, 0.8, 0.15
#: a header that is a known synonym of one field names another field by its words only as a fallback
WORDS_BELOW = 0.3


@lru_cache(maxsize=8192)
def readings(header: str) -> tuple[Reading, ...]:
    """Every field a header may name, best first (synonyms of several fields, then its words' family).

    >>> [(r.field, r.how) for r in readings("Pay Date")], [r.field for r in readings("Total Invoice Amount")]
    ([('payment_date', 'words')], ['amount', 'value'])
    >>> readings("REDACTIVE EVENTS")
    ()
    """
    words = header_words(header)
    key = " ".join(w for w in words if w != "£")
    if not words or len(header) > 120:
        return ()
    found: dict[str, Reading] = {}
    for canon, syns in SYNONYMS.items():
        if key in syns:
            how = "exact" if key == canon.replace("_", " ") else "synonym"
            found[canon] = Reading(canon, how, SYNONYM_SCORE, syns.index(key))
    for place, canon in enumerate(_families(words, key)):  # a family's later fields are fallbacks
        found.setdefault(canon, Reading(canon, "words", WORDS_SCORE - WORDS_BELOW * min(place, 1)))
    if not found and len(key) >= 5:
        near = process.extractOne(key, _KEYS, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        if near is not None:
            canon, rank = _LOOKUP[near[0]]
            found[canon] = Reading(canon, "fuzzy", 0.8 * float(near[1]) / 100, rank)
    named = any(r.how in ("exact", "synonym") for r in found.values())
    scored = []
    for r in found.values():
        fallback = WORDS_BELOW if named and r.how == "words" else 0.0
        scored.append(Reading(r.field, r.how, round(r.score + preference(r.field, words) - fallback, 3), r.rank))
    return tuple(sorted(scored, key=lambda r: (-r.score, r.rank)))


def preference(canon: str, words: list[str]) -> float:
    """Bonus for words that make a column the better candidate for ``canon`` (negative for worse ones).

    >>> preference("payment_date", ["pay", "date"]), preference("payment_date", ["invoice", "date"])
    (0.15, -0.15)
    >>> preference("amount", ["billing", "gross", "amt"]), preference("amount", ["original", "gross", "amt"])
    (0.0, -0.3)
    """
    bonus = PREFERENCE * len(PREFERRED.get(canon, frozenset()).intersection(words))
    malus = PREFERENCE * len(DISFAVOURED.get(canon, frozenset()).intersection(words))
    return round(bonus - malus, 3)


def _families(words: list[str], key: str) -> list[str]:
    """Fields a header's words name, by the family of its head word (date, VAT, category, id, money, ...)."""
    w = set(words)
    if w & _ELSEWHERE:
        return []
    if w & _DATE or (w & _WEAK_DATE and not w & (_MONEY | _ID | _PARTY)):
        return _date_fields(w)
    if w & _VAT:
        if w & _ID:
            return []  # a VAT registration number, not an amount
        if _VAT_EXCLUDED.search(key):
            return ["amount"]
        if _VAT_INCLUDED.search(key):
            return ["gross_amount"]
        irrecoverable = w & {"irrecoverable", "irrec", "irrecov", "nonrecoverable", "unrecoverable"}
        return ["irrecoverable_vat"] if irrecoverable or "non recoverable" in key else ["vat_amount"]
    if w & {"sme", "smes"}:
        return ["sme"]
    if w & {"vcse", "voluntary"} and not w & _MONEY:
        return ["vcse"]
    if w & {"procedure", "procurement", "route", "tender", "quote", "quotation"} and not w & (_MONEY | _ID):
        return ["procedure"]
    if w & _CATEGORY:
        return ["merchant_category"] if w & {"merchant", "mcc"} else ["expense_type"]
    if w & {"mcc"}:
        return ["merchant_category"]
    if w & {"paid", "payment", "payments"} and w & {"to", "recipient"}:
        return ["supplier_name"]
    if w & _ID:
        return _id_fields(w)
    if w & _MONEY or "£" in w:
        if "gross" in w:
            return ["gross_amount"]
        return ["amount", "value"] if not w & {"area", "centre", "unit"} else ["service_area"]
    if w & {"title"}:
        return ["title", "purpose"]
    if w & _DEPARTMENT:
        return ["department"]
    if w & _SERVICE:
        return ["service_area"]
    if w & _PARTY - {"name", "organisation", "organization", "company"} or w & {"name"} and not w & _BODY:
        return ["supplier_name"]
    if w & _PURPOSE:
        return ["purpose", "description"]
    if w & _BODY or w & {"organisation", "organization"}:
        return ["body"]
    return []


def _date_fields(w: set[str]) -> list[str]:
    if w & {"review", "reviewed"}:
        return ["review_date"]
    if w & {"end", "expiry", "expires", "expiration", "finish", "until", "to", "completion"}:
        return ["end_date"]
    if w & {"start", "commencement", "commence", "commences", "from", "begin", "award", "awarded"}:
        return ["start_date", "payment_date"] if w & {"award", "awarded"} else ["start_date"]
    return ["payment_date"]


def _id_fields(w: set[str]) -> list[str]:
    if "of" in w and w & {"number", "no", "count"}:
        return []  # 'Number of Payments': a count, not an id
    if w & {"card", "cur", "currency", "vat", "bank", "sort", "account", "cost", "postcode", "phone"}:
        return []  # card, currency, bank and account codes identify no transaction
    if w & {"company", "companies", "crn", "coh"}:
        return ["company_number_published"]
    if w & {"charity", "charities", "charitable"}:
        return ["charity_number_published"]
    if w & {"registration", "reg"} and w & (_PARTY - {"name"}):
        return ["charity_number_published"]
    if w & (_PARTY - {"name", "company"}):
        return ["supplier_id_published", "supplier_name"]  # names under an id header: the values decide
    if w & {"contract"}:
        return ["reference"]
    if (w & _TRANSACTION and w & (_ID - {"code"})) or "transno" in w:
        return ["transaction_id"]  # a code ('Transaction Code') names a kind of transaction, not one
    if w - _ID - {"unique", "our", "internal", "system", "record", "the", "of"}:
        return []  # an id of something else ('Cost Centre Code', 'Service Code')
    return ["transaction_id", "reference"]
