"""Supplier names in blocks that are matched apart (each on its own Dask worker), and one matcher per process.

The matcher answers each name from the registers alone, never from the other names, so any split
of the names gives the same answers as matching them together. Names are blocked by their
supplier key (the key the matcher looks up and blocks its fuzzy candidates on), so spellings of
one supplier are matched in one block, and the blocks are about the same size.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import pandas as pd

from normalise.matching.matcher import Matcher
from normalise.names import supplier_key

_cache: dict[tuple, Matcher] = {}


def block_of(name: object, blocks: int) -> int:
    """The block of a supplier name: a stable hash of its key (the same in every process).

    >>> block_of("ACME Ltd", 8) == block_of("Acme Limited", 8)
    True
    >>> block_of(None, 8)
    0
    """
    key = supplier_key(name) if isinstance(name, str) else None
    return zlib.crc32(key.encode()) % blocks if key else 0


def name_blocks(names: pd.DataFrame, blocks: int) -> list[pd.DataFrame]:
    """``names`` (with a ``supplier_name`` column) in at most ``blocks`` non-empty blocks, each keeping its rows' index.

    >>> frame = pd.DataFrame({"supplier_name": ["ACME Ltd", "Acme Limited", "Beta plc", None]})
    >>> sorted(len(b) for b in name_blocks(frame, 1))
    [4]
    >>> sum(len(b) for b in name_blocks(frame, 3))
    4
    """
    if blocks <= 1 or names.empty:
        return [names]
    block = names["supplier_name"].map(lambda name: block_of(name, blocks))
    return [part for _, part in names.groupby(block, sort=True)]


def cached_matcher(registers_dir: Path, overrides: Path | None = None) -> Matcher:
    """The matcher for these registers, built once per process (a worker matching many blocks reuses it).

    Rebuilt when a register file or the overrides file changes (by size and modification time).
    """
    registers_dir = Path(registers_dir)
    files = sorted(registers_dir.glob("*.parquet")) + ([Path(overrides)] if overrides else [])
    signature = (
        str(registers_dir),
        str(overrides),
        tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files),
    )
    if signature not in _cache:
        _cache.clear()  # one set of registers in memory at a time: they are large
        _cache[signature] = Matcher.from_dir(registers_dir, overrides=overrides)
    return _cache[signature]
