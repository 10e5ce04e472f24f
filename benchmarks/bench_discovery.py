"""Measure link discovery: which data links it finds, what else it returns, and how right each link is.

Run: ``python benchmarks/bench_discovery.py [--councils 12] [--seed 2026] [--json]``.

Two corpora:

* the saved real council pages in ``../shared/realdata/pages``, against the expectations written by
  reading them (``tests/discovery_expectations.py``; skipped when ../shared is absent);
* a generated mock council web, walked offline as the landing and CKAN spiders walk it
  (:mod:`mockweb.offline`), against its answer key (``answers/files.csv`` are the data links,
  ``answers/documents.csv`` the papers beside them).

For each: data links, found, returned, non-data returned; among found links, period right / wrong /
missing, kind right / wrong / unknown, format right / wrong / unknown (as guessed from the page alone,
before any HEAD request). It uses only ``discover_links``, ``follow_links`` and the CKAN spider's
``resource_link``, so the same script measures an older ``crawler/``: put a copy of that tree first
on PYTHONPATH (``git archive <commit> crawler | tar -x -C /tmp/old``, then ``PYTHONPATH=/tmp/old``).
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PAGES = REPO.parent / "shared" / "realdata" / "pages"


@dataclass(frozen=True)
class Truth:
    """What a data link really is."""

    kind: str
    format: str | None  # None: not scored (a fault case)
    period: tuple[date, date] | None  # None: not scored


@dataclass
class Score:
    """Counts for one corpus."""

    data_links: int = 0
    counts: Counter = field(default_factory=Counter)

    def add(self, truth: dict[str, Truth], returned: dict[str, Any]) -> None:
        """Score the links returned for one page (or one council) against the truth."""
        self.data_links += len(truth)
        c = self.counts
        c["returned"] += len(returned)
        c["non_data_returned"] += sum(url not in truth for url in returned)
        for url, want in truth.items():
            link = returned.get(url)
            if link is None:
                continue
            c["found"] += 1
            if want.period is not None:
                got = (link.period_start, link.period_end)
                c["period_" + ("missing" if got[0] is None else "right" if got == want.period else "wrong")] += 1
            c["kind_" + ("unknown" if link.dataset is None else "right" if link.dataset == want.kind else "wrong")] += 1
            if want.format is not None:
                guess = link.format_guess
                c["format_" + ("unknown" if guess == "unknown" else "right" if guess == want.format else "wrong")] += 1

    def report(self) -> dict[str, int]:
        keys = ["found", "returned", "non_data_returned"]
        keys += [f"period_{how}" for how in ("right", "wrong", "missing")]
        keys += [f"{what}_{how}" for what in ("kind", "format") for how in ("right", "wrong", "unknown")]
        return {"data_links": self.data_links} | {key: self.counts[key] for key in keys}


def _discover(html: bytes, url: str, **options: Any) -> list:
    from crawler.discovery import discover_links

    accepted = inspect.signature(discover_links).parameters
    return discover_links(html, url, **{k: v for k, v in options.items() if k in accepted and v is not None})


def saved_pages() -> Score:
    """Discovery on every saved real page against the expectations written by reading it."""
    sys.path.insert(0, str(REPO / "tests"))
    from discovery_expectations import PAGES as EXPECTED

    score = Score()
    for page in EXPECTED:
        truth = {link.url: Truth(link.kind, link.format, (link.period_start, link.period_end)) for link in page.links()}
        links = _discover((PAGES / page.name).read_bytes(), page.base_url)
        score.add(truth, {link.url: link for link in links})
    return score


def mock_web(councils: int, seed: int) -> tuple[Score, int, int]:
    """Discovery over a generated mock web against its answer key; also the planted documents returned."""
    import pandas as pd

    from mockweb.generate import generate
    from mockweb.offline import OfflineWeb, discover_council

    with tempfile.TemporaryDirectory() as tmp:
        site = generate(Path(tmp) / "web", councils=councils, seed=seed)
        web = OfflineWeb(site.root)
        answers = site.root / "answers"
        files, disallowed, documents = (
            pd.read_csv(answers / f"{name}.csv", dtype=str, keep_default_na=False)
            for name in ("files", "disallowed", "documents")
        )
        score, planted_returned = Score(), 0
        for code, entry in web.sources().items():
            returned = discover_council(web, entry)
            truth = {
                row.url_path: Truth(
                    row.dataset,
                    None if row.fault else row.format,
                    (date.fromisoformat(row.period_start), date.fromisoformat(row.period_end)),
                )
                for row in files[files["council_code"] == code].itertuples()
            }
            for row in disallowed[disallowed["council_code"] == code].itertuples():
                truth[row.url_path] = Truth("spend_over_500", None, None)
            score.add(truth, returned)
            planted_returned += sum(p in returned for p in documents.loc[documents["council_code"] == code, "url_path"])
        return score, len(documents), planted_returned


def _print(title: str, numbers: dict[str, int]) -> None:
    print(title)
    for key, value in numbers.items():
        print(f"  {key:22} {value}")


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--councils", type=int, default=12)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(list(argv) if argv is not None else None)
    result: dict[str, dict[str, int]] = {}
    if PAGES.is_dir():
        result["saved_pages"] = saved_pages().report()
    score, planted, planted_returned = mock_web(args.councils, args.seed)
    result["mock_web"] = score.report() | {"documents_planted": planted, "documents_returned": planted_returned}
    if args.json:
        print(json.dumps(result, indent=1))
        return
    for title, numbers in result.items():
        _print(title, numbers)


if __name__ == "__main__":
    main()
