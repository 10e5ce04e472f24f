"""The per-council summary printed at the end of a crawl or a national run.

One line per council: how it was found (configured pages, portal, fallback), what this run read
and fetched, the newest period now held, and why nothing could be read when that happened.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rich.table import Table

from normalise.councils import councils as registry
from normalise.coverage import coverage, found_via
from normalise.store.layout import Layout
from normalise.store.manifest import run_items
from normalise.store.pages import run_pages


@dataclass(frozen=True)
class CouncilLine:
    """One council's line in the summary."""

    council_code: str
    name: str
    found_via: str
    pages_read: int
    pages_failed: int
    files: Counter[str]
    newest_period: date | None
    note: str


def council_lines(out: Path, run_ids: Iterable[str]) -> list[CouncilLine]:
    """The summary lines of the councils these crawl runs covered (later runs win for a page or file)."""
    pages: dict[tuple[str, str], dict] = {}
    items: dict[str, dict] = {}
    for run_id in run_ids:
        pages.update({(p["council_code"], p["url"]): p for p in run_pages(Layout(out), run_id)})
        items.update({i["url"]: i for i in run_items(Layout(out), run_id)})
    codes = sorted({code for code, _ in pages} | {i["council_code"] for i in items.values()})
    held = coverage(out, codes)
    lines = []
    for code in codes:
        mine = [p for (c, _), p in pages.items() if c == code]
        read = [p for p in mine if p["error"] is None]
        failed = [p for p in mine if p["error"] is not None]
        entries_failed = [p for p in failed if p["entry"]]
        unreachable = bool(entries_failed) and not any(p["entry"] for p in read)
        note = f"unreachable: {entries_failed[0]['error']}" if unreachable else ""
        if not note and failed:
            note = f"{len(failed)} page(s) not read: {failed[0]['error']}"
        lines.append(
            CouncilLine(
                council_code=code,
                name=registry()[code].nice_name if code in registry() else code,
                found_via=", ".join(found_via(mine)) or "–",
                pages_read=len(read),
                pages_failed=len(failed),
                files=Counter(i["outcome"] for i in items.values() if i["council_code"] == code),
                newest_period=held[code].newest_period if code in held else None,
                note=note,
            )
        )
    return lines


def summary_table(lines: list[CouncilLine], title: str = "Councils in this run") -> Table:
    """The lines as a table for the terminal."""
    table = Table(title=title, title_justify="left")
    for column in ("council", "found via", "pages read", "not read", "new", "changed", "unchanged", "failed"):
        table.add_column(column, justify="right" if column not in ("council", "found via") else "left")
    table.add_column("newest period")
    table.add_column("note", overflow="fold")
    for line in lines:
        f = line.files
        table.add_row(
            f"{line.council_code} {line.name}",
            line.found_via,
            str(line.pages_read),
            f"[red]{line.pages_failed}[/red]" if line.pages_failed else "0",
            str(f["new"]),
            str(f["changed"]),
            str(f["unchanged"]),
            f"[red]{f['failed']}[/red]" if f["failed"] else "0",
            line.newest_period.strftime("%b %Y") if line.newest_period else "–",
            line.note,
        )
    return table
