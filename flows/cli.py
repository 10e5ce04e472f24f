"""The ``councilspend`` command line.

Every command takes its settings from flags or ``COUNCILSPEND_*`` environment variables
(``COUNCILSPEND_OUT``, ``COUNCILSPEND_SOURCES``, ``COUNCILSPEND_WORKERS``). User mistakes end
with a one-line message and exit code 2, never a traceback (``COUNCILSPEND_DEBUG=1`` shows it).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from normalise.store.layout import Layout

if TYPE_CHECKING:
    from crawler.selection import CrawlPlan

app = typer.Typer(
    help="Crawl, normalise, match and publish UK council spending data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
registers_app = typer.Typer(help="Load register bulk files.", no_args_is_help=True)
app.add_typer(registers_app, name="registers")
sources_app = typer.Typer(help="The sources config: where each council's files are looked for.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
console = Console(stderr=True)


def _output_folder(value: str) -> Path:
    """The folder the stages work in: ``--out`` itself, or the local working copy of an ``s3://`` URL."""
    from normalise.store.remote import RemoteError, local_folder

    try:
        return local_folder(value)
    except RemoteError as exc:
        raise typer.BadParameter(str(exc)) from None


Out = Annotated[
    Path,
    typer.Option(
        "--out",
        envvar="COUNCILSPEND_OUT",
        parser=_output_folder,
        help="Output folder, or s3://BUCKET/PREFIX (worked on in a local cache, published to the bucket).",
    ),
]
Sources = Annotated[
    Path | None,
    typer.Option("--sources", envvar="COUNCILSPEND_SOURCES", help="Sources config (YAML); default: the bundled one."),
]
Workers = Annotated[int, typer.Option("--workers", envvar="COUNCILSPEND_WORKERS", min=1, help="Parser processes.")]
Dask = Annotated[
    bool,
    typer.Option(
        "--dask",
        help="Parse, rebuild and match on Dask: the scheduler at COUNCILSPEND_DASK_ADDRESS (tcp://host:port), "
        "else a LocalCluster of --workers processes. Setting COUNCILSPEND_DASK_ADDRESS alone also uses Dask.",
    ),
]
Port = Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0: any free port).")]
#: Where ``match-names`` finds registers by default: those of the default output folder.
DEFAULT_REGISTERS = Layout(Path("data")).registers
Councils = Annotated[
    str | None,
    typer.Option("--councils", help="Comma-separated council codes (default: all the sources config covers)."),
]
Sample = Annotated[
    int | None,
    typer.Option("--sample", min=1, help="Only this many of the councils, the same ones each time (a trial run)."),
]
DryRun = Annotated[
    bool,
    typer.Option("--dry-run", help="Show which councils would be crawled, where and how; fetch and write nothing."),
]
CouncilRetries = Annotated[
    int,
    typer.Option(
        "--council-retries",
        envvar="COUNCILSPEND_COUNCIL_RETRIES",
        min=0,
        help="Crawl a council whose site did not answer again, up to this many times.",
    ),
]
RetryDelay = Annotated[
    float,
    typer.Option("--retry-delay", envvar="COUNCILSPEND_RETRY_DELAY", min=0, help="Seconds before each council retry."),
]


class UserError(Exception):
    """A mistake the user can fix; shown as one line."""


def _user_errors() -> tuple[type[Exception], ...]:
    from crawler.distributed import CoordinationError
    from flows.crawl import CrawlFailed
    from flows.normalise_files import ParsingIncomplete
    from flows.serve import ServeError
    from normalise.sources import SourcesError
    from normalise.store.lock import FolderLocked
    from normalise.store.remote import RemoteError

    # ReleaseError and RegisterFileError are ValueErrors: a taken release name or a bad file is one line.
    return (
        UserError,
        SourcesError,
        CrawlFailed,
        CoordinationError,
        ServeError,
        ParsingIncomplete,
        FolderLocked,
        RemoteError,
        OSError,
        csv.Error,
        KeyError,
        ValueError,
    )


def _message(exc: Exception) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return str(exc)


class _HideTracebacks(logging.Filter):
    """Prefect logs a user's mistake with a full traceback before we print it in one line: drop that copy."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.exc_info is None


def _quiet_prefect_tracebacks() -> None:
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).addFilter(_HideTracebacks())


def friendly(command: Callable) -> Callable:
    """Turn user mistakes into a clear message and exit code 2."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(os.environ.get("COUNCILSPEND_DEBUG"))
        if not debug:
            _quiet_prefect_tracebacks()  # errors that are not the user's still raise with their traceback
        try:
            return command(*args, **kwargs)
        except _user_errors() as exc:
            if debug:
                raise
            console.print(f"[red]error:[/red] {_message(exc)}", soft_wrap=True, highlight=False)
            raise typer.Exit(2) from None

    return wrapper


def _council_list(councils: str | None) -> list[str] | None:
    return [c.strip().upper() for c in councils.split(",") if c.strip()] if councils else None


def _sources_path(sources: Path | None) -> Path:
    """The sources config to use, checked before any flow starts."""
    from normalise.sources import bundled_path, load_sources

    if sources is not None and not sources.is_file():
        raise UserError(f"sources config {sources} does not exist")
    path = sources or bundled_path()
    load_sources(path)
    return path


def _plan(sources: Path | None, councils: str | None, sample: int | None) -> tuple[Path, CrawlPlan]:
    """The sources config and the councils to crawl, checked before any flow starts."""
    from crawler.selection import plan_crawl

    path = _sources_path(sources)
    return path, plan_crawl(path, _council_list(councils), sample)


def _chosen(plan: CrawlPlan, councils: str | None, sample: int | None) -> list[str] | None:
    """The councils to hand the flows: None (all the config covers) unless the user narrowed them."""
    return plan.codes if councils or sample else None


def _print_plan(plan: CrawlPlan, path: Path) -> None:
    """What a crawl of this plan would do, without a request."""
    from rich.table import Table

    from crawler.settings import CONCURRENT_REQUESTS_PER_DOMAIN, DOWNLOAD_DELAY, DOWNLOAD_TIMEOUT, USER_AGENT
    from normalise.councils import councils as registry

    table = Table(title=f"Dry run: {len(plan.codes)} councils from {path}", title_justify="left")
    for column in ("council", "how", "where"):
        table.add_column(column, overflow="fold")
    for code in plan.codes:
        name = f"{code} {registry()[code].nice_name}"
        source = plan.configured.get(code)
        if source is not None:
            places = [p.url for p in source.landing_pages] + [
                f"{c.base_url} ({', '.join(c.dataset_ids)})" for c in source.ckan
            ]
            table.add_row(name, f"{len(source.landing_pages)} pages, {len(source.ckan)} portals", "\n".join(places))
        else:
            fb = plan.fallback
            where = [
                f"portal search: {fb.ckan}" if fb and fb.ckan else "",
                f"directory: {fb.directory}" if fb and fb.directory else "",
            ]
            table.add_row(name, "fallback", "\n".join(w for w in where if w))
    console.print(table)
    console.print(
        f"per host: at most {CONCURRENT_REQUESTS_PER_DOMAIN} requests at once, {DOWNLOAD_DELAY:g} s apart or more "
        f"(AutoThrottle), {DOWNLOAD_TIMEOUT:g} s per request; robots.txt obeyed; User-Agent: {USER_AGENT}",
        highlight=False,
    )


def _require_crawl(out: Path) -> None:
    """Stages after the crawl need its manifest; say what to run instead of writing empty outputs."""
    from normalise.store.sync import crawled, output_name

    if not crawled(Layout(out)):
        shown = output_name(Layout(out))
        raise UserError(f"nothing crawled in {shown}: run `councilspend crawl --out {shown}` first")


def _holding(out: Path) -> AbstractContextManager[Layout]:
    """Hold the output folder for the command: a second run on it stops here, before any work."""
    from normalise.store.folder import open_folder

    return open_folder(out)


def _no_heartbeat() -> AbstractContextManager[object]:
    """Prefect's per-run heartbeat thread costs ~1 s a run and tells us nothing locally (NOTES.md)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    return temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})


@app.command()
@friendly
def crawl(
    out: Out = Path("data"),
    sources: Sources = None,
    councils: Councils = None,
    sample: Sample = None,
    dry_run: DryRun = False,
    council_retries: CouncilRetries = 2,
    retry_delay: RetryDelay = 300,
    redis: Annotated[
        str | None,
        typer.Option(
            "--redis",
            envvar="COUNCILSPEND_REDIS_URL",
            help="Share the crawl with every process started with this Redis server and crawl name (README: Deploying).",
        ),
    ] = None,
    crawl_name: Annotated[
        str | None,
        typer.Option(
            "--crawl-name",
            envvar="COUNCILSPEND_CRAWL_NAME",
            help="With --redis: the crawl to join (default: the ISO week).",
        ),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", help="With --redis: help a crawl another process leads; never lead it.")
    ] = False,
) -> None:
    """Crawl the councils' pages and download new or changed files (incremental)."""
    from flows.crawl import crawl_flow
    from flows.summary import council_lines, summary_table

    path, plan = _plan(sources, councils, sample)
    if dry_run:
        _print_plan(plan, path)
        return
    # a distributed crawl's leader takes the folder once it has joined; its followers never do
    with nullcontext() if redis else _holding(out), _no_heartbeat():
        chosen = _chosen(plan, councils, sample)
        result = crawl_flow(out, path, chosen, council_retries, retry_delay, redis, crawl_name, follow)
    record = result.record
    if result.follower:
        console.print(
            f"crawl {result.run_ids[0]}: {record.requests} requests, {record.files_new} new, "
            f"{record.files_changed} changed, {record.files_unchanged} unchanged, {record.files_failed} failed files; "
            "the leader records the whole crawl"
        )
        return
    console.print(summary_table(council_lines(out, result.run_ids)))
    console.print(
        f"crawl: {record.files_new} new, {record.files_changed} changed, "
        f"{record.files_unchanged} unchanged, {record.files_failed} failed files"
        f"{f', {record.councils_unreachable} councils unreachable' if record.councils_unreachable else ''} -> {out}"
    )
    if record.errors:
        console.print(
            f"[yellow]{record.errors} errors while crawling[/yellow]: see {Layout(out).crawl_log(result.run_ids[0])}"
        )
    files_seen = record.files_new + record.files_changed + record.files_unchanged + record.files_failed
    if record.errors and not files_seen:
        raise typer.Exit(1)


@app.command()
@friendly
def discover(
    page: Annotated[Path, typer.Argument(help="A saved council web page (HTML).")],
    base_url: Annotated[str, typer.Option("--base-url", help="The URL the page was saved from.")],
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="The kind the sources config would give the page, e.g. contracts.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the links and sub-pages as JSON.")] = False,
) -> None:
    """Show which files link discovery would fetch from a saved page, and why."""
    from crawler.discovery import read_links

    found = read_links(page.read_bytes(), base_url, dataset_hint=dataset)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "links": [link.record() for link in found.files],
                    "follow": [
                        {"url": sub.url, "text": sub.text, "pagination": sub.pagination, "resource": sub.resource}
                        for sub in found.follow
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    for link in found.files:
        period = f"{link.period_start or '?'}..{link.period_end or '?'}"
        why = link.evidence
        typer.echo(
            f"{link.format_guess:7} {link.dataset or '?':15} {period:22} {link.url}"
            f"  [format: {why.format or '-'}; kind: {why.kind or '-'}; period: {why.period or '-'}]"
        )
    for sub in found.follow:
        typer.echo(
            f"{'follow':7} {'resource page' if sub.resource else 'next page' if sub.pagination else 'sub-page':15} {'':22} {sub.url}"
        )
    if not found.files:
        console.print(f"no links to spend files found in {page}")


@app.command()
@friendly
def normalise(
    out: Out = Path("data"),
    sources: Sources = None,
    workers: Workers = 2,
    reparse: Annotated[
        bool, typer.Option("--reparse", help="Read the chosen files again, even if the parser has not changed.")
    ] = False,
    council: Annotated[
        str | None, typer.Option("--council", help="Comma-separated council codes: only their files.")
    ] = None,
    status: Annotated[
        list[str] | None,
        typer.Option("--status", help="With --reparse: only files whose last parse ended so (e.g. failed)."),
    ] = None,
    dask: Dask = False,
) -> None:
    """Parse every fetched file not yet parsed (or read by an older parser) and rebuild the councils it changes."""
    from flows.cluster import dask_address
    from flows.normalise_files import normalise_flow
    from normalise.schema import PARSE_STATUSES

    unknown = sorted(set(status or ()) - set(PARSE_STATUSES))
    if unknown:
        raise UserError(f"--status {', '.join(unknown)}: not a parse status (one of {', '.join(PARSE_STATUSES)})")
    if status and not reparse:
        raise UserError("--status chooses which parsed files to read again: use it with --reparse")
    _require_crawl(out)
    with _holding(out), _no_heartbeat():
        record = normalise_flow(
            out, _sources_path(sources), workers, reparse, _council_list(council), status, dask_address(dask)
        )
    console.print(f"normalise: {record.files_new} files parsed, {record.files_failed} not usable -> {out}")


@app.command()
@friendly
def parse(
    file: Annotated[Path, typer.Argument(help="A spend file (CSV, XLSX, XLS, ODS, ZIP, ...).")],
    council: Annotated[str | None, typer.Option("--council", help="Council code, e.g. BIR.")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the canonical rows here (Parquet; Arrow IPC when the name ends .arrow)."),
    ] = None,
) -> None:
    """Parse one file to the canonical schema and print a JSON summary."""
    from normalise.parsing.parse import parse_file, parse_to_files

    if not file.exists():
        raise UserError(f"{file} does not exist")
    code = council.upper() if council else None
    if out is not None:
        summary = parse_to_files(file, out, council_code=code)
    else:
        summary = parse_file(file, council_code=code).summary
    typer.echo(json.dumps(summary, indent=2, default=str))
    if summary.get("status") not in ("ok", "partial"):
        raise typer.Exit(1)


@sources_app.command("check")
@friendly
def sources_check(
    out: Out = Path("data"),
    sources: Sources = None,
    councils: Councils = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per council.")] = False,
) -> None:
    """Per council: what is configured, where its addresses came from, and what the last crawl found."""
    from rich.table import Table

    from normalise.councils import councils as registry
    from normalise.coverage import sources_check as check

    path, plan = _plan(sources, councils, None)
    rows = check(out, plan.configured, plan.unconfigured)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    table = Table(title=f"{len(rows)} councils in {path}; last crawls in {out}", title_justify="left")
    for column in ("council", "configured", "where from", "last crawl", "files", "newest", "failures"):
        table.add_column(column, overflow="fold")
    for r in rows:
        crawled = (r["last_crawled_at"] or "never")[:10]
        files = f"{r['files_stored']} of {r['files']}" + (f", {r['files_failed']} failed" if r["files_failed"] else "")
        failures = ("[red]unreachable[/red]\n" if r["unreachable"] else "") + "\n".join(r["failures"][:3])
        if len(r["failures"]) > 3:
            failures += f"\n… {len(r['failures']) - 3} more"
        table.add_row(
            f"{r['council_code']} {registry()[r['council_code']].nice_name}",
            r["configured"] + (f"\n(found via {', '.join(r['found_via'])})" if r["found_via"] else ""),
            "\n".join(line.split(": ", 1)[-1] for line in r["evidence"]),
            crawled,
            files,
            r["newest_period"] or "–",
            failures or "–",
        )
    console.print(table)


@registers_app.command("load")
@friendly
def registers_load(
    out: Out = Path("data"),
    companies: Annotated[list[str] | None, typer.Option(help="Companies House BasicCompanyData (path or URL).")] = None,
    charities: Annotated[list[str] | None, typer.Option(help="Charity Commission public extract.")] = None,
    oscr: Annotated[list[str] | None, typer.Option(help="OSCR charity register export.")] = None,
    ccni: Annotated[list[str] | None, typer.Option(help="Charity Commission for Northern Ireland CSV.")] = None,
    mutuals: Annotated[list[str] | None, typer.Option(help="FCA Mutuals Public Register export.")] = None,
    links: Annotated[
        list[str] | None,
        typer.Option(help="Link table: CSV with org_id_a,org_id_b[,relationship,source] (find-that-charity's form)."),
    ] = None,
    same_name_links: Annotated[
        bool,
        typer.Option(help="Join a charity and a company of one jurisdiction that alone share a name (see README)."),
    ] = True,
) -> None:
    """Load register bulk files and link tables (paths or URLs, zipped or not) into Parquet under OUT/registers."""
    from flows.match import registers_flow

    given_files = (
        *(companies or ()),
        *(charities or ()),
        *(oscr or ()),
        *(ccni or ()),
        *(mutuals or ()),
        *(links or ()),
    )
    for given in given_files:
        if not given.startswith(("http://", "https://")) and not Path(given).exists():
            raise UserError(f"{given} does not exist")
    with _holding(out), _no_heartbeat():
        counts = registers_flow(
            out, companies or (), charities or (), oscr or (), ccni or (), mutuals or (), links or (), same_name_links
        )
    for name, n in counts.items():
        console.print(
            f"{name}: {n:,} {'links' if name.endswith('links') or name == 'link_tables' else 'organisations'}"
        )


@app.command()
@friendly
def match(
    out: Out = Path("data"),
    overrides: Annotated[Path | None, typer.Option(help="CSV supplier_name,org_id of your own corrections.")] = None,
    dask: Dask = False,
    workers: Workers = 2,
) -> None:
    """Match every council's suppliers to the loaded registers (writes suppliers.parquet)."""
    from flows.cluster import dask_address
    from flows.match import match_flow

    _require_crawl(out)
    with _holding(out), _no_heartbeat():
        match_flow(out, overrides, dask_address(dask), workers)
    console.print(f"suppliers -> {Layout(out).table('suppliers')}")


@app.command("match-names")
@friendly
def match_names(
    names: Annotated[Path, typer.Argument(help="CSV of names: a column 'name', or the first column.")],
    registers: Annotated[Path, typer.Option(help="Folder of loaded registers.")] = DEFAULT_REGISTERS,
    out: Annotated[Path | None, typer.Option(help="Write results here (CSV); default: standard output.")] = None,
    overrides: Annotated[Path | None, typer.Option(help="CSV supplier_name,org_id of corrections.")] = None,
) -> None:
    """Reconcile your own list of names against the registers."""
    from normalise.matching.matcher import match_csv

    if not names.exists():
        raise UserError(f"{names} does not exist")
    if not any(registers.glob("*.parquet")):
        raise UserError(f"no registers in {registers}: run `councilspend registers load` first")
    result = match_csv(names, registers, out, overrides=overrides)
    if out is None:
        result.to_csv(sys.stdout, index=False)


@app.command("match-eval")
@friendly
def match_eval(
    out: Out = Path("data"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Score a demo run's supplier matches against the mock web's answer key (precision, recall)."""
    from mockweb.scoring import metrics_table, score_suppliers

    result = score_suppliers(out)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(metrics_table(result).to_string(float_format=lambda x: f"{x:.3f}"))
        typer.echo(
            f"on correct matches: sector agrees {result['sector_agreement']:.3f}, "
            f"size band agrees {result['size_band_agreement']:.3f}"
        )


@app.command()
@friendly
def compliance(
    out: Out = Path("data"),
    as_of: Annotated[str | None, typer.Option("--as-of", help="Judge deadlines as of this date (YYYY-MM-DD).")] = None,
) -> None:
    """Compute the compliance table and HTML report."""
    from flows.publish import compliance_flow

    when = _as_of(as_of)
    _require_crawl(out)
    with _holding(out), _no_heartbeat():
        index = compliance_flow(out, when)
    console.print(f"compliance report: {index}")


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"--as-of must be a date like 2025-10-31, not {value!r}") from None


@app.command()
@friendly
def publish(
    out: Out = Path("data"),
    release: Annotated[
        str | None,
        typer.Option(help="Also write the immutable release NAME (releases/NAME: data, CSV, checksums, changelog)."),
    ] = None,
) -> None:
    """Write datapackage.json, the data dictionary and councilspend.duckdb over the Parquet files."""
    from flows.publish import publish_flow

    _require_crawl(out)
    with _holding(out), _no_heartbeat():
        paths = publish_flow(out, release)
    for name, path in paths.items():
        console.print(f"{name}: {path}")


@app.command()
@friendly
def run(
    out: Out = Path("data"),
    sources: Sources = None,
    councils: Councils = None,
    workers: Workers = 2,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Judge compliance as of this date.")] = None,
    sample: Sample = None,
    dry_run: DryRun = False,
    council_retries: CouncilRetries = 2,
    retry_delay: RetryDelay = 300,
    dask: Dask = False,
) -> None:
    """The national flow: crawl -> normalise -> match -> compliance -> publish."""
    from flows.cluster import dask_address
    from flows.national import NationalRun, national_flow
    from flows.summary import council_lines, summary_table

    path, plan = _plan(sources, councils, sample)
    when = _as_of(as_of)
    if dry_run:
        _print_plan(plan, path)
        console.print(
            f"then: normalise ({workers} workers), match, compliance as of {when or 'today'}, publish -> {out}"
        )
        return
    job = NationalRun(
        out=out,
        sources=path,
        councils=_chosen(plan, councils, sample),
        as_of=when,
        workers=workers,
        council_retries=council_retries,
        retry_delay=retry_delay,
        dask=dask_address(dask),
    )
    with _holding(out), _no_heartbeat():
        result = national_flow(job)
    console.print(summary_table(council_lines(out, result.crawl.run_ids)))
    console.print(f"done: report at {result.report}")


@app.command()
@friendly
def serve(
    cron: Annotated[
        str, typer.Option("--cron", help="When to run, as cron (default: Mondays at 02:00).")
    ] = "0 2 * * 1",
    out: Out = Path("data"),
    sources: Sources = None,
    councils: Councils = None,
    sample: Sample = None,
    workers: Workers = 2,
    council_retries: CouncilRetries = 2,
    retry_delay: RetryDelay = 300,
    name: Annotated[str, typer.Option("--name", help="Name of the deployment.")] = "weekly",
    prefect_port: Annotated[
        int, typer.Option("--prefect-port", min=0, max=65535, help="Port of the local Prefect server (0: any).")
    ] = 0,
) -> None:
    """Serve the national flow as a scheduled Prefect deployment until interrupted.

    Uses the Prefect server named by PREFECT_API_URL, or starts a local one on 127.0.0.1.
    """
    from flows.serve import check_cron
    from flows.serve import serve as serve_deployment

    check_cron(cron)
    path, plan = _plan(sources, councils, sample)
    parameters = {
        "out": str(out.resolve()),
        "sources": str(path.resolve()),
        "councils": _council_list(councils),
        "sample": sample,
        "workers": workers,
        "council_retries": council_retries,
        "retry_delay": retry_delay,
    }
    console.print(f"serving the national flow for {len(plan.codes)} councils on the schedule {cron!r} -> {out}")
    serve_deployment(name, cron, parameters, prefect_port)
    console.print("stopped")


@app.command()
@friendly
def mockweb(
    port: Port = 8765,
    councils: Annotated[int, typer.Option(help="How many synthetic councils.")] = 12,
    faults: Annotated[
        bool,
        typer.Option(help="Add hostile cases (broken files, dropped connections, 429s, a council whose site is down)."),
    ] = False,
    council_hosts: Annotated[
        bool, typer.Option(help="Serve each council on its own loopback address too (127.0.1.1, ...).")
    ] = False,
    root: Annotated[Path, typer.Option(help="Where to generate the site.")] = Path("mockweb-site"),
    years: Annotated[
        int | None,
        typer.Option(min=1, help="Years of monthly files up to September 2026 (default: from April 2024)."),
    ] = None,
) -> None:
    """Serve the mock council web on 127.0.0.1 until interrupted."""
    from mockweb.generate import generate
    from mockweb.server import MockWeb, MockWebError

    site = generate(root, councils=councils, faults=faults, years=years)
    try:
        with MockWeb(site.root, port=port, council_hosts=council_hosts) as web:
            yaml_text = site.sources_yaml(web.base_url, web.council_base_urls())
            (root / "sources.yaml").write_text(yaml_text, encoding="utf-8")
            console.print(
                f"mock council web for {len(site.council_codes)} councils at {web.base_url}/ "
                f"(sources config: {root / 'sources.yaml'}); Ctrl-C stops it"
            )
            threading.Event().wait()
    except MockWebError as exc:
        raise UserError(f"{exc} (choose another with --port)") from None
    except KeyboardInterrupt:
        console.print("stopped")


@app.command()
@friendly
def demo(
    out: Out = Path("data"),
    councils: Annotated[int, typer.Option(help="How many synthetic councils.")] = 12,
    port: Port = 8765,
    workers: Workers = 2,
) -> None:
    """Run the whole national flow offline against the bundled mock council web."""
    from flows.demo import run_demo
    from mockweb.server import MockWebError

    try:
        with _holding(out):
            run_demo(out, councils=councils, port=port, workers=workers, console=console)
    except MockWebError as exc:
        raise UserError(f"{exc} (choose another with --port)") from None


if __name__ == "__main__":
    app()
