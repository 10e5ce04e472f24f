"""Recognise beneficiaries withheld by the council, across the many labels councils use."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

#: Whole-label patterns (case-insensitive, after trimming). Word boundaries keep
#: real firms such as 'REDACTIVE EVENTS' or 'Personal Data Solutions Ltd' out.
REDACTION_PATTERN = (
    r"(?i)^[\s*(\[]*("
    r"redacted\b.*"
    r"|.*\bredacted[\s)\]*.]*"
    r"|(details |name |data )?(withheld|removed|suppressed)\b.*"
    r"|personal (data|information|details)( redacted| withheld| removed)?"
    r"|(redacted |withheld )?(under )?(the )?(dp|gdpr|data protection)( act)?( 1998| 2018)?"
    r"|third party supplier|private individual|individual|private|not disclosed|undisclosed"
    r"|commercially (sensitive|confidential)|commercial(ly)? in confidence|confidential"
    r"|sensitive (data|payment|supplier)|anonymi[sz]ed( supplier)?"
    r")[\s)\]*.]*$"
)
_COMPILED = re.compile(REDACTION_PATTERN.replace("(?i)", ""), re.IGNORECASE)


def is_redacted(name: str | None) -> bool:
    """Whether a published supplier name is a redaction label.

    >>> [is_redacted(n) for n in ["REDACTED PERSONAL DATA", "Redacted - Personal Data", "REDACTED UNDER DP ACT",
    ...                           "THIRD PARTY SUPPLIER", "DETAILS REDACTED", "Redacted", "Personal Data"]]
    [True, True, True, True, True, True, True]
    >>> [is_redacted(n) for n in ["REDACTIVE EVENTS", "Personal Data Solutions Ltd", "Private Healthcare Ltd", None]]
    [False, False, False, False]
    """
    return bool(name and _COMPILED.match(name.strip()))


def redacted_mask(names: pa.Array) -> pa.Array:
    """``is_redacted`` for a whole column, vectorised; null names are not redactions."""
    return pc.fill_null(pc.match_substring_regex(names, REDACTION_PATTERN), False)
