"""What the output folder's failures mean: which say nothing about a file, and how to name them.

A full disk, an I/O error or an exhausted memory is the machine's fault, not the file's: a file
that met one must be tried again later, never recorded as ``failed``. And every such error is
shown to the user as one line naming the path it hit.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

#: errnos that describe the machine at that moment (space, memory, devices), not the data.
TRANSIENT_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EIO,
        errno.ENOMEM,
        errno.EROFS,
        errno.EMFILE,
        errno.ENFILE,
        errno.EAGAIN,
        errno.ESTALE,
        errno.EBUSY,
        errno.EINTR,
    }
)
#: errnos of a full disk or quota.
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` comes from the machine (retry later) rather than from the data.

    >>> is_transient(OSError(errno.ENOSPC, "No space left on device"))
    True
    >>> is_transient(MemoryError())
    True
    >>> is_transient(OSError(errno.ENOENT, "No such file or directory"))
    False
    >>> is_transient(ValueError("bad date"))
    False
    """
    if isinstance(exc, MemoryError):
        return True
    return isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` is a full disk or an exhausted quota.

    >>> is_disk_full(OSError(errno.ENOSPC, "Error writing bytes to file"))
    True
    """
    return isinstance(exc, OSError) and exc.errno in FULL_ERRNOS


def naming(exc: OSError, path: Path | str) -> OSError:
    """The same error with ``path`` as its filename and the system's wording, for a one-line message.

    pyarrow and ``write()`` raise errors that carry an errno but no path; this names the file.

    >>> error = naming(OSError(28, "Error writing bytes to file. Detail: [errno 28] No space left on device"), "out/x")
    >>> error.filename, error.strerror
    ('out/x', 'No space left on device')
    """
    if exc.filename or exc.errno is None:
        return exc
    return OSError(exc.errno, os.strerror(exc.errno), str(path))
