"""What a run shows while it works: a line per stage, and the crawl's counts as they grow.

Everything goes to standard error (standard output stays for data a command prints). Without a
terminal (a scheduled run, a pipe), rich prints the final state once instead of animating.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from normalise.store.layout import Layout

console = Console(stderr=True)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """A spinner with the stage's name and elapsed time while it runs, left in place when done."""
    columns = (SpinnerColumn(finished_text="[green]✓[/green]"), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(name, total=1)
        try:
            yield
        except BaseException:
            bar.update(task, description=f"{name} [red](failed)[/red]")
            raise
        bar.update(task, completed=1)


class _Tail:
    """New complete JSON lines of a file another process appends to."""

    def __init__(self, path: Path):
        self.path, self.offset = path, 0

    def lines(self) -> Iterator[dict]:
        if not self.path.exists():
            return
        with self.path.open("rb") as stream:
            stream.seek(self.offset)
            data = stream.read()
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.splitlines():
            if line.strip():
                yield json.loads(line)


class CrawlProgress:
    """The crawl's counts (pages read or not, files by outcome, councils seen) as the crawler writes them."""

    def __init__(self, layout: Layout, run_id: str, councils: list[str] | None):
        self.items, self.pages = _Tail(layout.crawl_items(run_id)), _Tail(layout.crawl_pages(run_id))
        self.expected = len(councils) if councils else None
        self.files: Counter[str] = Counter()
        self.page_counts: Counter[str] = Counter()
        self.councils: set[str] = set()
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        self.bar = Progress(*columns, console=console, transient=False)
        self.task = self.bar.add_task("crawl", total=None)

    def __enter__(self) -> CrawlProgress:
        self.bar.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.bar.stop()

    def update(self) -> None:
        for page in self.pages.lines():
            self.page_counts["failed" if page["error"] else "read"] += 1
            self.councils.add(page["council_code"])
        for item in self.items.lines():
            self.files[item["outcome"]] += 1
        self.bar.update(self.task, description=self.describe())

    def describe(self) -> str:
        """One line of counts.

        >>> p = CrawlProgress(Layout(Path("/nonexistent")), "r1", ["BIR", "MAN"])
        >>> p.files.update({"new": 3, "failed": 1}); p.page_counts.update({"read": 2}); p.councils.add("BIR")
        >>> p.describe()
        'crawl: 1/2 councils · pages 2 read, 0 failed · files 3 new, 0 changed, 0 unchanged, 1 failed'
        """
        seen = f"{len(self.councils)}/{self.expected}" if self.expected else f"{len(self.councils)}"
        f, p = self.files, self.page_counts
        return (
            f"crawl: {seen} councils · pages {p['read']} read, {p['failed']} failed · files {f['new']} new, "
            f"{f['changed']} changed, {f['unchanged']} unchanged, {f['failed']} failed"
        )
