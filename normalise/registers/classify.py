"""How big an organisation is and which sector it belongs to: the rules, in one place.

**Size band** (``micro | small | medium | large | unknown``). The bulk registers carry no
turnover, balance sheet or staff numbers, so size is read from a proxy, and the proxy differs by
register:

* Companies (Companies House ``Accounts.AccountCategory``: the kind of accounts last filed). The
  Companies Act lets a company file a lighter kind of accounts only below size thresholds, so the
  kind filed bounds its size: ``MICRO ENTITY`` is micro; the small-company regimes (``SMALL``,
  ``TOTAL EXEMPTION SMALL``/``FULL``, ``UNAUDITED ABRIDGED``, ``AUDITED ABRIDGED`` — abridged
  accounts are open to small companies only — and the subsidiary exemptions) are small;
  ``MEDIUM`` is medium; ``FULL`` and ``GROUP`` are **large**, though the category cannot tell a
  medium company filing full accounts from a large one, so the large band over-counts and the
  SME share is a lower bound. ``DORMANT``, ``NO ACCOUNTS FILED``, ``INITIAL``, ``PARTIAL
  EXEMPTION``, ``ACCOUNTS TYPE NOT AVAILABLE`` and anything unrecognised are unknown. The
  accounts are up to two years old, and a group's subsidiaries file small accounts although the
  group is large (``AUDIT EXEMPTION SUBSIDIARY`` says so; it is still banded small).
* Charities (latest annual income on the charity register), NCVO's bands: micro under £10,000,
  small under £100,000, medium under £1 million, large from £1 million (NCVO's "major", over
  £10 million, is included in large). No income reported is unknown. A charity's income is not a
  company's turnover, so a "medium" charity is much smaller than a "medium" company.
* A body on two registers (a charitable company) takes the charity's income band when it has one,
  otherwise the company's accounts band. Mutuals (the FCA register carries no size) and public
  bodies are not banded: unknown and null.

**Sector** (``vcse | private | public``) of a registered organisation: charities, CIOs,
charitable companies, community interest companies and registered societies (co-operatives and
community benefit societies) are VCSE; so is a company limited by guarantee without share capital
whose SIC codes are all in social, community or cultural activities (education, health, social
work, arts, sport, religious and other membership bodies: ``SOCIAL_SIC_PREFIXES``), the usual
shape of a not-for-profit social enterprise. A company whose SIC codes are all public
administration (division 84: often a council-owned company) is public. Every other company is
private. Councils and other public bodies are public. The SIC rules are a proxy: companies choose
their own codes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Accounts.AccountCategory (normalised: upper case, single spaces) -> size band.
ACCOUNT_CATEGORY_BANDS = {
    "MICRO ENTITY": "micro",
    "SMALL": "small",
    "TOTAL EXEMPTION SMALL": "small",
    "TOTAL EXEMPTION FULL": "small",
    "UNAUDITED ABRIDGED": "small",
    "AUDITED ABRIDGED": "small",
    "AUDIT EXEMPTION SUBSIDIARY": "small",
    "FILING EXEMPTION SUBSIDIARY": "small",
    "MEDIUM": "medium",
    "FULL": "large",
    "GROUP": "large",
}
#: NCVO income bands: (upper bound in pounds, exclusive, band); from the last bound up is large.
CHARITY_INCOME_BANDS = ((10_000, "micro"), (100_000, "small"), (1_000_000, "medium"))
#: SIC 2007 code prefixes of social, community and cultural activities.
SOCIAL_SIC_PREFIXES = ("85", "86", "87", "88", "90", "91", "93", "9491", "9499")
PUBLIC_SIC_PREFIXES = ("84",)
VCSE_ORG_TYPES = ("charity", "cio", "charitable_company", "cic", "mutual")
#: CompanyCategory of a company limited by guarantee ("PRI/LTD BY GUAR/NSC ...", "PRI/LBG/NSC ...").
GUARANTEE_CATEGORY = r"(?i)guar|\bLBG\b"

#: The sector an org_type implies where no register says more (charities, public bodies, people).
SECTOR_OF_ORG_TYPE = {
    "company": "private",
    "public_body": "public",
    "individual_or_redacted": "individual_or_redacted",
    "unmatched": "unmatched",
    **dict.fromkeys(VCSE_ORG_TYPES, "vcse"),
}


def account_category_bands(categories: pa.Array) -> pa.Array:
    """The size band the accounts each company last filed imply.

    >>> account_category_bands(pa.array(["MICRO ENTITY", "Total Exemption  Full", "FULL", "DORMANT", None])).to_pylist()
    ['micro', 'small', 'large', 'unknown', 'unknown']
    """
    normal = pc.utf8_trim_whitespace(pc.replace_substring_regex(pc.utf8_upper(categories), r"[^A-Z]+", " "))
    known = pa.array(list(ACCOUNT_CATEGORY_BANDS))
    bands = pc.take(pa.array(list(ACCOUNT_CATEGORY_BANDS.values())), pc.index_in(normal, value_set=known))
    return pc.fill_null(bands, "unknown")


def income_bands(incomes: pa.Array) -> pa.Array:
    """NCVO's band for each charity's annual income in pounds ("major" is included in large).

    >>> income_bands(pa.array([0, 9_999, 10_000, 250_000, 1_000_000, 40_000_000, None])).to_pylist()
    ['micro', 'micro', 'small', 'medium', 'large', 'large', 'unknown']
    """
    bands = pa.array(["large"] * len(incomes), pa.string())
    for bound, band in reversed(CHARITY_INCOME_BANDS):
        bands = pc.if_else(pc.less(incomes, bound), band, bands)
    return pc.if_else(pc.or_kleene(pc.is_null(incomes), pc.less(incomes, 0)), "unknown", bands)


def sic_code_lists(texts: list[pa.Array]) -> pa.Array:
    """Each row's five-digit SIC codes from Companies House ``SICCode.SicText_N`` cells, blanks dropped.

    >>> sic_code_lists([pa.array(["78300 - Human resources", "None Supplied"]), pa.array(["", "99999 - Dormant"])]).to_pylist()
    [['78300'], ['99999']]
    """
    rows = len(texts[0])
    codes = [pc.struct_field(pc.extract_regex(pc.fill_null(t, ""), r"^\s*(?P<code>\d{4,5})\b"), [0]) for t in texts]
    order = (np.arange(rows)[:, None] + np.arange(len(codes))[None, :] * rows).ravel()
    interleaved = pa.concat_arrays(codes).take(pa.array(order))
    present = pc.is_valid(interleaved).to_numpy(zero_copy_only=False)
    offsets = np.concatenate([[0], np.cumsum(present.reshape(rows, len(codes)).sum(axis=1))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), interleaved.filter(pa.array(present)))


def _all_codes_in(codes: pa.Array, prefixes: tuple[str, ...]) -> pa.Array:
    """True where a row has SIC codes and every one starts with one of ``prefixes``."""
    flat = pc.list_flatten(codes)
    hits = pa.array(np.zeros(len(flat), dtype=bool))
    for prefix in prefixes:
        hits = pc.or_(hits, pc.starts_with(flat, prefix))
    misses = np.bincount(
        pc.list_parent_indices(codes).to_numpy(), weights=~hits.to_numpy(zero_copy_only=False), minlength=len(codes)
    )
    return pa.array((misses == 0) & (pc.list_value_length(codes).fill_null(0).to_numpy() > 0))


def company_sectors(org_types: pa.Array, categories: pa.Array, codes: pa.Array) -> pa.Array:
    """vcse, public or private for organisations on the Companies House register.

    >>> guarantee = "PRI/LTD BY GUAR/NSC (Private, limited by guarantee, no share capital)"
    >>> company_sectors(
    ...     pa.array(["company", "company", "company", "cic", "company"]),
    ...     pa.array([guarantee, "Private Limited Company", None, "Community Interest Company", guarantee]),
    ...     pa.array([["88990"], ["88990"], ["84110"], [], ["68320", "88990"]]),
    ... ).to_pylist()
    ['vcse', 'private', 'public', 'vcse', 'private']
    """
    guarantee = pc.fill_null(pc.match_substring_regex(categories, GUARANTEE_CATEGORY), False)
    sectors = pc.if_else(_all_codes_in(codes, PUBLIC_SIC_PREFIXES), "public", "private")
    sectors = pc.if_else(pc.and_(guarantee, _all_codes_in(codes, SOCIAL_SIC_PREFIXES)), "vcse", sectors)
    return pc.if_else(pc.is_in(org_types, pa.array(VCSE_ORG_TYPES)), "vcse", sectors)
