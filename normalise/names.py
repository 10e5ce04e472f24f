"""Normalised supplier names: the key spend rows are grouped and matched by."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from rapidfuzz.distance import OSA

# Words that say what legal form a body has, not which body it is (dropped at the end of a name).
_LEGAL_SUFFIXES = frozenset(
    [
        "limited",
        "ltd",
        "plc",
        "llp",
        "lp",
        "cic",
        "cio",
        "co",
        "company",
        "incorporated",
        "inc",
        "corporation",
        "corp",
        "unlimited",
        "ulc",
        "lc",
    ]
)
_TRAILING_PHRASES = (("community", "interest", "company"), ("and", "co"), ("and", "company"))
# Common abbreviations in finance-system names, spelt out.
_ABBREVIATIONS = {
    "svcs": "services",
    "servs": "services",
    "svc": "service",
    "assoc": "association",
    "assn": "association",
    "intl": "international",
    "mgmt": "management",
    "bros": "brothers",
    "dept": "department",
    "center": "centre",
    "grp": "group",
    "hldgs": "holdings",
}
_DROPPED = re.compile(r"['\u2019.`]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_TRADING_AS = re.compile(r"\s+(?:t/as?|t\.a\.?|trading\s+as|tradingas)\s+", re.IGNORECASE)


def _ascii_fold(name: str) -> str:
    if name.isascii():
        return name.lower()
    return unicodedata.normalize("NFKD", name.casefold()).encode("ascii", "ignore").decode("ascii")


def key_tokens(name: str | None) -> list[str]:
    """The words of a name's key (see ``supplier_key``).

    >>> key_tokens("St. John's Ambulance Svcs (UK) Ltd")
    ['st', 'johns', 'ambulance', 'services', 'uk']
    """
    if not name:
        return []
    text = _DROPPED.sub("", _ascii_fold(name).replace("&", " and ").replace("+", " and "))
    tokens = [_ABBREVIATIONS.get(t, t) for t in _NON_WORD.split(text) if t]
    if len(tokens) > 1 and tokens[0] == "the":
        del tokens[0]
    while len(tokens) > 1:
        for phrase in _TRAILING_PHRASES:
            if len(tokens) > len(phrase) and tuple(tokens[-len(phrase) :]) == phrase:
                del tokens[-len(phrase) :]
                break
        else:
            if tokens[-1] in _LEGAL_SUFFIXES or tokens[-1] == "the":
                tokens.pop()
                continue
            break
    return tokens


def supplier_key(name: str | None) -> str | None:
    """A stable grouping key for a published supplier name.

    Case, accents, punctuation, apostrophes, '&'/'and', a leading 'the', common abbreviations and
    trailing legal forms (Ltd, Limited, PLC, LLP, CIC, Community Interest Company, & Co) do not
    change the key.

    >>> supplier_key("The Acme & Sons Ltd.")
    'acme and sons'
    >>> supplier_key("ACME AND SONS LIMITED")
    'acme and sons'
    >>> supplier_key("Fírinne Community Interest Company")
    'firinne'
    >>> supplier_key("A.B.C. Cleaning C.I.C.")
    'abc cleaning'
    >>> supplier_key("  ") is None
    True
    """
    tokens = key_tokens(name)
    return " ".join(tokens) if tokens else None


def supplier_keys(names: Iterable[str | None]) -> list[str | None]:
    """``supplier_key`` of each name, in order.

    >>> supplier_keys(["Acme Ltd", None])
    ['acme', None]
    """
    return [supplier_key(n) for n in names]


_CUT_TRADING_AS = re.compile(r"(?i)(?:\s+t/a?|(?<=\b(?:ltd|plc|llp|cic))\.?\s+t|(?<=\blimited)\s+t)\s*$")
_PERSON = re.compile(
    r"(?i)^(?:(?:mr|mrs|ms|miss|dr)\.?\s+)?(?:[a-z]\.?\s+){1,2}[a-z][a-z'-]+$|^(?:mr|mrs|ms|miss|dr)\.?\s+\S+(?:\s+\S+)?$"
)


def trading_name_parts(name: str) -> list[str]:
    """The names inside 'X T/A Y' (trading as), the legal name first; ``[name]`` otherwise.

    A 'T/A' cut short by a finance system's field length is dropped.

    >>> trading_name_parts("J Smith t/a Smith Plumbing")
    ['J Smith', 'Smith Plumbing']
    >>> trading_name_parts("Acme Ltd"), trading_name_parts("ACME CARE UK LTD T/"), trading_name_parts("ACME LIMITED T")
    (['Acme Ltd'], ['ACME CARE UK LTD'], ['ACME LIMITED'])
    """
    name = _CUT_TRADING_AS.sub("", name)
    parts = [p.strip() for p in _TRADING_AS.split(name) if p.strip()]
    return parts or [name]


def is_person_trading(name: str) -> bool:
    """Whether a name is a person trading under another name ('S Dawson T/A Dawsons Highways').

    >>> is_person_trading("S Dawson T/A Dawsons Highways"), is_person_trading("Acme Ltd T/A Acme Cars")
    (True, False)
    """
    parts = trading_name_parts(name)
    return len(parts) > 1 and bool(_PERSON.match(parts[0]))


_PUBLIC_BODY = re.compile(
    r"(?i)\bnhs\b|\bfoundation trust\b|integrated care board|\bpolice\b|fire (?:and|&) rescue|"
    r"\bhm revenue\b|\bhmrc\b|\bdepartment for\b|\bministry of\b|\bcouncil\b"
)


def looks_public_body(name: str) -> bool:
    """Whether a name is plainly a public body (NHS, police, fire, government, a council).

    >>> looks_public_body("Quarry Teaching Hospitals NHS Foundation Trust"), looks_public_body("Acme Ltd")
    (True, False)
    """
    return bool(_PUBLIC_BODY.search(name))


def drop_misspelt_legal_suffix(key: str) -> str:
    """A key whose last word is a one-letter misspelling of a legal form, without that word.

    >>> drop_misspelt_legal_suffix("acme widgets limitsd"), drop_misspelt_legal_suffix("acme limits")
    ('acme widgets', 'acme limits')
    """
    head, _, last = key.rpartition(" ")
    if head and (
        last in ("tld", "ldt", "lt", "ltdd")
        or len(last) >= 6
        and any(_one_edit(last, word) for word in ("limited", "company", "incorporated"))
    ):
        return head
    return key


def compact_key(name: str | None) -> str | None:
    """The key with every space removed and a legal form stuck to the last word dropped.

    Catches spaces moved by typing: 'Dale Surveyin Gplc' and 'Dale Surveying PLC' agree.

    >>> compact_key("Dale Surveyin Gplc"), compact_key("Eden Catering U Kltd"), compact_key("Dale Surveying PLC")
    ('dalesurveying', 'edencateringuk', 'dalesurveying')
    """
    key = supplier_key(name)
    if not key:
        return None
    compact = key.replace(" ", "")
    for suffix in _COMPACT_SUFFIXES:
        if compact.endswith(suffix) and len(compact) > len(suffix) + 3:
            return compact[: -len(suffix)]
    return compact


_COMPACT_SUFFIXES = ("limited", "ltd", "plc", "llp", "cic")


def _one_edit(a: str, b: str) -> bool:
    """Whether two words are one substitution, insertion, deletion or swap of neighbours apart."""
    return OSA.distance(a, b, score_cutoff=1) == 1


_TRUNCATED_SUFFIXES = ("limited", "company", "community interest company", "incorporated")


def truncation_stem(key: str) -> str:
    """A key with a trailing, cut-short legal word removed: the part a register name must begin with.

    >>> truncation_stem("alliance disposables limi")
    'alliance disposables'
    >>> truncation_stem("alliance dispos")
    'alliance dispos'
    """
    head, _, last = key.rpartition(" ")
    if head and any(s.startswith(last) and s != last for s in _TRUNCATED_SUFFIXES):
        return head
    return key
