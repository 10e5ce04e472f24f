"""Row identity: the occurrence counter against a plain count, and the published formula."""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from normalise.parsing.rowid import OccurrenceCounter, identity, row_id


@settings(deadline=None, max_examples=200)
@given(st.lists(st.lists(st.integers(min_value=0, max_value=30), max_size=60), max_size=12))
def test_counter_matches_a_plain_count_across_batches(batches: list[list[int]]) -> None:
    counter, seen = OccurrenceCounter(), Counter()
    for batch in batches:
        expected = []
        for key in batch:
            expected.append(seen[key])
            seen[key] += 1
        assert counter.take(np.array(batch, dtype=np.uint64)).tolist() == expected


def test_row_id_is_the_documented_sha256() -> None:
    text = identity("BIR", "spend_over_500", "2025-03-01", "T1", " Acme  Ltd", "10.00")
    assert text == "BIR|spend_over_500|2025-03-01|T1|acme ltd|10.00"
    assert row_id(text, 2) == hashlib.sha256(f"{text}|2".encode()).hexdigest()[:32]
