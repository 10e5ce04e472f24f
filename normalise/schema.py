"""The published tables, defined once.

Every table councilspend writes is described here as a list of :class:`Column`.
Parquet schemas (:func:`arrow_schema`), ``datapackage.json`` and the data
dictionary are all generated from these lists, so a column is added or
documented in exactly one place.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa

#: Money is exact: pence as decimals, never floats.
MONEY = pa.decimal128(18, 2)

DATASETS = ("spend_over_500", "purchase_card", "grants")
#: the Transparency Code's contracts over £5,000, published as their own table
CONTRACTS_DATASET = "contracts"
DATE_PRECISIONS = ("day", "month", "quarter", "year")
PARSE_STATUSES = ("ok", "partial", "empty", "failed", "not_machine_readable", "not_spend")
ORG_TYPES = (
    "company",
    "cic",
    "charity",
    "charitable_company",
    "cio",
    "mutual",
    "public_body",
    "individual_or_redacted",
    "unmatched",
)
MATCH_METHODS = ("published_id", "exact", "fuzzy", "override", "none")
SIZE_BANDS = ("micro", "small", "medium", "large", "unknown")
SECTORS = ("vcse", "private", "public", "individual_or_redacted", "unmatched")
#: How two register entries were found to be one body (see normalise.registers.links).
LINK_METHODS = ("register", "link_table", "same_name")
COMPLIANCE_STATUSES = (
    "compliant",
    "late",
    "missing",
    "incomplete",
    "not_machine_readable",
    "unknown",
    "site_unreachable",  # nothing found, and our last crawl could not read the council's pages
    "not_applicable",  # outside England: the Transparency Code's duty does not apply
)


@dataclass(frozen=True)
class Column:
    """One column of a published table."""

    name: str
    type: pa.DataType
    description: str
    required: bool = False

    def field(self) -> pa.Field:
        return pa.field(self.name, self.type, nullable=not self.required)


def _c(name: str, type_: pa.DataType, description: str, required: bool = False) -> Column:
    return Column(name, type_, description, required)


S, D, B, INT, TS = pa.string(), pa.date32(), pa.bool_(), pa.int64(), pa.timestamp("us", tz="UTC")

#: Columns spend and contracts rows share (the council, the supplier's ids, where each row came from).
_COUNCIL_CODE = _c("council_code", S, "mySociety three-letter council code, e.g. BIR.", True)
_GSS_CODE = _c("gss_code", S, "ONS GSS code of the council.")
_SUPPLIER_KEY = _c("supplier_key", S, "Normalised supplier name used for grouping and matching.")
_SUPPLIER_ID_PUBLISHED = _c("supplier_id_published", S, "The council's own supplier id, where published.")
_COMPANY_NUMBER_PUBLISHED = _c(
    "company_number_published", S, "Companies House number as published, normalised to 8 characters where valid."
)
_CHARITY_NUMBER_PUBLISHED = _c("charity_number_published", S, "Charity number as published.")
_IRRECOVERABLE_VAT = _c("irrecoverable_vat", MONEY, "VAT that cannot be recovered, where published.")
_PROVENANCE = [
    _c("source_sha256", S, "sha256 of the original file this row was read from.", True),
    _c("source_url", S, "URL the original file was downloaded from."),
    _c("source_sheet", S, "Worksheet name, for workbooks."),
    _c("source_row", INT, "1-based row number in the original file or sheet.", True),
]

SPEND = [
    _c(
        "row_id",
        S,
        "Stable id of the transaction: the same published row gets the same id on every run and in every file that repeats it.",
        True,
    ),
    _COUNCIL_CODE,
    _GSS_CODE,
    _c("dataset", S, "spend_over_500 | purchase_card | grants.", True),
    _c(
        "payment_date",
        D,
        "Date the expenditure was incurred (first day of the period when only a month or quarter is published).",
    ),
    _c("date_precision", S, "day | month | quarter | year: how precise payment_date is."),
    _c("transaction_id", S, "Transaction or invoice number as published."),
    _c("amount", MONEY, "Amount in GBP, net of VAT where the file gives both; signed, credit notes negative.", True),
    _IRRECOVERABLE_VAT,
    _c("vat_amount", MONEY, "VAT amount, where published."),
    _c("gross_amount", MONEY, "Gross amount, where published."),
    _c("supplier_name", S, "Beneficiary as published (trimmed)."),
    _SUPPLIER_KEY,
    _SUPPLIER_ID_PUBLISHED,
    _COMPANY_NUMBER_PUBLISHED,
    _CHARITY_NUMBER_PUBLISHED,
    _c("redacted", B, "True where the beneficiary was withheld (personal data, commercial confidentiality).", True),
    _c("department", S, "Directorate or department."),
    _c("service_area", S, "Service area or expense area."),
    _c("expense_type", S, "Expense type or account description."),
    _c("purpose", S, "Summary of purpose or narrative."),
    _c("merchant_category", S, "Merchant category (procurement-card files)."),
    *_PROVENANCE,
    _c("also_published_in", pa.list_(S), "sha256 of other files that published the same transaction."),
    _c(
        "row_issues",
        pa.list_(S),
        "What could not be read in a row kept for its amount: unparseable_date, missing_date, missing_supplier, "
        "unparseable_<column>; null when nothing.",
    ),
]

CONTRACTS = [
    _c("row_id", S, "Stable id of the contract row: the same published row gets the same id on every run.", True),
    _COUNCIL_CODE,
    _GSS_CODE,
    _c("reference", S, "The council's contract reference, as published."),
    _c("title", S, "Title of the contract."),
    _c("description", S, "Description of the goods or services."),
    _c("supplier_name", S, "Supplier as published (trimmed)."),
    _SUPPLIER_KEY,
    _SUPPLIER_ID_PUBLISHED,
    _COMPANY_NUMBER_PUBLISHED,
    _CHARITY_NUMBER_PUBLISHED,
    _c("value", MONEY, "Value of the contract in GBP as published (over its life, or annual where that is given)."),
    _IRRECOVERABLE_VAT,
    _c("start_date", D, "Start date."),
    _c("end_date", D, "End date."),
    _c("review_date", D, "Review date, where published."),
    _c("department", S, "Department or directorate responsible."),
    _c("procedure", S, "How it was procured (invitation to quote, tender, framework, ...), as published."),
    _c("sme", B, "Whether the supplier is a small or medium-sized enterprise, where published."),
    _c("vcse", B, "Whether the supplier is a voluntary, community or social enterprise, where published."),
    _c("redacted", B, "True where the supplier was withheld.", True),
    *_PROVENANCE,
    _c("also_published_in", pa.list_(S), "sha256 of other registers that list the same contract."),
    _c("row_issues", pa.list_(S), "What could not be read in a row that was kept (e.g. unparseable_value)."),
]

REJECTS = [
    _c("council_code", S, "Council the file belongs to."),
    _c("dataset", S, "Dataset the file was read as (spend_over_500, purchase_card, grants or contracts)."),
    _c("source_sha256", S, "sha256 of the original file.", True),
    _c("source_url", S, "URL of the original file."),
    _c("source_sheet", S, "Worksheet name, for workbooks."),
    _c("source_row", INT, "1-based row number in the original file or sheet.", True),
    _c(
        "reason",
        S,
        "Why the row is not in spend, e.g. footer_total, unparseable_amount, missing_amount, duplicate.",
        True,
    ),
    _c("detail", S, "Human-readable detail (the offending value, or the row_id a duplicate repeats)."),
    _c("raw", S, "The original cells of the row, as a JSON array of strings."),
]

FILES = [
    _c("council_code", S, "Council the file was found for.", True),
    _c("url", S, "URL of the file.", True),
    _c("final_url", S, "Where the last fetch ended after redirects (another host, a new domain), when not at url."),
    _c("landing_url", S, "Page the link was found on."),
    _c("link_text", S, "Text of the link."),
    _c("first_seen_at", TS, "When the link was first seen."),
    _c("last_seen_at", TS, "When the link was last seen."),
    _c("fetched_at", TS, "When the file was last downloaded (or revalidated)."),
    _c("http_status", INT, "HTTP status of the last fetch."),
    _c("etag", S, "ETag header of the last fetch."),
    _c("last_modified", S, "Last-Modified header of the last fetch."),
    _c("content_type", S, "Content-Type header."),
    _c("size", INT, "Size in bytes."),
    _c("sha256", S, "sha256 of the content; the original is stored at raw/<sha256[:2]>/<sha256>.<ext>."),
    _c("format", S, "csv | xlsx | xls | ods | zip | gzip | pdf | html | json | unknown, sniffed from the bytes."),
    _c("period_start", D, "First day of the period the file covers (from link text, name or rows)."),
    _c("period_end", D, "Last day of the period the file covers."),
    _c("dataset", S, "spend_over_500 | purchase_card | grants | contracts, as guessed from the link or the content."),
    _c(
        "parse_status",
        S,
        "ok | partial | empty (a header and no rows) | failed | not_machine_readable | not_spend; null until parsed.",
    ),
    _c("columns_mapped", pa.list_(S), "Canonical spend columns the file provides (after column mapping)."),
    _c("rows", INT, "Rows written to spend (or contracts)."),
    _c("rows_rejected", INT, "Rows written to rejects."),
    _c("error", S, "Why a fetch or parse failed."),
    _c("parser_version", INT, "Version of the parser that read the file (normalise.parsing.version.PARSER_VERSION)."),
]

PAGES = [
    _c("council_code", S, "Council the page was read for.", True),
    _c("url", S, "Address asked for (before any redirect).", True),
    _c(
        "kind",
        S,
        "landing | subpage | ckan_package | ckan_search | directory | well_known: a configured landing page, a page "
        "found on one, a portal dataset, a portal search or council-directory lookup, a well-known path tried.",
    ),
    _c(
        "entry",
        B,
        "A way in to the council's files (configured page or dataset, fallback lookup), not a page found on one.",
    ),
    _c("dataset", S, "Dataset the page is configured for, where it is."),
    _c("first_seen_at", TS, "When the page was first asked for."),
    _c("checked_at", TS, "When the page was last asked for."),
    _c("last_ok_at", TS, "When the page was last read successfully."),
    _c("http_status", INT, "HTTP status of the last attempt (null when no response came)."),
    _c("final_url", S, "Where the last successful read ended after redirects, when elsewhere."),
    _c("error", S, "Why the last attempt failed (DNS, refused, timed out, HTTP 5xx, robots.txt, ...); null when read."),
    _c("failures_in_a_row", INT, "Consecutive crawls on which the page could not be read (0 when last read)."),
    _c("files_found", INT, "File links found on the page the last time it was read."),
    _c("run_id", S, "The crawl run that last asked for the page."),
]

RUNS = [
    _c("run_id", S, "Id of the run.", True),
    _c("flow", S, "crawl | normalise | registers | match | compliance | publish.", True),
    _c("started_at", TS, "Start time.", True),
    _c("finished_at", TS, "End time."),
    _c("requests", INT, "HTTP requests made."),
    _c("bytes_downloaded", INT, "Bytes downloaded."),
    _c("files_new", INT, "Files seen for the first time (crawl) or parsed (normalise)."),
    _c("files_changed", INT, "Files whose content changed."),
    _c("files_unchanged", INT, "Files revalidated unchanged."),
    _c("files_failed", INT, "Files that could not be fetched (crawl) or read as transactions (normalise)."),
    _c("errors", INT, "Errors logged."),
    _c("councils", INT, "Councils the run covered."),
    _c("pages_failed", INT, "Page reads (landing pages, portal calls, lookups) that failed, retries included (crawl)."),
    _c("councils_unreachable", INT, "Councils none of whose entry pages could be read, after retries (crawl)."),
]

SUPPLIERS = [
    _c("council_code", S, "Council paying the supplier.", True),
    _c("supplier_key", S, "Normalised supplier name.", True),
    _c("supplier_name", S, "Most common published form of the name."),
    _c("transactions", INT, "Number of transactions."),
    _c("total_amount", MONEY, "Total amount paid."),
    _c(
        "org_id",
        S,
        "360Giving org-id of the matched organisation (GB-COH-, GB-CHC-, GB-SC-, GB-NIC-, GB-MPR-, GB-LAE-, ...).",
    ),
    _c("org_name", S, "Registered name of the matched organisation."),
    _c(
        "org_type",
        S,
        "company | cic | charity | charitable_company | cio | mutual | public_body | individual_or_redacted | unmatched.",
    ),
    _c("match_method", S, "published_id | exact | fuzzy | override | none."),
    _c("match_score", pa.float64(), "Match score, 0-100 (100 for ids and exact names)."),
    _c(
        "alternatives", S, "Runner-up candidates as JSON [{org_id, org_name, score}], kept where a match was ambiguous."
    ),
    _c(
        "company_number",
        S,
        "Companies House number of the matched body: a company's own, or the company a charity or society is "
        "registered as (kept when the body is reported by its charity or mutuals-register id).",
    ),
    _c(
        "linked_by",
        S,
        "How the matched body's entries on two registers were joined: register (the register publishes the link) | "
        "link_table (a cross-walk loaded with --links) | same_name (one charity and one company of one jurisdiction "
        "with the same name and nothing against it); null when the body is on one register only.",
    ),
    _c(
        "size_band",
        S,
        "micro | small | medium | large | unknown: companies by the accounts they last filed "
        "(Companies House Accounts.AccountCategory), charities by latest annual income (micro < £10k, small < £100k, "
        "medium < £1m, large above); null for public bodies, individuals and unmatched names. See the README.",
    ),
    _c(
        "sector",
        S,
        "vcse (charity, CIO, charitable company, CIC, mutual, co-operative or community benefit society, or a "
        "company limited by guarantee in social, community or cultural activities by its SIC codes) | private | "
        "public (public bodies, and companies in public administration by SIC code) | individual_or_redacted | "
        "unmatched.",
    ),
]

SHARE_GROUPS = ("vcse", "sme", "large", "private_size_unknown", "public", "individual_or_redacted", "unmatched")
_SHARE_MEANINGS = {
    "vcse": "VCSE bodies (sector vcse), whatever their size",
    "sme": "private-sector micro, small and medium organisations (sector private, size_band micro/small/medium)",
    "large": "large private-sector organisations (sector private, size_band large)",
    "private_size_unknown": "private-sector organisations of unknown size",
    "public": "public bodies (sector public)",
    "individual_or_redacted": "individuals and withheld names (redacted rows, sole traders)",
    "unmatched": "names matched to no organisation",
}

SUPPLIER_SHARES = [
    _c(
        "level",
        S,
        "council (one council's payments) | national (every council in the data together: do not add these rows "
        "to the council rows).",
        True,
    ),
    _c("council_code", S, "Council paying; null on national rows."),
    _c(
        "financial_year",
        S,
        "UK local-government financial year of the payment date, April to March, e.g. 2024-25; null for undated rows.",
    ),
    _c("dataset", S, "spend_over_500 | purchase_card | grants.", True),
    _c("transactions", INT, "Transactions counted.", True),
    _c("paid_total", MONEY, "Total paid (signed: credit notes reduce it).", True),
    *[_c(f"paid_{g}", MONEY, f"Paid to {meaning}.", True) for g, meaning in _SHARE_MEANINGS.items()],
    *[
        _c(f"share_{g}", pa.float64(), f"paid_{g} / paid_total (0-1); null when paid_total is not positive.")
        for g in _SHARE_MEANINGS
    ],
]

COMPLIANCE = [
    _c("council_code", S, "Council.", True),
    _c("period", S, "Quarter, e.g. 2025-Q3.", True),
    _c("dataset", S, "Dataset the duty applies to.", True),
    _c("published", B, "Whether any file covering the period was found."),
    _c("first_seen_at", TS, "When councilspend first saw a file covering the period."),
    _c("deadline", D, "Last day the Transparency Code allows (one month after the quarter ends)."),
    _c("on_time", B, "first_seen_at on or before the deadline; null where unknowable (first seen on our first crawl)."),
    _c("months_covered", INT, "Months of the quarter with at least one transaction."),
    _c("machine_readable", B, "Whether the data was published in a machine-readable format."),
    _c("required_fields_missing", pa.list_(S), "Transparency Code fields absent from the published files."),
    _c("rows", INT, "Transactions in the period."),
    _c("total_amount", MONEY, "Total amount in the period."),
    _c(
        "status",
        S,
        "compliant | late | missing | incomplete | not_machine_readable | unknown | site_unreachable (nothing found, "
        "and our last crawl could not read the council's pages) | not_applicable (outside England: no statutory duty).",
        True,
    ),
]

TABLES: dict[str, list[Column]] = {
    "spend": SPEND,
    "contracts": CONTRACTS,
    "rejects": REJECTS,
    "files": FILES,
    "pages": PAGES,
    "runs": RUNS,
    "suppliers": SUPPLIERS,
    "compliance": COMPLIANCE,
    "supplier_shares": SUPPLIER_SHARES,
}

# --- loaded registers (registers/<register>.parquet, _names.parquet, _links.parquet) ----------------

REGISTER_ORGANISATIONS = [
    _c("org_id", S, "360Giving org-id (GB-COH-, GB-CHC-, GB-SC-, GB-NIC-, GB-MPR-, GB-LAE-, ...).", True),
    _c("name", S, "Registered name as the register writes it."),
    _c("register", S, "companies | ccew | oscr | ccni | mutuals | public_bodies: the file it was loaded from.", True),
    _c(
        "org_type",
        S,
        "company | cic | charity | charitable_company | cio | mutual | public_body, as this register says.",
    ),
    _c("status", S, "Status as the register writes it (Active, Registered, Removed, Liquidation, ...)."),
    _c("active", B, "Whether the organisation is live on the register (not removed, dissolved or deregistered)."),
    _c("registered_on", D, "Incorporation or registration date."),
    _c("removed_on", D, "Dissolution, removal or deregistration date, where given."),
    _c("postcode", S, "Registered office or contact postcode."),
    _c("company_number", S, "Companies House number (a company's own, or the one a charity register gives)."),
    _c("charity_number", S, "Charity number on its register (OSCR SC123456, CCNI digits, CCEW digits)."),
    _c(
        "category",
        S,
        "Companies House CompanyCategory, CCEW charity_type, OSCR constitutional form, or FCA society type.",
    ),
    _c("account_category", S, "Companies House Accounts.AccountCategory: the kind of accounts last filed."),
    _c("sic_codes", pa.list_(S), "Companies House SIC 2007 codes (five digits), up to four."),
    _c("latest_income", INT, "Charity's latest annual income in pounds, as the charity register gives it."),
    _c(
        "size_band",
        S,
        "micro | small | medium | large | unknown, from account_category (companies) or latest_income (charities); "
        "null for public bodies. See normalise/registers/classify.py.",
    ),
    _c("size_basis", S, "What size_band was read from: account_category | latest_income; null when unknown."),
    _c("sector", S, "vcse | private | public, from org_type, category and SIC codes."),
]
REGISTER_NAMES_COLUMNS = [
    _c("org_id", S, "The organisation (org-id).", True),
    _c("name", S, "A name it is known by.", True),
    _c("name_type", S, "registered | previous | working (a working or known-as name).", True),
    _c("key", S, "The name's normalised key (normalise.names.supplier_key), what matching looks up."),
]
REGISTER_LINKS = [
    _c("org_id", S, "The organisation the link starts from.", True),
    _c("linked_org_id", S, "The organisation it is linked to.", True),
    _c(
        "relation",
        S,
        "company (org_id is registered as the company linked_org_id) | same_as_mutual (a registered society's "
        "mutuals-register entry) | same_as (one body on two registers) | linked_to (a subsidiary charity's main "
        "charity; not the same body) | other relations a link table names (kept, not merged).",
        True,
    ),
    _c("method", S, "register | link_table | same_name: how the link was made.", True),
    _c(
        "source",
        S,
        "Where the link comes from: the register file's column, the link table's file and source column, or the rule.",
    ),
]
#: Register file suffix -> its columns (``companies.parquet``, ``companies_names.parquet``, ``companies_links.parquet``).
REGISTER_TABLES: dict[str, list[Column]] = {
    "": REGISTER_ORGANISATIONS,
    "_names": REGISTER_NAMES_COLUMNS,
    "_links": REGISTER_LINKS,
}


def register_schema(suffix: str) -> pa.Schema:
    """The pyarrow schema of one kind of register file (``""``, ``"_names"`` or ``"_links"``).

    >>> register_schema("_links").names[:3]
    ['org_id', 'linked_org_id', 'relation']
    """
    return pa.schema([c.field() for c in REGISTER_TABLES[suffix]])


@functools.cache
def arrow_schema(table: str) -> pa.Schema:
    """The pyarrow schema of a published table (built once: schemas are immutable).

    >>> arrow_schema("runs").field("run_id").type
    DataType(string)
    """
    return pa.schema([c.field() for c in TABLES[table]])


#: spend columns worth dictionary-encoding in Parquet: names, codes, dates and provenance recur; row ids and amounts do not
_SPEND_DICTIONARY = [
    "council_code",
    "gss_code",
    "dataset",
    "date_precision",
    "supplier_name",
    "supplier_key",
    "department",
    "service_area",
    "expense_type",
    "purpose",
    "merchant_category",
    "source_sha256",
    "source_url",
    "source_sheet",
    "supplier_id_published",
    "payment_date",
]


def dictionary_columns(table: str) -> list[str] | bool:
    """The columns of ``table`` to dictionary-encode in Parquet (``use_dictionary``): for spend, those that recur;
    else every column. Encoding unique values (row ids) that way only costs time and space.

    >>> "row_id" in dictionary_columns("spend"), dictionary_columns("contracts")
    (False, True)
    """
    return _SPEND_DICTIONARY if table == "spend" else True


def empty_table(table: str) -> pa.Table:
    """A table with the right schema and no rows."""
    return arrow_schema(table).empty_table()


def conform(data: pa.Table, table: str) -> pa.Table:
    """Reorder, add missing (as nulls) and cast columns so ``data`` has exactly the schema of ``table``.

    Extra columns are an error: every published column is declared above.
    """
    if data.schema.equals(arrow_schema(table)):
        return data
    return table_of(dict(zip(data.column_names, data.columns)), len(data), table)


def table_of(columns: Mapping[str, pa.Array | pa.ChunkedArray], rows: int, table: str) -> pa.Table:
    """Columns by name as a table with exactly the schema of ``table``: in its order, missing ones null, others cast.

    >>> table_of({"run_id": pa.array(["r1"])}, 1, "runs").column("run_id").to_pylist()
    ['r1']
    """
    schema = arrow_schema(table)
    extra = [name for name in columns if schema.get_field_index(name) < 0]
    if extra:
        raise ValueError(f"columns not in the {table} schema: {sorted(extra)}")
    arrays = []
    for f in schema:
        column = columns.get(f.name)
        if column is None:
            arrays.append(pa.nulls(rows, f.type))
        else:
            arrays.append(column if column.type == f.type else column.cast(f.type))
    return pa.Table.from_arrays(arrays, schema=schema)
