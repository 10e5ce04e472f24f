"""What the spiders hand to the pipelines.

Spiders collect; pipelines check and store. A spider yields one :class:`FileItem`
per file link it found and tried to fetch, successful or not. The store pipeline
turns ``body`` into a content-addressed original and clears it; the manifest
pipeline records everything else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date


@dataclass
class FileItem:
    """One file link of one council, with the outcome of fetching it."""

    council_code: str
    url: str
    landing_url: str | None = None
    link_text: str | None = None
    format_guess: str | None = None
    dataset: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    seen_at: str | None = None
    fetched_at: str | None = None
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    format: str | None = None
    error: str | None = None
    outcome: str | None = None
    body: bytes | None = field(default=None, repr=False)

    def record(self) -> dict:
        """The item as a JSON-ready dict, without the body."""
        data = asdict(self)
        del data["body"]
        for key in ("period_start", "period_end"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data
