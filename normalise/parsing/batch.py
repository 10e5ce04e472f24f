"""A batch of stored originals parsed into the store's work area: the normalise stage's unit of parsing.

A batch runs in a worker process (or on a Dask worker), so this module imports nothing of Prefect
or the flows: a worker starts by importing the parser alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from normalise.parsing.cycles import rare_collections
from normalise.parsing.parse import ParseRun, iter_parse, write_parse
from normalise.parsing.together import normalise_together
from normalise.parsing.version import PARSER_VERSION
from normalise.store.atomic import flush_filesystem, fsync_dir, fsync_file
from normalise.store.errors import is_transient
from normalise.store.layout import Layout
from normalise.store.work import discard_outputs, new_outputs, output_paths, save_parse

#: Most files in one parse batch (a batch is one task: one hand-off, one disk flush).
BATCH = 50
#: Most bytes of originals planned (read and held) at once before their rows are normalised together
PLANNED_BYTES = 16 << 20


@dataclass(frozen=True)
class ParseJob:
    """One stored original to parse for one council."""

    council_code: str
    sha256: str
    raw_path: Path
    url: str | None
    dataset: str | None
    columns: dict
    encoding: str | None


def batches(jobs: list[ParseJob], workers: int) -> list[list[ParseJob]]:
    """The jobs in batches, each council's files together, about eight batches per worker and at most ``BATCH`` files each.

    >>> jobs = [ParseJob(c, str(i), Path(str(i)), None, None, {}, None) for i, c in enumerate("AAABBC")]
    >>> [[j.sha256 for j in b] for b in batches(jobs, 1)]
    [['0'], ['1'], ['2'], ['3'], ['4'], ['5']]
    """
    size = max(1, min(BATCH, len(jobs) // (8 * max(1, workers))))
    ordered = sorted(jobs, key=lambda job: job.council_code)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def parse_batch(jobs: list[ParseJob], root: Path) -> list[dict]:
    """Parse a batch of files into the work area of the folder at ``root``.

    Its small files are read and judged first, a few MiB at a time, so that the parts of those that
    read alike are normalised in one pass (:mod:`normalise.parsing.together`); then each file's
    outputs are written, then the batch is flushed to disk once, then every summary is written
    (each its file's commit point): one flush a batch instead of two a file, and no summary ever
    names outputs that are not whole. The summaries reach the disk with the stage's commit (which
    flushes the whole filesystem where the system allows); one lost to a crash before it only means
    that file is parsed again.
    Returns each file's status and summary, or ``retry`` with the reason when the machine (not
    the file) failed.
    """
    with rare_collections():
        return _parse_batch(jobs, Layout(root))


def _parse_batch(jobs: list[ParseJob], layout: Layout) -> list[dict]:
    written: list[tuple[ParseJob, str, dict]] = []
    outcomes: list[dict] = []
    for group in _planned_groups(jobs):
        runs = [_run(job) for job in group]
        normalise_together([unit for run in runs for unit in run.plan()])
        for job, run in zip(group, runs):
            token, spend = new_outputs(layout, job.council_code, job.sha256)
            try:
                summary = write_parse(run, spend, fresh=True)
            except Exception as exc:
                outcomes.append(_retry(layout, job, token, exc))
                continue
            written.append((job, token, summary))
    _flush(layout, lambda: [p for job, token, _ in written for p in _outputs(layout, job, token)])
    for job, token, summary in written:
        try:
            parse = save_parse(layout, job.council_code, job.sha256, token, summary, PARSER_VERSION, durable=False)
        except Exception as exc:
            outcomes.append(_retry(layout, job, token, exc))
            continue
        outcomes.append(
            {"council_code": job.council_code, "sha256": job.sha256, "status": parse.status, "summary": parse.summary}
        )
    return outcomes


def _planned_groups(jobs: list[ParseJob]) -> list[list[ParseJob]]:
    """The batch's jobs in runs of at most ``PLANNED_BYTES`` of originals (a plan holds its files' rows in memory)."""
    groups: list[list[ParseJob]] = [[]]
    size = 0
    for job in jobs:
        job_size = job.raw_path.stat().st_size if job.raw_path.exists() else 0
        if groups[-1] and size + job_size > PLANNED_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(job)
        size += job_size
    return groups


def _run(job: ParseJob) -> ParseRun:
    return iter_parse(
        job.raw_path,
        council_code=job.council_code,
        source_url=job.url,
        sha256=job.sha256,
        dataset=job.dataset,
        columns=job.columns or None,
        encoding=job.encoding,
    )


def lost_batch(jobs: list[ParseJob], exc: BaseException) -> list[dict]:
    """The outcomes of a batch whose worker died: every file to be parsed again by the next run."""
    reason = "a parser process died (out of memory?)"
    return [{"council_code": job.council_code, "sha256": job.sha256, "retry": reason} for job in jobs]


def _retry(layout: Layout, job: ParseJob, token: str, exc: Exception) -> dict:
    """Discard a parse the machine interrupted and say why; an error of the parser itself is raised."""
    discard_outputs(layout, job.council_code, job.sha256, token)
    if not is_transient(exc):
        raise exc
    reason = f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError) and exc.filename else repr(exc)
    return {"council_code": job.council_code, "sha256": job.sha256, "retry": reason}


def _outputs(layout: Layout, job: ParseJob, token: str) -> list[Path]:
    return [p for p in output_paths(layout, job.council_code, job.sha256, token).values() if p.exists()]


def _flush(layout: Layout, written: Callable[[], list[Path]]) -> None:
    """Flush what a batch wrote to disk: the whole filesystem in one call where the system allows, else
    file by file (``written`` lists them, only then: naming every file costs more than the one call)."""
    if flush_filesystem(layout.work):
        return
    paths = written()
    for path in paths:
        fsync_file(path)
    for folder in {path.parent for path in paths}:
        fsync_dir(folder)
