"""Which councils a crawl covers, and how each is found: its sources entry, or the fallback.

Without ``--councils``, a crawl covers every configured council and, when the config has a
``fallback:`` section, every council that section covers. Named councils must be configured or
covered by the fallback. ``sample`` then keeps that many of them, the same ones each time for
the same list (a fixed seed), for a trial before a national crawl.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from normalise.fallback import Fallback, fallback_councils, load_fallback
from normalise.sources import CouncilSource, SourcesError, load_sources

#: Seed of ``--sample``: the same councils for the same list, run after run.
SAMPLE_SEED = 2026


@dataclass(frozen=True)
class CrawlPlan:
    """The councils of one crawl: configured ones with their entries, the rest through the fallback."""

    configured: dict[str, CouncilSource]
    unconfigured: tuple[str, ...]
    fallback: Fallback | None

    @property
    def codes(self) -> list[str]:
        return sorted([*self.configured, *self.unconfigured])


def plan_crawl(sources: Path | None, councils: Iterable[str] | None = None, sample: int | None = None) -> CrawlPlan:
    """The plan for these councils (default: all the config covers); raises SourcesError for one it cannot find."""
    configured = load_sources(sources)
    fallback = load_fallback(sources)
    if councils is None:
        wanted = sorted({*configured, *fallback_councils(configured, fallback)})
    else:
        wanted = list(dict.fromkeys(c.strip().upper() for c in councils if c.strip()))
        unknown = [c for c in wanted if c not in configured and not (fallback and fallback.covers(c))]
        if unknown:
            nowhere = " nor covered by its fallback" if fallback else ""
            listed = ", ".join(sorted(configured)) or "none"
            raise SourcesError(f"{', '.join(unknown)} not in the sources config{nowhere} (configured: {listed})")
    if sample is not None:
        if sample < 1:
            raise SourcesError("--sample must be at least 1")
        wanted = sorted(random.Random(SAMPLE_SEED).sample(wanted, k=min(sample, len(wanted))))
    return CrawlPlan(
        configured={c: configured[c] for c in wanted if c in configured},
        unconfigured=tuple(c for c in wanted if c not in configured),
        fallback=fallback,
    )
