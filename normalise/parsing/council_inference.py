"""Which council published a file, from its body/organisation column or its title rows."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

from normalise.councils import councils

_GSS = re.compile(r"\b([EWSN]\d{8})\b")
_TYPE_WORDS = re.compile(
    r"\b(the|council|borough|city|county|district|metropolitan|mdc|mbc|bc|cc|dc|of|london|royal|and)\b"
)


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.casefold()).split())


@cache
def _indexes() -> tuple[dict[str, str], dict[str, str], dict[str, str], list[tuple[str, str]]]:
    by_gss, by_slug, by_name, phrases = {}, {}, {}, []
    for code, c in councils().items():
        by_gss[c.gss_code] = code
        by_slug[c.slug] = code
        for name in (c.official_name, c.nice_name):
            by_name[_plain(name)] = code
            by_name[" ".join(_TYPE_WORDS.sub(" ", _plain(name)).split())] = code
        phrases += [(_plain(c.official_name), code), (_plain(c.nice_name) + " council", code)]
    phrases.sort(key=lambda p: -len(p[0]))
    return by_gss, by_slug, by_name, phrases


def council_from_value(value: str) -> str | None:
    """The council a body/organisation cell names (GSS code, opendatacommunities URI or name).

    >>> council_from_value("E08000036"), council_from_value("Http://opendatacommunities.org/id/metropolitan-district-council/leeds")
    ('WKF', 'LDS')
    >>> council_from_value("Trafford Council"), council_from_value("Devon County Council"), council_from_value("Nowhere")
    ('TRF', 'DEV', None)
    """
    by_gss, by_slug, by_name, _ = _indexes()
    if (m := _GSS.search(value)) and m[1] in by_gss:
        return by_gss[m[1]]
    if "/" in value:
        slug = value.rstrip("/").rsplit("/", 1)[-1].lower()
        return by_slug.get(slug)
    plain = _plain(value)
    return by_name.get(plain) or by_name.get(" ".join(_TYPE_WORDS.sub(" ", plain).split()) or "-")


def council_from_title(text: str) -> str | None:
    """The council named in a title row such as 'Newcastle City Council Invoices over £500'.

    >>> council_from_title("Wakefield Council Supplier Spend Greater Than £500"), council_from_title("Report")
    ('WKF', None)
    """
    plain = f" {_plain(text)} "
    for phrase, code in _indexes()[3]:
        if f" {phrase} " in plain:
            return code
    return None


def infer_council(body_values: list[str], titles: list[str]) -> str | None:
    """The most common council named by the body column, else by the title rows."""
    found = Counter(c for v in body_values if v.strip() and (c := council_from_value(v.strip())))
    if found:
        return found.most_common(1)[0][0]
    for title in titles:
        if title.strip() and (code := council_from_title(title)):
            return code
    return None
