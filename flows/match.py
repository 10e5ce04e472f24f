"""Registers and match flows: load register bulk files, then match every council's suppliers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
from prefect import flow, get_run_logger
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from flows.cluster import Workers, stage_workers
from flows.runs import RunRecord, append_run
from normalise.matching.blocks import cached_matcher, name_blocks
from normalise.matching.matcher import Matcher
from normalise.matching.shares import supplier_shares
from normalise.matching.suppliers import supplier_totals
from normalise.registers import load_registers
from normalise.store.commit import Transaction
from normalise.store.folder import open_folder
from normalise.store.layout import Layout
from normalise.store.parquet_io import write_table

#: Blocks of supplier names per Dask worker: enough to even out blocks that take longer.
BLOCKS_PER_WORKER = 4


def match_block(block: pd.DataFrame, registers_dir: Path, overrides: Path | None) -> pd.DataFrame:
    """Match one block of distinct names (on a Dask worker, whose matcher is built once for all its blocks)."""
    return cached_matcher(registers_dir, overrides).match(block)


def match_suppliers(out: Path, overrides: Path | None, workers: Workers, blocks: int = 1) -> pd.DataFrame:
    """Match each distinct (name, published ids) once, then spread the answers to every council.

    With ``blocks`` > 1 the names are matched in that many blocks on ``workers`` (Dask); the answers
    are the same as matching them in one go.
    """
    logger = get_run_logger()
    suppliers = supplier_totals(out)
    registers_dir = Layout(out).registers
    identity = ["supplier_name", "company_number_published", "charity_number_published"]
    named = suppliers[~suppliers["redacted"] & suppliers["supplier_name"].notna()]
    distinct = named[identity].drop_duplicates().reset_index(drop=True)
    if registers_dir.is_dir() and any(registers_dir.glob("*.parquet")):
        if blocks > 1:
            parts = workers.run(
                match_block,
                name_blocks(distinct, blocks),
                "matching suppliers",
                registers_dir=registers_dir,
                overrides=overrides,
            )
            matched = pd.concat(parts).sort_index()
        else:
            matched = Matcher.from_dir(registers_dir, overrides=overrides).match(distinct)
        answers = pd.concat([distinct, matched], axis=1)
    else:
        logger.warning(
            "no registers in %s: run `councilspend registers load` first; suppliers stay unmatched", registers_dir
        )
        answers = distinct.assign(
            **dict.fromkeys(
                ["org_id", "org_name", "match_score", "alternatives", "company_number", "linked_by", "size_band"]
            ),
            org_type="unmatched",
            match_method="none",
            sector="unmatched",
        )
    merged = suppliers.merge(answers, on=identity, how="left")
    merged.loc[merged["redacted"], ["org_type", "match_method", "sector"]] = [
        "individual_or_redacted",
        "none",
        "individual_or_redacted",
    ]
    merged["org_type"] = merged["org_type"].fillna("unmatched")
    merged["match_method"] = merged["match_method"].fillna("none")
    merged["sector"] = merged["sector"].fillna("unmatched")
    logger.info("matched %d of %d supplier names", int(merged["org_id"].notna().sum()), len(merged))
    return merged.drop(columns=["company_number_published", "charity_number_published", "redacted"])


@flow(name="registers")
def registers_flow(
    out: Path,
    companies: Sequence[str] = (),
    charities: Sequence[str] = (),
    oscr: Sequence[str] = (),
    ccni: Sequence[str] = (),
    mutuals: Sequence[str] = (),
    links: Sequence[str] = (),
    same_name_links: bool = True,
) -> dict[str, int]:
    """Load register bulk files and link tables (paths or URLs) into ``<out>/registers``, with a
    progress bar per register; infer same-name charity–company links unless told not to."""
    record = RunRecord(flow="registers")
    with open_folder(out, "registers"):
        counts = _load_with_progress(out, companies, charities, oscr, ccni, mutuals, links, same_name_links)
        append_run(Path(out), record)
    get_run_logger().info("registers loaded: %s", counts)
    return counts


def _load_with_progress(
    out: Path,
    companies: Sequence[str],
    charities: Sequence[str],
    oscr: Sequence[str],
    ccni: Sequence[str],
    mutuals: Sequence[str],
    links: Sequence[str],
    same_name_links: bool,
) -> dict[str, int]:
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def advance(register: str, rows: int) -> None:
            if register not in tasks:
                tasks[register] = bar.add_task(f"loading {register}", total=None)
            bar.advance(tasks[register], rows)

        counts = load_registers(
            Layout(out).registers,
            companies=companies,
            charities=charities,
            oscr=oscr,
            ccni=ccni,
            mutuals=mutuals,
            links=links,
            same_name_links=same_name_links,
            progress=advance,
        )
    return counts


@flow(name="match")
def match_flow(out: Path, overrides: Path | None = None, dask: str | None = None, workers: int = 2) -> RunRecord:
    """Write ``suppliers.parquet`` (every council's suppliers with their register match, size band
    and sector) and ``supplier_shares.parquet`` (who gets the money, per council and year).

    With ``dask`` (a scheduler's address, or ``local`` for a LocalCluster of ``workers`` processes)
    the names are matched in blocks on Dask (see :mod:`flows.cluster`); otherwise in this process.
    """
    record = RunRecord(flow="match")
    blocks = BLOCKS_PER_WORKER * workers if dask else 1
    with open_folder(out, "match") as layout, stage_workers(workers, dask) as pool, Transaction(layout, "match") as tx:
        suppliers = match_suppliers(Path(out), overrides, pool, blocks)
        table = pa.Table.from_pandas(suppliers, preserve_index=False)
        write_table(table, tx.file(layout.table("suppliers")), schema_of="suppliers")
        shares = supplier_shares(Path(out), tx.current(layout.table("suppliers")))
        write_table(shares, tx.file(layout.table("supplier_shares")))
        append_run(Path(out), record, tx)
    return record
