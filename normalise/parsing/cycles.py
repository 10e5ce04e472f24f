"""Python's cycle collector, kept out of the way while a stage parses and rebuilds.

Parsing makes millions of short-lived lists (a row, its cells) that reference counting frees on its
own; with the default threshold (a collection every 700 new containers) the collector still runs
thousands of times a batch, and every older-generation pass walks everything the process holds:
its caches of judged cells and supplier facts in a worker, Prefect's whole heap in the flow's
process. Measured on the 100-council benchmark workload, about a tenth of a batch's CPU went
there, and the flow's process once spent 0.19 s in one pass between parsing and rebuilding while
the workers waited.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

#: New containers between young-generation collections inside the block (Python's default is 700)
BATCH_THRESHOLD = 50_000


@contextlib.contextmanager
def rare_collections(threshold: int = BATCH_THRESHOLD) -> Iterator[None]:
    """Collect cycles every ``threshold`` new containers inside the block, and leave what the process held
    before it out of those collections (:func:`gc.freeze`, unless an outer block or the program froze it).

    >>> before = gc.get_threshold()
    >>> with rare_collections(10_000):
    ...     gc.get_threshold()[0], gc.get_freeze_count() > 0
    (10000, True)
    >>> gc.get_threshold() == before
    True
    """
    before = gc.get_threshold()
    freezing = gc.get_freeze_count() == 0
    if freezing:
        gc.freeze()
    gc.set_threshold(max(threshold, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if freezing:
            gc.unfreeze()
