"""A user's corrections to supplier matching: a CSV of ``supplier_name,org_id``.

An empty org_id says "this supplier matches nothing".  Rows apply by name key, so every published
spelling with the same ``supplier_key`` is corrected.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from normalise.names import supplier_key

_ORG_ID = re.compile(r"^[A-Z]{2}-[A-Z]{2,5}-\S+$")


class OverridesError(ValueError):
    """An overrides file that cannot be used, with the file and line named."""


def load_overrides(path: Path) -> dict[str, str | None]:
    """Name key -> org_id (None for 'no match') from an overrides CSV."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
            header = rows[0].keys() if rows else []
    except (OSError, UnicodeDecodeError) as error:
        raise OverridesError(f"{path}: unreadable ({error})") from error
    if rows and not {"supplier_name", "org_id"} <= set(header):
        raise OverridesError(f"{path}: needs columns supplier_name,org_id; found {list(header)}")
    overrides: dict[str, str | None] = {}
    for line, row in enumerate(rows, start=2):
        key = supplier_key(row["supplier_name"])
        org_id = (row["org_id"] or "").strip() or None
        if not key:
            raise OverridesError(f"{path}, line {line}: empty supplier_name")
        if org_id and not _ORG_ID.match(org_id):
            raise OverridesError(f"{path}, line {line}: {org_id!r} is not an org-id like GB-COH-01234567")
        overrides[key] = org_id
    return overrides
