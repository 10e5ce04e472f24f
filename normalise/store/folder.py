"""Opening the output folder for a run: take the lock, then repair what an interrupted run left.

Every command that writes the folder runs inside :func:`open_folder`. The first holder of the
lock in a process (not the nested flows, not a crawler subprocess that inherited the lock)
recovers the folder before anything else touches it:

* commits left half-done are finished, uncommitted stage results discarded (:mod:`.commit`);
* bodies left half-downloaded are deleted (:mod:`.raw`);
* files a killed crawl stored are recorded in ``files.parquet`` (:mod:`.manifest`), so the
  next crawl revalidates them instead of downloading them again.

For the working copy of an ``s3://`` output (:mod:`.remote`) the first holder also takes the
bucket's lock (:mod:`.s3lock`) and brings the working copy up to the bucket's current snapshot
before recovering it (:mod:`.sync`); each commit is then published as it is made, and once more
when the command ends (what was written outside a commit, such as the runs table).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from normalise.store.commit import recover
from normalise.store.layout import Layout
from normalise.store.lock import command_line, holding
from normalise.store.manifest import merge_interrupted_crawls
from normalise.store.raw import discard_incoming
from normalise.store.s3lock import leased
from normalise.store.sync import mirror_of

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def open_folder(out: Path, command: str | None = None) -> Iterator[Layout]:
    """Hold ``out``'s run lock for the block (re-entrant); the outermost holder recovers the folder first.

    Raises :class:`~normalise.store.lock.FolderLocked` at once when another live run holds it.
    """
    layout = Layout(Path(out))
    command = command or command_line()
    with holding(layout, command) as (_, first, stale):
        if stale is not None:
            logger.warning(
                "taking over the output folder from a run that stopped without finishing: %s", stale.describe()
            )
        mirror = mirror_of(layout) if first else None
        if mirror is None:
            if first:
                recover_folder(layout)
            yield layout
            return
        with leased(layout, mirror.bucket, command) as lease:
            if lease.stale is not None:
                logger.warning(
                    "taking over %s from a run that stopped renewing its lock: %s",
                    mirror.bucket.location.url,
                    lease.stale.describe(),
                )
            mirror.pull()
            recover_folder(layout)
            yield layout
            mirror.publish(lease.check)


def recover_folder(layout: Layout) -> None:
    """Finish or discard an interrupted run's work (call with the lock held)."""
    recover(layout)
    if discard_incoming(layout):
        logger.warning("deleted partial downloads of an interrupted crawl")
    merge_interrupted_crawls(layout)
