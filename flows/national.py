"""The national flow: crawl -> normalise -> (registers) -> match -> compliance -> publish."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from prefect import flow

from flows.crawl import CrawlResult, crawl_flow
from flows.match import match_flow, registers_flow
from flows.normalise_files import normalise_flow
from flows.progress import stage
from flows.publish import compliance_flow, publish_flow
from normalise.store.folder import open_folder


@dataclass(frozen=True)
class RegisterSources:
    """Register bulk files (paths or URLs) to load before matching; empty means keep what is loaded."""

    companies: tuple[str, ...] = ()
    charities: tuple[str, ...] = ()
    oscr: tuple[str, ...] = ()
    ccni: tuple[str, ...] = ()
    mutuals: tuple[str, ...] = ()
    links: tuple[str, ...] = ()  # link tables (org_id_a,org_id_b,...)

    def any(self) -> bool:
        return any((self.companies, self.charities, self.oscr, self.ccni, self.mutuals, self.links))


@dataclass(frozen=True)
class NationalRun:
    """Everything one national run needs."""

    out: Path
    sources: Path
    councils: list[str] | None = None
    registers: RegisterSources = field(default_factory=RegisterSources)
    as_of: date | None = None
    workers: int = 2
    overrides: Path | None = None
    reload_registers: bool = False
    council_retries: int = 2  # crawls of a council whose site did not answer, after the first
    retry_delay: float = 300  # seconds before each of them
    dask: str | None = None  # normalise and match on Dask: a scheduler's address, or "local" (flows/cluster.py)


@dataclass(frozen=True)
class NationalResult:
    """Where the report is, and what the crawl did."""

    report: Path
    crawl: CrawlResult


@flow(name="national")
def national_flow(run: NationalRun) -> NationalResult:
    """Run every stage in order, holding the folder throughout; the crawl and the parse show their own
    progress, the others a spinner."""
    with open_folder(run.out, "national") as layout:
        crawled = crawl_flow(run.out, run.sources, run.councils, run.council_retries, run.retry_delay)
        normalise_flow(run.out, run.sources, run.workers, dask=run.dask)
        loaded = any(layout.registers.glob("*.parquet"))
        if run.registers.any() and (run.reload_registers or not loaded):
            r = run.registers
            registers_flow(run.out, r.companies, r.charities, r.oscr, r.ccni, r.mutuals, r.links)
        with stage("match suppliers"):
            match_flow(run.out, run.overrides, run.dask, run.workers)
        with stage("compliance and report"):
            report = compliance_flow(run.out, run.as_of, run.councils)
        with stage("publish"):
            publish_flow(run.out)
    return NationalResult(report, crawled)
