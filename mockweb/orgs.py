"""Organisations of the mock economy: the truth the register files and the answer key are written from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Organisation:
    """One real-world organisation in the mock economy.

    ``org_id`` is the 360Giving org-id councilspend should match it to (the primary
    registration: GB-CHC- for a charitable company registered with both, GB-COH- for a
    plain company). ``register`` names the bulk file it is written to first; an organisation
    with a ``company_number`` is written to Companies House too (as ``company_name`` where its
    name there differs), and its charity register gives that number only when
    ``company_link_published``.

    Size and sector: ``account_category`` and ``sic_codes`` are what Companies House shows,
    ``income`` what the charity register shows (None: drawn by the writer, or no return yet for
    ``size_band`` unknown); ``size_band`` and ``sector`` are the truth a perfect reading gives.
    """

    org_id: str
    name: str
    org_type: str  # company | cic | charity | charitable_company | cio | mutual | public_body
    register: str  # companies | ccew | oscr | ccni | mutuals | councils
    company_number: str | None = None
    charity_number: str | None = None  # CCEW number, OSCR "SC123456", or CCNI "NIC100123"
    mutual_number: str | None = None
    category: str | None = None  # CompanyCategory for companies, charity_type for charities
    status: str = "active"
    registered_on: date | None = None
    postcode: str | None = None
    previous_names: tuple[str, ...] = ()
    other_names: tuple[str, ...] = ()
    company_name: str | None = None
    company_link_published: bool = True
    account_category: str | None = None
    sic_codes: tuple[str, ...] = ()
    income: int | None = None
    size_band: str | None = None
    sector: str | None = None
    extra: dict = field(default_factory=dict, hash=False, compare=False)
