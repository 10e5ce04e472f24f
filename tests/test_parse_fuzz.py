"""Bounded fuzzing of the whole parser: random bytes and mutated real files never crash or hang."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normalise import schema
from normalise.parsing.parse import parse_file

pytestmark = pytest.mark.slow  # bounded fuzzing: seconds, not milliseconds

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
STATUSES = set(schema.PARSE_STATUSES)
PREFIXES = [b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF", b"\xef\xbb\xbf", b"\xff\xfe", b"Date,Supplier,Amount\n"]


def _check(path: Path) -> None:
    start = time.perf_counter()
    result = parse_file(path)
    assert result.status in STATUSES
    assert result.spend.schema == schema.arrow_schema("spend")
    assert result.rejects.schema == schema.arrow_schema("rejects")
    assert result.summary["rows"] == result.spend.num_rows
    if result.status in ("failed", "not_machine_readable", "not_spend"):
        assert result.summary["error"]
    assert time.perf_counter() - start < 20


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(PREFIXES), st.binary(max_size=3000))
def test_random_bytes(tmp_path: Path, prefix: bytes, body: bytes) -> None:
    path = tmp_path / "random.bin"
    path.write_bytes(prefix + body)
    _check(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.lists(
            st.sampled_from(["Date", "Amount", "Supplier", "", "£1,0", "(5)", "01/13/2020", '"', "Total", "x\ny"]),
            max_size=8,
        ),
        max_size=30,
    ),
    st.sampled_from([",", ";", "\t"]),
)
def test_random_csv_grids(tmp_path: Path, rows: list[list[str]], delimiter: str) -> None:
    path = tmp_path / "grid.csv"
    path.write_text("\n".join(delimiter.join(r) for r in rows), encoding="utf-8")
    _check(path)


def _mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 40)):
        kind = rng.random()
        pos = rng.randrange(len(data)) if data else 0
        if kind < 0.4 and data:
            data[pos] = rng.randrange(256)
        elif kind < 0.6:
            data[pos:pos] = rng.choice(
                [b'"', b",", b"\n", b"\r\n", b"\x00", b"\xa3", b"\xff\xfe", b"-", b"(", b"Total,"]
            )
        elif kind < 0.8 and data:
            del data[pos : pos + rng.randint(1, 200)]
        else:
            data = data[: max(1, pos)]
    return bytes(data)


@pytest.mark.skipif(not REALDATA.is_dir(), reason="../shared/realdata is not available")
def test_mutated_real_files(tmp_path: Path) -> None:
    rng = random.Random(20261122)
    files = sorted(
        p for d in ("spend", "gpc", "grants") for p in (REALDATA / d).iterdir() if p.stat().st_size < 1_200_000
    )
    deadline = time.perf_counter() + 40
    tried = 0
    while time.perf_counter() < deadline and tried < 120:
        source = files[tried % len(files)]
        path = tmp_path / f"mutant{tried}{source.suffix}"
        path.write_bytes(_mutate(source.read_bytes(), rng))
        _check(path)
        tried += 1
    assert tried >= len(files)
