"""Stable row identity: the same published transaction gets the same id in every file."""

from __future__ import annotations

from hashlib import sha256

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def identity_name(supplier_name: str | None) -> str:
    """The supplier name as it enters the identity: casefolded, whitespace collapsed.

    >>> identity_name("  Acme   LTD "), identity_name(None)
    ('acme ltd', '')
    """
    return " ".join((supplier_name or "").casefold().split())


def identity(
    council_code: str,
    dataset: str,
    payment_date: str | None,
    transaction_id: str | None,
    supplier_name: str | None,
    amount: str,
) -> str:
    """The identity text of a row, before its occurrence count (see :func:`row_id`).

    >>> identity("BIR", "spend_over_500", "2024-01-31", None, "  Acme   LTD ", "12.50")
    'BIR|spend_over_500|2024-01-31||acme ltd|12.50'
    """
    return (
        f"{council_code}|{dataset}|{payment_date or ''}|{transaction_id or ''}|{identity_name(supplier_name)}|{amount}"
    )


def identities(
    council_code: str | pa.Array,
    dataset: str,
    payment_date: pa.Array,
    transaction_id: pa.Array,
    folded_name: pa.Array,
    amount: pa.Array,
) -> pa.Array:
    """:func:`identity` for whole columns, vectorised; names already passed through :func:`identity_name`.
    ``council_code`` is one code for every row or a column of them (rows of several files at once).

    >>> identities("BIR", "grants", pa.array([None], pa.date32()), pa.array(["T1"]), pa.array(["acme ltd"]),
    ...            pa.array(["5"]).cast(pa.decimal128(18, 2))).to_pylist()
    ['BIR|grants||T1|acme ltd|5.00']
    """
    n = len(amount)
    parts = [
        pa.repeat(pa.scalar(council_code), n) if isinstance(council_code, str) else council_code,
        pa.repeat(pa.scalar(dataset), n),
        pc.cast(payment_date, pa.string()),
        transaction_id,
        folded_name,
        pc.cast(amount, pa.string()),
    ]
    return pc.binary_join_element_wise(*parts, "|", null_handling="replace", null_replacement="")


def row_id(identity_text: str, k: int = 0) -> str:
    """32 hex chars of sha256 over ``identity|k``, k counting earlier identical rows in the same file.

    >>> row_id('BIR|spend_over_500|2024-01-31||acme ltd|12.50')
    '0e003d35bce7aabaf679fdb01238db23'
    """
    return sha256(f"{identity_text}|{k}".encode()).hexdigest()[:32]


_HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")


def _mask(n: int, positions: np.ndarray) -> pa.Array:
    mask = np.zeros(n, bool)
    mask[positions] = True
    return pa.array(mask)


class OccurrenceCounter:
    """Counts earlier occurrences of 64-bit identity keys across the batches of one file.

    Keys seen once live in sorted numpy runs merged like a log-structured tree
    (8 bytes per distinct identity, O(n log N) per batch); the few keys seen
    more than once keep their count in a dict.

    >>> counter = OccurrenceCounter()
    >>> counter.take(np.array([5, 7, 5], dtype=np.uint64)).tolist(), counter.take(np.array([5, 9], dtype=np.uint64)).tolist()
    ([0, 0, 1], [2, 0])
    >>> counter = OccurrenceCounter()  # a first part without repeats, then one with
    >>> counter.take(np.array([3, 1], dtype=np.uint64)).tolist(), counter.take(np.array([1, 1], dtype=np.uint64)).tolist()
    ([0, 0], [1, 2])
    """

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []
        self._repeats: dict[int, int] = {}

    def take(self, keys: np.ndarray) -> np.ndarray:
        """For each key, how many times it was seen before (earlier batches, then earlier in this one)."""
        if len(keys) == 0:
            return np.zeros(0, np.int64)
        if not self._runs:  # a file's first part: unless a key repeats within it, nothing was seen before
            ordered = np.sort(keys)
            if not (ordered[1:] == ordered[:-1]).any():
                self._add(ordered)
                return np.zeros(len(keys), np.int64)
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        starts = np.r_[True, ordered[1:] != ordered[:-1]]
        group = np.cumsum(starts) - 1
        first = np.flatnonzero(starts)
        unique, counts = ordered[starts], np.diff(np.r_[first, len(ordered)])
        seen = np.zeros(len(unique), bool)
        for run in self._runs:
            pos = np.minimum(np.searchsorted(run, unique), len(run) - 1)
            seen |= run[pos] == unique
        prior = seen.astype(np.int64)
        for i in np.flatnonzero(seen):
            prior[i] = self._repeats.get(int(unique[i]), 1)
        result = np.empty(len(keys), np.int64)
        result[order] = np.arange(len(ordered)) - first[group] + prior[group]
        totals = prior + counts
        for i in np.flatnonzero(totals > 1):
            self._repeats[int(unique[i])] = int(totals[i])
        self._add(unique[~seen])
        return result

    def _add(self, keys: np.ndarray) -> None:
        if len(keys) == 0:
            return
        self._runs.append(keys)
        while len(self._runs) > 1 and len(self._runs[-2]) <= 2 * len(self._runs[-1]):
            newer, older = self._runs.pop(), self._runs.pop()
            merged = np.concatenate([older, newer])
            merged.sort(kind="stable")
            self._runs.append(merged)


def first_row_ids(identities: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Each row's id as if it were the first of its identity in its file (k = 0), and a 64-bit key of that id
    for counting repeats (:class:`OccurrenceCounter`): rows of alike files get theirs in one pass.

    >>> ids, keys = first_row_ids(pa.array(["a", "a"]))
    >>> ids.to_pylist() == [row_id("a")] * 2, bool(keys[0] == keys[1])
    (True, True)
    """
    if len(identities) == 0:
        return pa.array([], pa.string()), np.zeros(0, np.uint64)
    first_occurrence = pc.binary_join_element_wise(identities, pa.scalar("|0"), "").cast(pa.binary())
    digests = np.frombuffer(b"".join([sha256(text).digest() for text in first_occurrence.to_pylist()]), np.uint8)
    digests = digests.reshape(-1, 32)
    hexed = _HEX[digests[:, :16]].view("S32").ravel()
    keys = np.ascontiguousarray(digests[:, :8]).view(np.uint64).ravel()
    return pa.array(hexed, pa.binary(32)).cast(pa.string()), keys


def counted_row_ids(identities: pa.Array, first: pa.Array, keys: np.ndarray, counter: OccurrenceCounter) -> pa.Array:
    """The row ids of a part of one file, from :func:`first_row_ids`: a row repeating an identity seen earlier in
    the file (``counter``, which then remembers this part's) gets its occurrence count in its id. Where no row
    repeats one, that is ``first`` itself (the same object)."""
    if len(identities) == 0:
        return first
    ks = counter.take(keys)
    if not ks.any():
        return first
    later = np.flatnonzero(ks)
    fixed = [row_id(identities[int(i)].as_py(), int(ks[i])) for i in later]
    return pc.replace_with_mask(first, _mask(len(first), later), pa.array(fixed, pa.string()))


def row_ids(identities: pa.Array, counter: OccurrenceCounter) -> pa.Array:
    """Row ids for a batch of identity texts, counting repeats with ``counter`` across batches.

    >>> ids = row_ids(pa.array(["a", "b", "a"]), OccurrenceCounter()).to_pylist()
    >>> ids[0] == row_id("a", 0) and ids[2] == row_id("a", 1) and len(set(ids)) == 3
    True
    """
    return counted_row_ids(identities, *first_row_ids(identities), counter)
