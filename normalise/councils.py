"""The registry of current UK councils.

Package data taken from mySociety's list of UK local authorities
(CC-BY-4.0, https://github.com/mysociety/uk_local_authority_names_and_codes).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Council:
    """One council: mySociety code, GSS code, names, nation and type."""

    code: str
    gss_code: str
    official_name: str
    nice_name: str
    nation: str
    region: str
    type: str
    type_name: str
    slug: str

    @property
    def in_england(self) -> bool:
        """Whether the Local Government Transparency Code 2015 applies."""
        return self.nation == "England"


@cache
def councils() -> dict[str, Council]:
    """Every current council by its three-letter code.

    >>> councils()["BIR"].nice_name
    'Birmingham'
    """
    text = resources.files("normalise").joinpath("data/councils.csv").read_text(encoding="utf-8")
    return {row["code"]: Council(**row) for row in csv.DictReader(text.splitlines())}


def council(code: str) -> Council:
    """The council with this code; a clear error for an unknown one."""
    try:
        return councils()[code.upper()]
    except KeyError:
        raise KeyError(f"unknown council code {code!r} (see normalise/data/councils.csv)") from None
