"""One loader per register: bulk-file batches in, organisations, names and links out."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from normalise.councils import councils
from normalise.orgids import company_number, mutual_number_of_society
from normalise.registers.classify import account_category_bands, company_sectors, income_bands, sic_code_lists
from normalise.registers.files import RegisterFileError, Table
from normalise.registers.tables import RegisterWriter, blank_to_null, names_batch, parse_dates

Progress = Callable[[int], None]
DMY = "%d/%m/%Y"


def _prefixed(prefix: str, values: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(pa.scalar(prefix), values, "")


def _numbers(values: pa.Array, normalise: Callable[[str], str | None]) -> pa.Array:
    return pa.array([normalise(v) if v else None for v in values.to_pylist()], pa.string())


def _when(condition: pa.Array, yes: str, no: pa.Array | str) -> pa.Array:
    return pc.if_else(pc.fill_null(condition, False), pa.scalar(yes), no)


def _pounds(values: pa.Array) -> pa.Array:
    """Whole pounds from amounts like '12345', '12,345.67' or '£1,000'; null where blank or unreadable."""
    text = pc.replace_substring_regex(pc.fill_null(values, ""), r"[£,\s]", "")
    readable = pc.match_substring_regex(text, r"^-?\d+(\.\d+)?$")
    numbers = pc.cast(pc.if_else(readable, text, pa.scalar(None, pa.string())), pa.float64())
    return pc.cast(pc.round(numbers), pa.int64())


def _charity_size(incomes: pa.Array) -> dict[str, pa.Array]:
    """latest_income, size_band, size_basis and sector columns of charities with these incomes."""
    bands = income_bands(incomes)
    return {
        "latest_income": incomes,
        "size_band": bands,
        "size_basis": pc.if_else(pc.is_valid(incomes), "latest_income", pa.scalar(None, pa.string())),
        "sector": pa.array(["vcse"] * len(incomes)),
    }


def load_companies(table: Table, writer: RegisterWriter, progress: Progress) -> None:
    """Companies House BasicCompanyData (one file of the set)."""
    previous = [f"PreviousName_{n}.CompanyName" for n in range(1, 11)]
    sic = [f"SICCode.SicText_{n}" for n in range(1, 5)]
    for batch in table.batches(
        ["CompanyName", "CompanyNumber", "CompanyCategory", "CompanyStatus"],
        ["IncorporationDate", "DissolutionDate", "RegAddress.PostCode", "Accounts.AccountCategory", *sic, *previous],
    ):
        numbers = _numbers(batch["CompanyNumber"], company_number)
        valid = pc.is_valid(numbers)
        batch = batch.filter(valid)
        numbers = numbers.filter(valid)
        org_ids = _prefixed("GB-COH-", numbers)
        category = blank_to_null(batch["CompanyCategory"])
        status = blank_to_null(batch["CompanyStatus"])
        org_type = _when(
            pc.equal(category, "Community Interest Company"),
            "cic",
            _when(pc.equal(category, "Registered Society"), "mutual", pa.scalar("company")),
        )
        accounts = blank_to_null(batch["Accounts.AccountCategory"])
        codes = sic_code_lists([batch[col] for col in sic])
        bands = account_category_bands(accounts)
        writer.organisations(
            {
                "org_id": org_ids,
                "name": blank_to_null(batch["CompanyName"]),
                "register": pa.array(["companies"] * batch.num_rows),
                "org_type": org_type,
                "status": status,
                "active": pc.starts_with(pc.fill_null(status, ""), "Active"),
                "registered_on": parse_dates(batch["IncorporationDate"], DMY),
                "removed_on": parse_dates(batch["DissolutionDate"], DMY),
                "postcode": blank_to_null(batch["RegAddress.PostCode"]),
                "company_number": numbers,
                "category": category,
                "account_category": accounts,
                "sic_codes": codes,
                "size_band": bands,
                "size_basis": pc.if_else(pc.equal(bands, "unknown"), pa.scalar(None, pa.string()), "account_category"),
                "sector": company_sectors(org_type, category, codes),
            }
        )
        writer.names(
            [names_batch(org_ids, batch["CompanyName"], "registered")]
            + [names_batch(org_ids, batch[col], "previous") for col in previous]
        )
        societies = _numbers(numbers, mutual_number_of_society)
        writer.links(
            org_ids,
            pc.if_else(pc.is_valid(societies), _prefixed("GB-MPR-", societies), societies),
            "same_as_mutual",
            "a Registered Society's CompanyNumber",
        )
        progress(batch.num_rows)


def _charity_ids(prefix: str, numbers: pa.Array, linked: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(org_id, main charity org_id) from register and linked/sub numbers ('0' for a main charity)."""
    main = _prefixed(prefix, numbers)
    linked = pc.fill_null(blank_to_null(linked), "0")
    is_sub = pc.not_equal(linked, "0")
    org_ids = pc.if_else(is_sub, pc.binary_join_element_wise(main, linked, "-"), main)
    return org_ids, pc.if_else(is_sub, main, pa.scalar(None, pa.string()))


def _charity_type(is_cio: pa.Array, company: pa.Array) -> pa.Array:
    return _when(is_cio, "cio", _when(pc.is_valid(company), "charitable_company", pa.scalar("charity")))


def load_ccew(table: Table, writer: RegisterWriter, progress: Progress) -> None:
    """Charity Commission (England and Wales) public extract: the charity or the other-names table."""
    if table.has("charity_name_type"):
        for batch in table.batches(
            ["registered_charity_number", "linked_charity_number", "charity_name_type", "charity_name"]
        ):
            org_ids, _ = _charity_ids(
                "GB-CHC-", pc.utf8_trim_whitespace(batch["registered_charity_number"]), batch["linked_charity_number"]
            )
            kinds = pc.utf8_lower(pc.utf8_trim_whitespace(batch["charity_name_type"]))
            is_previous = pc.match_substring(kinds, "previous")
            writer.names(
                [
                    names_batch(org_ids.filter(is_previous), batch["charity_name"].filter(is_previous), "previous"),
                    names_batch(
                        org_ids.filter(pc.invert(is_previous)),
                        batch["charity_name"].filter(pc.invert(is_previous)),
                        "working",
                    ),
                ]
            )
            progress(batch.num_rows)
        return
    for batch in table.batches(
        ["registered_charity_number", "linked_charity_number", "charity_name", "charity_registration_status"],
        [
            "charity_type",
            "date_of_registration",
            "date_of_removal",
            "charity_contact_postcode",
            "charity_company_registration_number",
            "charity_is_cio",
            "latest_income",
        ],
    ):
        numbers = pc.utf8_trim_whitespace(batch["registered_charity_number"])
        org_ids, main = _charity_ids("GB-CHC-", numbers, batch["linked_charity_number"])
        company = _numbers(batch["charity_company_registration_number"], company_number)
        status = blank_to_null(batch["charity_registration_status"])
        is_cio = pc.equal(pc.utf8_lower(pc.fill_null(batch["charity_is_cio"], "")), "true")
        writer.organisations(
            {
                "org_id": org_ids,
                "name": blank_to_null(batch["charity_name"]),
                "register": pa.array(["ccew"] * batch.num_rows),
                "org_type": _charity_type(is_cio, company),
                "status": status,
                "active": pc.equal(pc.fill_null(status, ""), "Registered"),
                "registered_on": _ccew_dates(batch["date_of_registration"]),
                "removed_on": _ccew_dates(batch["date_of_removal"]),
                "postcode": blank_to_null(batch["charity_contact_postcode"]),
                "company_number": company,
                "charity_number": numbers,
                "category": blank_to_null(batch["charity_type"]),
                **_charity_size(_pounds(batch["latest_income"])),
            }
        )
        writer.names([names_batch(org_ids, batch["charity_name"], "registered")])
        writer.links(org_ids, _prefixed("GB-COH-", company), "company", "charity_company_registration_number")
        writer.links(org_ids, main, "linked_to", "linked_charity_number")
        progress(batch.num_rows)


def _ccew_dates(values: pa.Array) -> pa.Array:
    """CCEW dates look like '2026-09-20 00:00:00.0000000': the first ten characters are the date."""
    return parse_dates(pc.utf8_slice_codeunits(values, 0, 10), "%Y-%m-%d")


#: Company-number columns an OSCR export may carry (none of the known layouts does; read where present).
OSCR_COMPANY_COLUMNS = ("Company Number", "Company number", "Companies House Number")


def load_oscr(table: Table, writer: RegisterWriter, progress: Progress) -> None:
    """OSCR charity register export: current charities, or removed ones (with 'Ceased Date')."""
    removed = table.has("Ceased Date")
    for batch in table.batches(
        ["Charity Number", "Charity Name"],
        [
            "Registered Date",
            "Known As",
            "Charity Status",
            "Postcode",
            "Constitutional Form",
            "Ceased Date",
            "Previous Names",
            "Most recent year income",
            *OSCR_COMPANY_COLUMNS,
        ],
    ):
        numbers = pc.utf8_upper(pc.utf8_trim_whitespace(batch["Charity Number"]))
        org_ids = _prefixed("GB-SC-", numbers)
        form = blank_to_null(batch["Constitutional Form"])
        form_lower = pc.utf8_lower(pc.fill_null(form, ""))
        org_type = _when(
            pc.equal(form_lower, "scio"),
            "cio",
            _when(pc.match_substring(form_lower, "company"), "charitable_company", pa.scalar("charity")),
        )
        status = pc.fill_null(blank_to_null(batch["Charity Status"]), "Removed" if removed else "Active")
        company = pc.coalesce(*(_numbers(batch[c], company_number) for c in OSCR_COMPANY_COLUMNS))
        writer.organisations(
            {
                "org_id": org_ids,
                "name": blank_to_null(batch["Charity Name"]),
                "register": pa.array(["oscr"] * batch.num_rows),
                "org_type": org_type,
                "status": pa.array(["Removed"] * batch.num_rows) if removed else status,
                "active": pa.array([not removed] * batch.num_rows),
                "registered_on": parse_dates(batch["Registered Date"], DMY, "%Y-%m-%d"),
                "removed_on": parse_dates(batch["Ceased Date"], DMY, "%Y-%m-%d"),
                "postcode": blank_to_null(batch["Postcode"]),
                "company_number": company,
                "charity_number": numbers,
                "category": form,
                **_charity_size(_pounds(batch["Most recent year income"])),
            }
        )
        writer.links(org_ids, _prefixed("GB-COH-", company), "company", "company number column")
        split = pc.split_pattern(pc.fill_null(batch["Previous Names"], ""), "; ")
        previous, previous_ids = pc.list_flatten(split), pc.take(org_ids, pc.list_parent_indices(split))
        writer.names(
            [
                names_batch(org_ids, batch["Charity Name"], "registered"),
                names_batch(org_ids, batch["Known As"], "working"),
                names_batch(previous_ids, previous, "previous"),
            ]
        )
        progress(batch.num_rows)


def load_ccni(table: Table, writer: RegisterWriter, progress: Progress) -> None:
    """Charity Commission for Northern Ireland register export."""
    for batch in table.batches(
        ["Reg charity number", "Charity name"],
        ["Sub charity number", "Date registered", "Status", "Company number", "Public address", "Total income"],
    ):
        numbers = pc.utf8_trim_whitespace(batch["Reg charity number"])
        keep = pc.match_substring_regex(numbers, r"^(NIC)?\d+$")
        batch, numbers = batch.filter(keep), numbers.filter(keep)
        numbers = pc.replace_substring(numbers, "NIC", "")
        org_ids, main = _charity_ids("GB-NIC-", numbers, batch["Sub charity number"])
        company = _numbers(batch["Company number"], _ccni_company)
        status = blank_to_null(batch["Status"])
        writer.organisations(
            {
                "org_id": org_ids,
                "name": blank_to_null(batch["Charity name"]),
                "register": pa.array(["ccni"] * batch.num_rows),
                "org_type": _charity_type(pa.array([False] * batch.num_rows), company),
                "status": status,
                "active": pc.invert(pc.match_substring(pc.utf8_lower(pc.fill_null(status, "")), "removed")),
                "registered_on": parse_dates(batch["Date registered"], DMY, "%d %B %Y"),
                "postcode": pc.utf8_trim_whitespace(
                    pc.extract_regex(
                        pc.fill_null(batch["Public address"], ""), r"(?P<postcode>BT\d{1,2}\s*\d[A-Z]{2})\s*$"
                    ).field("postcode")
                ),
                "company_number": company,
                "charity_number": numbers,
                **_charity_size(_ccni_income(batch["Total income"], status)),
            }
        )
        writer.names([names_batch(org_ids, batch["Charity name"], "registered")])
        writer.links(org_ids, _prefixed("GB-COH-", company), "company", "Company number")
        writer.links(org_ids, main, "linked_to", "Sub charity number")
        progress(batch.num_rows)


def _ccni_income(incomes: pa.Array, status: pa.Array) -> pa.Array:
    """CCNI writes 0 for charities with no return yet (recently registered, in default): income unknown."""
    pounds = _pounds(incomes)
    reported = pc.is_in(
        pc.utf8_lower(pc.fill_null(status, "")), pa.array(["up-to-date", "due documents received late"])
    )
    return pc.if_else(pc.or_(reported, pc.fill_null(pc.greater(pounds, 0), False)), pounds, pa.scalar(None, pa.int64()))


def _ccni_company(text: str) -> str | None:
    """CCNI company numbers: 'NI012345', bare digits (Northern Ireland numbers) or 0 for none."""
    digits = text.strip().upper()
    if digits.isdigit():
        return None if int(digits) == 0 else company_number(f"NI{digits}")
    return company_number(digits)


def load_mutuals(table: Table, writer: RegisterWriter, progress: Progress) -> None:
    """FCA Mutuals Public Register export (layout assumed: see mockweb/registers.py)."""
    for batch in table.batches(
        ["Society Name", "Registration Number"],
        ["Registered As", "Status", "Registration Date", "Deregistration Date", "Postcode"],
    ):
        numbers = pc.utf8_upper(pc.utf8_trim_whitespace(batch["Registration Number"]))
        org_ids = _prefixed("GB-MPR-", numbers)
        status = blank_to_null(batch["Status"])
        writer.organisations(
            {
                "org_id": org_ids,
                "name": blank_to_null(batch["Society Name"]),
                "register": pa.array(["mutuals"] * batch.num_rows),
                "org_type": pa.array(["mutual"] * batch.num_rows),
                "status": status,
                "active": pc.invert(pc.match_substring(pc.utf8_lower(pc.fill_null(status, "")), "dereg")),
                "registered_on": parse_dates(batch["Registration Date"], DMY, "%Y-%m-%d"),
                "removed_on": parse_dates(batch["Deregistration Date"], DMY, "%Y-%m-%d"),
                "postcode": blank_to_null(batch["Postcode"]),
                "category": blank_to_null(batch["Registered As"]),
                "size_band": pa.array(["unknown"] * batch.num_rows),
                "sector": pa.array(["vcse"] * batch.num_rows),
            }
        )
        writer.names([names_batch(org_ids, batch["Society Name"], "registered")])
        progress(batch.num_rows)


COUNCIL_SCHEMES = {"England": "GB-LAE-", "Scotland": "GB-LAS-", "Wales": "GB-LAW-", "Northern Ireland": "GB-LANI-"}


def load_public_bodies(writer: RegisterWriter) -> None:
    """UK councils from the council registry, as public bodies (official and everyday names)."""
    rows = [c for c in councils().values() if c.nation in COUNCIL_SCHEMES]
    org_ids = pa.array([COUNCIL_SCHEMES[c.nation] + c.code for c in rows])
    writer.organisations(
        {
            "org_id": org_ids,
            "name": pa.array([c.official_name for c in rows]),
            "register": pa.array(["public_bodies"] * len(rows)),
            "org_type": pa.array(["public_body"] * len(rows)),
            "status": pa.array(["Active"] * len(rows)),
            "active": pa.array([True] * len(rows)),
            "category": pa.array([c.type_name for c in rows]),
            "sector": pa.array(["public"] * len(rows)),
        }
    )
    writer.names(
        [
            names_batch(org_ids, pa.array([c.official_name for c in rows]), "registered"),
            names_batch(org_ids, pa.array([f"{c.nice_name} Council" for c in rows]), "working"),
        ]
    )


LOADERS = {
    "companies": load_companies,
    "ccew": load_ccew,
    "oscr": load_oscr,
    "ccni": load_ccni,
    "mutuals": load_mutuals,
}
# Columns that identify each register's files (so a wrong file is named, not misread).
SIGNATURES = {
    "companies": ("CompanyName", "CompanyNumber"),
    "ccew": ("registered_charity_number", "charity_name"),
    "oscr": ("Charity Number", "Charity Name"),
    "ccni": ("Reg charity number", "Charity name"),
    "mutuals": ("Society Name", "Registration Number"),
}


def check_signature(table: Table, register: str) -> None:
    """Raise if ``table`` does not look like a file of ``register``."""
    if not table.has(*SIGNATURES[register]):
        raise RegisterFileError(
            f"{table.label}: not a {register} register file (expected columns {list(SIGNATURES[register])}, "
            f"found {list(table.columns)[:8]}...)"
        )
