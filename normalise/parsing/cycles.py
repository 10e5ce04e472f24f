"""Python's cycle collector, run rarely while a worker parses or rebuilds.

Parsing makes millions of short-lived lists (a row, its cells) that reference counting frees on its
own; with the default threshold (a collection every 700 new containers) the collector still runs
thousands of times a batch, and every older-generation pass walks the process's caches of judged
cells and supplier facts. Measured on the 100-council benchmark workload, about a tenth of a
batch's CPU went there.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

#: New containers between young-generation collections while a batch runs (Python's default is 700)
BATCH_THRESHOLD = 50_000


@contextlib.contextmanager
def rare_collections(threshold: int = BATCH_THRESHOLD) -> Iterator[None]:
    """Collect cycles every ``threshold`` new containers inside the block, then as before.

    >>> before = gc.get_threshold()
    >>> with rare_collections(10_000):
    ...     gc.get_threshold()[0]
    10000
    >>> gc.get_threshold() == before
    True
    """
    before = gc.get_threshold()
    gc.set_threshold(max(threshold, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
