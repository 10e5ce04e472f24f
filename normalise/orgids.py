"""Organisation identifiers: validate and normalise published company and charity numbers.

org-ids follow the 360Giving scheme: ``GB-COH-`` Companies House, ``GB-CHC-`` Charity Commission
for England and Wales, ``GB-SC-`` OSCR, ``GB-NIC-`` Charity Commission for Northern Ireland,
``GB-MPR-`` FCA Mutuals Public Register.
"""

from __future__ import annotations

import re

_COMPANY = re.compile(r"^(?:([A-Z]{2})(\d{1,6})|(\d{1,8})|(IP|SP|NP)(\d{1,5})R|(RS)(\d{1,6}))$")
_CHARITY_TEXT = re.compile(
    r"(?:GB-CHC-|GB-SC-|GB-NIC-|charity\s*(?:reg(?:istration|istered)?\.?)?\s*(?:no|number|num)?\.?\s*[:#]?\s*)?"
    r"\b(SC\s?\d{6}|NIC?\s?\d{5,6}|\d{5,7})(?:-(\d{1,3}))?\b",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"[\s.\-/]")


def company_number(text: str | None) -> str | None:
    """A Companies House number in its 8-character form, or None if ``text`` is not one.

    >>> company_number("Company No. 1234567"), company_number("sc 12345"), company_number("GB-COH-OC301234")
    ('01234567', 'SC012345', 'OC301234')
    >>> company_number("IP30027R"), company_number("n/a"), company_number("0")
    ('IP30027R', None, None)
    """
    if not text:
        return None
    cleaned = re.sub(
        r"(?i)^\s*(GB-COH-|(company|co|reg(istration)?|crn)\.?\s*(no|number|num)?\.?\s*[:#]?)", "", text.strip()
    )
    cleaned = _SEPARATORS.sub("", cleaned).upper()
    match = _COMPANY.match(cleaned)
    if not match:
        return None
    if match.group(3):
        return None if int(match.group(3)) == 0 else match.group(3).zfill(8)
    if match.group(1):
        return match.group(1) + match.group(2).zfill(6)
    if match.group(4):
        return match.group(4) + match.group(5).zfill(5) + "R"
    return match.group(6) + match.group(7).zfill(6)


def charity_org_ids(text: str | None) -> list[str]:
    """Candidate org-ids for a published charity number (a bare number may be CCEW or CCNI).

    >>> charity_org_ids("Charity No. 1234567")
    ['GB-CHC-1234567']
    >>> charity_org_ids("SC012345"), charity_org_ids("GB-NIC-100002")
    (['GB-SC-SC012345'], ['GB-NIC-100002'])
    >>> charity_org_ids("Charity Reg no : 299533"), charity_org_ids("none")
    (['GB-CHC-299533'], [])
    >>> charity_org_ids("105123")
    ['GB-CHC-105123', 'GB-NIC-105123']
    """
    if not text:
        return []
    text = text.strip()
    upper = text.upper()
    match = _CHARITY_TEXT.search(text)
    if not match:
        return []
    number = re.sub(r"\s", "", match.group(1)).upper()
    linked = f"-{int(match.group(2))}" if match.group(2) and int(match.group(2)) else ""
    if number.startswith("SC"):
        return [f"GB-SC-{number}"]
    if number.startswith("NI"):
        return [f"GB-NIC-{number.lstrip('NIC')}"]
    if "GB-NIC-" in upper:
        return [f"GB-NIC-{number}"]
    if "GB-CHC-" in upper or len(number) == 7:
        return [f"GB-CHC-{number}{linked}"]
    ids = [f"GB-CHC-{number}{linked}"]
    if len(number) == 6 and number.startswith("1"):
        ids.append(f"GB-NIC-{number}")
    return ids


def mutual_number_of_society(company: str) -> str | None:
    """The FCA mutuals register number implied by a Companies House registered-society number.

    >>> mutual_number_of_society("IP30027R"), mutual_number_of_society("RS007654"), mutual_number_of_society("01234567")
    ('30027R', '7654', None)
    """
    match = re.match(r"^(?:IP|SP|NP)0*(\d+)R$|^RS0*(\d+)$", company)
    if not match:
        return None
    return f"{match.group(1)}R" if match.group(1) else match.group(2)
