"""Which source column is which canonical field, from its header and its values together.

Every column is a candidate for every field its header may name (``vocabulary.readings``) and is
scored by how well its values fit that field's kind: amounts, dates, names, codes or flags. A
known header over the wrong values is not trusted (a 'Date' column of 'VARIOUS' is no date), and an
unknown header over a column of dates or of pounds and pence is still the date or the amount.
Candidates are then taken best first, each column and each field used once; per-council overrides
win over everything.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from normalise.parsing.values import NOT_APPLICABLE, parse_date
from normalise.parsing.vocabulary import KINDS, TEXT_FIELDS, normalise_header, readings

#: sample rows whose values are profiled
PROFILE_ROWS = 100
#: a header-named money, date or name column whose values fit less than this is not trusted
TRUST = {"money": 0.5, "date": 0.5, "name": 0.3, "code": 0.5}
#: scores of candidates found by their values alone (no header reading)
VALUE_ONLY = {"date": 0.5, "money": 0.4}
_FLAGS = {"yes", "no", "y", "n", "true", "false", "sme", "vcse", "non-sme", "non sme", "not sme", "x"}
_DECIMALS = re.compile(r"(^|[^\d])\d+\.\d{1,2}\s*-?\)?$|£")
_LONG_INTEGER = re.compile(r"^\d{7,}$")
_LETTERS = re.compile(r"[^\W\d_]")
#: what ``values.parse_amounts`` accepts, near enough for evidence: signs, brackets, £, thousands, CR
_MONEY = re.compile(
    r"^(?=.*\d)\(?[-+]?\s*(?:£|GBP|\$|€)?\s*[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d{1,2})?\s*\)?-?\s*(?:CR)?$",
    re.I,
)
#: shapes a date can take (two separators between digits, a month name beside a number, an Excel serial)
_DATE_LIKE = re.compile(
    r"\d[-/. ]\d{1,2}[-/. ]\d|\d[-/. ]*[^\W\d_]{3}|[^\W\d_]{3}[-/ .,']*\d{2}|^\d{5}(\.\d+)?$|^\d{4}-\d{2}"
)


@dataclass(frozen=True)
class Profile:
    """What a column's sample values look like (shares are of the non-blank values)."""

    filled: int
    money: float = 0.0
    decimals: float = 0.0
    long_integers: float = 0.0
    dates: float = 0.0
    serials: float = 0.0
    letters: float = 0.0
    distinct: float = 0.0
    flags: float = 0.0
    spaced: float = 0.0  # values of several words ('O2 (UK) LTD'): names, not codes

    def describe(self, kind: str) -> str:
        """A few words for the summary, e.g. '98% dates'.

        >>> Profile(50, dates=0.98).describe("date"), Profile(0).describe("money")
        ('98% dates of 50', 'no values in the sample')
        """
        if not self.filled:
            return "no values in the sample"
        share = {"money": self.money, "date": self.dates + self.serials, "flag": self.flags}.get(kind, self.letters)
        noun = {"money": "amounts", "date": "dates", "flag": "yes/no"}.get(kind, "text")
        return f"{share:.0%} {noun} of {self.filled}"


def profile(values: Sequence[str]) -> Profile:
    """Profile a column's sample values (a few hundred strings: each distinct value judged once, by its shape).

    >>> p = profile(["01/02/2020", "13/02/2020", "", "n/a", "VARIOUS"])
    >>> (p.filled, round(p.dates, 2), p.money)
    (3, 0.67, 0.0)
    >>> profile(["1,200.00", "£5", "-3.5", "(12.00)", "Acme"]).money
    0.8
    """
    counts: dict[str, int] = {}  # stripped value -> rows
    by_traits: dict[tuple[bool, ...], int] = {}
    dated: list[str] = []
    tally = Counter(values)
    for cell, shape, count in zip(tally, _shapes(list(tally)), tally.values()):
        traits = _traits(shape) if shape else None
        if traits is None:
            continue
        value = cell.strip()
        seen = counts.get(value)
        if seen is None:
            counts[value] = count
            if traits[_DATE_LIKE_TRAIT]:
                dated.append(value)
        else:
            counts[value] = seen + count
        by_traits[traits] = by_traits.get(traits, 0) + count
    n = sum(counts.values())
    if not n:
        return Profile(0)
    share = [sum(count for traits, count in by_traits.items() if traits[i]) / n for i in range(len(_TRAITS))]
    dates = serials = 0
    if len(dated) * 10 >= len(counts) * 3:  # parse only where at least 30% of values look like dates
        for value in dated[:60]:
            kind = _date_kind(value)
            if kind == "serial":
                serials += counts[value]
            elif kind == "date":
                dates += counts[value]
    money, decimals, long_integers, letters, _, flags, spaced = share
    return Profile(
        filled=n,
        money=money,
        decimals=decimals,
        long_integers=long_integers,
        dates=dates / n,
        serials=serials / n,
        letters=letters,
        distinct=len(counts) / n,
        flags=flags,
        spaced=spaced,
    )


#: What :func:`_traits` notes of each value, in this order (the Profile shares they feed).
_TRAITS = ("money", "decimals", "long_integers", "letters", "date_like", "flags", "spaced")
_DATE_LIKE_TRAIT = _TRAITS.index("date_like")
#: Distinct shapes remembered per process (a few thousand cover a national crawl's columns).
SHAPES_LIMIT = 200_000


def _shapes(cells: list[str]) -> list[str]:
    """Each cell stripped, with its digits read as 0 (see :data:`_DIGITS_AS_ZERO`): one translation for the whole column.

    >>> _shapes([" £15 ", "12/03/2024", "Acme"])
    ['£00', '00/00/0000', 'Acme']
    >>> _shapes(["a\\x00b", " 17 "])  # a cell holding the join character: translated cell by cell
    ['a\\x00b', '00']
    """
    shapes = _SEPARATOR.join(cells).translate(_DIGITS_AS_ZERO).split(_SEPARATOR)
    if len(shapes) != len(cells):  # a cell held the separator itself
        shapes = [cell.translate(_DIGITS_AS_ZERO) for cell in cells]
    return [shape.strip() for shape in shapes]


#: Joins a column's cells for one translation (rare in a cell: the csv module and XML refuse it; see the fallback)
_SEPARATOR = "\x00"
#: Every digit 1-9 read as 0: no trait tells one digit from another, so '1,204.50' and '9,871.03' (a
#: shape, '0,000.00') are judged once between them; every amount, date and reference is one of a few shapes.
_DIGITS_AS_ZERO = str.maketrans("123456789", "000000000")


@functools.lru_cache(maxsize=SHAPES_LIMIT)
def _traits(shape: str) -> tuple[bool, ...] | None:
    """The :data:`_TRAITS` of a stripped value with its digits read as 0 (see :data:`_DIGITS_AS_ZERO`); None for 'n/a'.

    >>> _traits("00/00/0000")[4], _traits("00/00/0000")[0], _traits("Nil")
    (True, False, None)
    """
    if NOT_APPLICABLE.match(shape):
        return None
    return (
        _MONEY.search(shape) is not None,
        _DECIMALS.search(shape) is not None,
        _LONG_INTEGER.search(shape) is not None,
        _LETTERS.search(shape) is not None,
        _DATE_LIKE.search(shape) is not None,
        shape.lower() in _FLAGS,
        " " in shape,  # several words ('O2 (UK) LTD'): names, not codes
    )


def _date_kind(value: str) -> str | None:
    """'date', 'serial' (an Excel day number) or None for a value that looks like a date (``parse_date`` remembers).

    >>> _date_kind("01/02/2020"), _date_kind("45000"), _date_kind("VARIOUS")
    ('date', 'serial', None)
    """
    if parse_date(value) is None:
        return None
    return "serial" if value.replace(".", "", 1).isdigit() else "date"


def fit(kind: str, p: Profile, named: bool = True) -> float:
    """How well values fit a kind of field, 0..1 (1 when the sample holds no values).

    ``named``: the header names the field, so Excel serial numbers count as dates.

    >>> fit("date", Profile(10, dates=0.9)), fit("money", Profile(10, money=1.0, long_integers=1.0))
    (0.9, 0.3)
    >>> fit("name", Profile(10, letters=0.1)), fit("code", Profile(10, dates=1.0)), fit("code", Profile(10, letters=1.0, spaced=0.9))
    (0.1, 0.2, 0.2)
    """
    if not p.filled:
        return 1.0
    if kind == "money":
        return p.money * (0.3 if p.long_integers >= 0.9 else 1.0)
    if kind == "date":
        return min(1.0, p.dates + (p.serials if named else 0.0))
    if kind == "name":
        return p.letters
    if kind == "flag":
        return p.flags if p.filled >= 3 else 1.0
    if kind == "code":
        constant = p.filled >= 10 and p.distinct * p.filled <= 1  # one value throughout: the body's code, not an id
        names = p.letters >= 0.8 and p.spaced >= 0.5  # words with spaces: names, not ids
        return 0.2 if p.dates >= 0.8 or constant or names else 1.0
    return 0.3 if p.dates >= 0.8 or (p.money >= 0.9 and p.letters < 0.1) else 1.0


@dataclass(frozen=True)
class Choice:
    """Where a canonical field comes from: the source column, its header, how it was chosen, the score."""

    index: int
    source: str
    how: str
    score: float
    values: str = ""

    def summary(self) -> dict:
        described = {"source": self.source, "how": self.how, "score": round(min(100.0, 100 * self.score), 1)}
        if self.values:
            described["values"] = self.values
        return described


@dataclass(frozen=True)
class _Candidate:
    score: float
    rank: int
    wordiness: float
    index: int
    field: str
    how: str
    values: str

    def order(self) -> tuple:
        return (-round(self.score, 3), self.rank, -round(self.wordiness, 1), self.index)


def profiles_of(rows: Sequence[Sequence[str]], width: int) -> list[Profile]:
    """A profile of each of the first ``width`` columns of the sample rows (rows too short give '').

    >>> [p.filled for p in profiles_of([["1", "a"], ["2"]], 3)]
    [2, 1, 0]
    """
    sample = rows[:PROFILE_ROWS]
    columns = list(itertools.zip_longest(*sample, fillvalue=""))  # the sample turned on its side, once
    blank = ("",) * len(sample)
    return [profile(columns[i] if i < len(columns) else blank) for i in range(width)]


def column_values(rows: Sequence[Sequence[str]], index: int, limit: int = PROFILE_ROWS) -> list[str]:
    """The values of one column in the first ``limit`` rows (rows too short give '')."""
    return [r[index] if index < len(r) else "" for r in rows[:limit]]


def map_columns(
    header: Sequence[str],
    sample_rows: Sequence[Sequence[str]],
    fields: Sequence[str],
    overrides: dict[str, str] | None = None,
    distrusted: dict[str, str] | None = None,
    profiles: Sequence[Profile] | None = None,
) -> dict[str, Choice]:
    """Choose one source column for each field of ``fields`` the file provides.

    Fields a header names over values that do not fit, and that no other column provides, are
    noted in ``distrusted`` (field -> why), when given. ``profiles`` (one per header cell) saves
    profiling the sample again when the caller has them.

    >>> header = ["When", "Supplier", "Paid out", "Ref"]
    >>> rows = [["01/03/2025", "Acme Ltd", "1,200.50", "T1"], ["02/03/2025", "Beta plc", "99.99", "T2"]]
    >>> {f: (c.source, c.how) for f, c in map_columns(header, rows, ["amount", "payment_date", "supplier_name"]).items()}
    {'supplier_name': ('Supplier', 'synonym'), 'amount': ('Paid out', 'words'), 'payment_date': ('When', 'words')}
    """
    chosen: dict[str, Choice] = {}
    used: set[int] = set()
    for canon, source in (overrides or {}).items():
        target = normalise_header(source)
        for i, cell in enumerate(header):
            if i not in used and normalise_header(cell) == target:
                chosen[canon] = Choice(i, cell, "override", 1.0)
                used.add(i)
                break
    wanted = [f for f in fields if f not in chosen]
    candidates = []
    refused: dict[str, str] = {}
    for i, cell in enumerate(header):
        if i in used:
            continue
        values = profiles[i] if profiles is not None else profile(column_values(sample_rows, i))
        candidates += _candidates(i, cell, values, wanted, refused)
    for c in sorted(candidates, key=_Candidate.order):
        if c.field not in chosen and c.index not in used:
            chosen[c.field] = Choice(c.index, header[c.index], c.how, c.score, c.values)
            used.add(c.index)
    if distrusted is not None:
        distrusted.update({f: why for f, why in refused.items() if f not in chosen})
    return chosen


def _candidates(
    index: int, header: str, p: Profile, fields: Sequence[str], refused: dict[str, str]
) -> list[_Candidate]:
    out = []
    named_kinds = set()
    for reading in readings(header):
        if reading.field not in fields:
            continue
        kind = KINDS.get(reading.field, "text")
        named_kinds.add(kind)
        how_well = fit(kind, p)
        named_exactly = reading.how in ("exact", "synonym")
        if p.filled >= 2 and how_well < TRUST.get(kind, 0.0) and not (kind == "code" and named_exactly):
            refused.setdefault(reading.field, f"{header.strip()!r} holds {p.describe(kind)}")
            continue  # the header says one thing, the values another: not trusted
        wordiness = p.letters if reading.field in TEXT_FIELDS else 0.0
        score = reading.score * (0.6 + 0.4 * how_well)
        out.append(_Candidate(score, reading.rank, wordiness, index, reading.field, reading.how, p.describe(kind)))
    for canon in fields:
        kind = KINDS.get(canon, "text")
        if canon not in ("payment_date", "amount") or kind in named_kinds or p.filled < 3:
            continue
        if kind == "date" and fit(kind, p, named=False) >= 0.9 and p.distinct > 0:
            out.append(_Candidate(VALUE_ONLY[kind], 99, 0.0, index, canon, "values", p.describe(kind)))
        if kind == "money" and fit(kind, p) >= 0.95 and p.decimals >= 0.3 and p.letters == 0:
            out.append(_Candidate(VALUE_ONLY[kind], 99, 0.0, index, canon, "values", p.describe(kind)))
    return out


def named_fields(cells: Sequence[str], fields: Sequence[str]) -> set[str]:
    """The fields of ``fields`` that the cells of a row name by their words (a header row names several).

    >>> sorted(named_fields(["Expenditure Category", "Date", "Total Invoice Amount", "SUPPLIER"], ["amount", "payment_date", "supplier_name", "expense_type"]))
    ['amount', 'expense_type', 'payment_date', 'supplier_name']
    """
    found: set[str] = set()
    for cell in cells:
        if cell and len(cell) < 120:
            found.update(r.field for r in readings(cell) if r.field in fields)
    return found
