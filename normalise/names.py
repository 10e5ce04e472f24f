"""Normalised supplier names: the key spend rows are grouped and matched by."""

from __future__ import annotations

import re
import unicodedata

_LEGAL_SUFFIXES = re.compile(
    r"\b(limited|ltd|plc|llp|lp|cic|c\.i\.c|co|company|incorporated|inc)\b\.?$"
)
_NON_WORD = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


def supplier_key(name: str | None) -> str | None:
    """A stable grouping key for a published supplier name.

    Case, accents, punctuation, '&'/'and', a leading 'the' and trailing legal
    suffixes (Ltd, Limited, PLC, LLP, CIC) do not change the key.

    >>> supplier_key("The Acme & Sons Ltd.")
    'acme and sons'
    >>> supplier_key("ACME AND SONS LIMITED")
    'acme and sons'
    >>> supplier_key("  ") is None
    True
    """
    if name is None:
        return None
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").casefold()
    text = text.replace("&", " and ")
    text = _SPACES.sub(" ", _NON_WORD.sub(" ", text)).strip()
    text = re.sub(r"^the ", "", text)
    while True:
        stripped = _LEGAL_SUFFIXES.sub("", text).strip()
        if stripped == text or not stripped:
            break
        text = stripped
    return text or None
