"""Read one published file into canonical rows (spend or contracts) and rejects, streaming.

``iter_parse`` is the engine: it sniffs the format, finds each grid's header,
maps columns from headers and values, follows header rows further down, and
turns every batch of rows into a table and a rejects table with pyarrow
compute. ``parse_file`` collects the batches in memory; ``parse_to_files``
writes them to Parquet (or Arrow IPC) as they come, so memory stays flat. Nothing here raises
for a bad file: the summary's status and error say why.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from normalise import schema
from normalise.parsing.columns import Choice, column_values
from normalise.parsing.contracts import normalise_contracts
from normalise.parsing.council_inference import infer_council
from normalise.parsing.datasets import adapt_to_dataset, dataset_from_values, detect_dataset, not_spend_reason
from normalise.parsing.header import find_header
from normalise.parsing.rowfacts import Origin, Source, finished_rows, provenance, row_facts
from normalise.parsing.rowid import OccurrenceCounter, counted_row_ids
from normalise.parsing.rows import VALUE_ERRORS, Normalised, normalise_spend
from normalise.parsing.sheet import Part, Sheet, segments
from normalise.parsing.sniff import sniff_format
from normalise.parsing.tables import HEAD_BYTES, Grid, UnreadableFile, open_grids, prefetched
from normalise.parsing.values import decide_dayfirst, period_in_text
from normalise.parsing.vocabulary import readings
from normalise.store.errors import is_transient, naming
from normalise.store.raw import sha256_of

IPC_BUFFER_BYTES = 1 << 18
#: Largest workbook planned with others (:meth:`ParseRun.plan`): its sheets are held in memory, and zipped XML
#: inflates tens of times
PLANNED_WORKBOOK_BYTES = 256 << 10
_WORKBOOKS = ("xlsx", "xls", "ods")
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"RIFF")
#: columns a file that maps them must not leave empty (the summary then says ``partial``)
MUST_FILL = {"spend": ("payment_date", "supplier_name"), "contracts": ("supplier_name", "value")}
_FAILED = ("failed", "not_machine_readable", "not_spend")


class _Inline:
    """An executor that runs each call at once: a small file is not worth a thread."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn: Callable[..., object], *args: object) -> Future:
        future: Future = Future()
        future.set_result(fn(*args))
        return future


class NotParseable(Exception):
    """A file that holds no rows to read; ``status`` says which kind."""

    def __init__(self, status: str, error: str) -> None:
        super().__init__(error)
        self.status = status


@dataclass
class ParseResult:
    """Everything read from one file: spend rows, or contracts rows for a contracts register."""

    status: str
    spend: pa.Table
    rejects: pa.Table
    summary: dict
    contracts: pa.Table = field(default_factory=lambda: schema.empty_table("contracts"))


@dataclass
class _Tally:
    rows: int = 0
    blank_rows: int = 0
    rejected: Counter = field(default_factory=Counter)
    issues: Counter = field(default_factory=Counter)
    filled: Counter = field(default_factory=Counter)
    total: Decimal = Decimal("0.00")
    date_min: dt.date | None = None
    date_max: dt.date | None = None
    precision_of_max: str | None = None


@dataclass
class Unit:
    """A part of a sheet's rows to normalise, with the header cells and mapping in force where it was cut
    (a header further down re-maps the sheet for the rows after it); ``normalised`` once done."""

    sheet: Sheet
    part: Part
    source: Source
    cells: list[str]
    choices: dict[str, Choice]
    normalised: Normalised | None = None


class ParseRun:
    """A streaming parse of one file: iterate for (rows, rejects) batches; ``summary`` is complete afterwards.

    ``table`` says which table the rows belong to (``spend``, or ``contracts`` for a contracts register).
    """

    def __init__(
        self,
        path: Path,
        *,
        council_code: str | None = None,
        source_url: str | None = None,
        sha256: str | None = None,
        dataset: str | None = None,
        columns: dict[str, str] | None = None,
        encoding: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.council_code = council_code.upper() if council_code else None
        self.source_url = source_url
        self.sha256 = sha256
        self.hint = dataset
        self.dataset: str | None = None
        self.table: str | None = None
        self.overrides = columns or {}
        self.encoding = encoding
        self.summary: dict = {}
        self._tally = _Tally()
        self._counter = OccurrenceCounter()
        self._batches: Iterator[tuple[pa.Table, pa.Table]] | None = None
        self._planned: list[Unit] | None = None  # a planned file's units, until they are written
        self._plan_error: Exception | None = None
        self._head_bytes: bytes | None = None

    def __iter__(self) -> ParseRun:
        return self

    def __next__(self) -> tuple[pa.Table, pa.Table]:
        if self._batches is None:
            self._batches = self._run()
        return next(self._batches)

    def plan(self) -> list[Unit]:
        """Read and judge the whole file now, its rows cut into units not yet normalised; iterating the run
        later normalises them (those another caller has not already normalised, see :mod:`.together`).

        Only a file held in memory anyway is planned: a CSV within ``HEAD_BYTES``, a workbook of at most
        ``PLANNED_WORKBOOK_BYTES``, never compressed content (its size says nothing of what it holds).
        Any other file plans nothing and is read as it is iterated; one that cannot be read fails then.
        """
        self._start()
        try:
            size = self.path.stat().st_size
            fmt = sniff_format(self._head())
            if not ((fmt == "csv" and size < HEAD_BYTES) or (fmt in _WORKBOOKS and size <= PLANNED_WORKBOOK_BYTES)):
                return []
            self._planned = list(self._units(self.summary))
        except Exception as exc:  # raised again where the run records its errors, when iterated
            self._plan_error = exc
            return []
        return self._planned

    def _head(self) -> bytes:
        """The file's first bytes (its format's signature), read once."""
        if self._head_bytes is None:
            with open(self.path, "rb") as fh:
                self._head_bytes = fh.read(8192)
        return self._head_bytes

    def _start(self) -> None:
        if self.summary:
            return
        self.summary = {
            "file": str(self.path),
            "status": "failed",
            "format": None,
            "encoding": None,
            "table": None,
            "sheets": [],
            "header_row": {},
            "columns": {},
            "columns_mapped": [],
            "dataset": self.hint,
            "council_code": self.council_code,
            "error": None,
        }

    def _run(self) -> Iterator[tuple[pa.Table, pa.Table]]:
        self._start()
        summary = self.summary
        try:
            yield from self._parse(summary)
        except NotParseable as exc:
            summary["status"], summary["error"] = exc.status, str(exc)
        except UnreadableFile as exc:
            summary["status"], summary["error"] = "failed", str(exc)
        except Exception as exc:  # a file we did not foresee must be recorded, never crash a crawl
            if is_transient(exc):
                raise  # a full disk or exhausted memory says nothing about the file: parse it again later
            reason = f"cannot read the file: {exc}" if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"
            summary["status"], summary["error"] = "failed", reason
        self._finish(summary)

    # -------------------------------------------------------------- file level

    def _parse(self, summary: dict) -> Iterator[tuple[pa.Table, pa.Table]]:
        if self._plan_error is not None:
            raise self._plan_error
        units = self._units(summary) if self._planned is None else iter(self._planned)
        # Unit i+1 is read and normalised (pyarrow, mostly without the GIL) while unit i gets its row ids.
        threaded = self._planned is None and self.path.stat().st_size >= HEAD_BYTES
        normalised = ((unit, self._counted(self._normalise(unit))) for unit in units)
        for unit, done in prefetched(normalised, threaded=threaded):
            yield self._finish_rows(unit, done), done.rejects
        if self._planned is not None:
            self._planned = []  # a planned file's rows are not held past their writing

    def _units(self, summary: dict) -> Iterator[Unit]:
        """The file's rows as units to normalise, each sheet judged (header, mapping) as its rows come."""
        self.sha256 = self.sha256 or sha256_of(self.path)
        summary["sha256"] = self.sha256
        head = self._head()
        fmt = sniff_format(head)
        summary["format"] = fmt
        if fmt in ("pdf", "html"):
            raise NotParseable("not_machine_readable", f"{fmt.upper()} document, not a data file")
        if fmt == "unknown":
            if head.startswith(_IMAGE_MAGIC):
                raise NotParseable("not_machine_readable", "image, not a data file")
            raise NotParseable("failed", "unrecognised binary content" if head else "empty file (0 bytes)")
        reasons: dict[str, str] = {}
        for grid in open_grids(self.path, fmt, self.encoding):
            summary["encoding"] = summary["encoding"] or grid.encoding
            sheet = self._prepare(grid, reasons)
            if sheet is None:
                continue
            self._record_sheet(summary, sheet)
            source = Source(self.council_code or "UNKNOWN", self.sha256 or "", self.source_url)
            for batch in grid.body(sheet.header_index + sheet.header_rows, sheet.width):
                for part in segments(sheet, batch):
                    yield Unit(sheet, part, source, sheet.cells, sheet.choices)
            if sheet.remapped:
                summary.setdefault("remapped", {})[sheet.name or ""] = sheet.remapped
                for remap in sheet.remapped:  # columns only a later header names still count as provided
                    for canon, described in remap["columns"].items():
                        summary["columns"].setdefault(canon, described)
            if grid.notes.get("mixed_encoding"):
                summary["encoding"] = f"{grid.encoding} (stray {grid.notes['mixed_encoding']} bytes)"
        if reasons:
            summary["skipped_sheets"] = reasons
        if not summary["sheets"]:
            raise NotParseable("not_spend", "; ".join(dict.fromkeys(reasons.values())) or "no table found")

    @staticmethod
    def _normalise(unit: Unit) -> Normalised:
        """A unit's rows normalised under the mapping in force where it was cut (unless done already, with others)."""
        if unit.normalised is not None:
            return unit.normalised
        sheet = unit.sheet
        sheet.cells, sheet.choices = unit.cells, unit.choices
        normalise = normalise_contracts if sheet.kind == "contracts" else normalise_spend
        return normalise(sheet, unit.part, unit.source)

    def _prepare(self, grid: Grid, reasons: dict[str, str]) -> Sheet | None:
        """The sheet's header, mapping, kind and dataset; None (with the reason noted) when it holds no rows to read."""
        where = grid.sheet or ""
        if grid.refused:
            reasons[where] = grid.refused
            return None
        header = find_header(grid.head, self.overrides, registers=self.hint == schema.CONTRACTS_DATASET)
        if header is None:
            if any(any(c.strip() for c in row) for row in grid.head):
                reasons[where] = "no header row naming an amount and a supplier" + _where(grid)
            return None
        sample = grid.notes.get("sample", grid.head)[header.body_start :]
        choices = dict(header.choices)
        if header.kind == "spend":
            if "amount" not in choices and "gross_amount" in choices:
                gross = choices["gross_amount"]
                choices["amount"] = Choice(gross.index, gross.source, "derived", gross.score, gross.values)
            if reason := not_spend_reason(header.cells, choices, sample, header.profiles):
                reasons[where] = reason + _where(grid)
                return None
        if self.table is not None and header.kind != self.table:
            reasons[where] = f"a {header.kind} table in a file of {self.table}" + _where(grid)
            return None
        self.table = header.kind
        for canon, why in header.distrusted.items():
            self.summary.setdefault("distrusted", {}).setdefault(canon, why + _where(grid))
        dataset = self._dataset(header.kind, header.cells, choices, sample)
        choices = adapt_to_dataset(choices, header.cells, dataset)
        titles = [" ".join(c for c in row if c.strip()) for row in grid.head[: header.index]]
        if self.council_code is None:
            bodies = [i for i, c in enumerate(header.cells) if any(r.field == "body" for r in readings(c))]
            values = [v for i in bodies for v in column_values(sample, i)]
            self.council_code = infer_council(values, titles) or "UNKNOWN"
        date_columns = [c for canon, c in choices.items() if canon in ("payment_date", "start_date")]
        dayfirst = decide_dayfirst([v for c in date_columns for v in column_values(sample, c.index)])
        period = None
        if header.kind == "spend" and "payment_date" not in choices:
            period = _period_from_titles(titles + ([grid.sheet] if grid.sheet else []), dayfirst)
        return Sheet(
            grid=grid,
            kind=header.kind,
            header_index=header.index,
            header_rows=header.rows,
            cells=header.cells,
            width=header.width,
            choices=choices,
            dataset=dataset,
            dayfirst=dayfirst,
            period=period,
            overrides=self.overrides,
        )

    def _dataset(self, kind: str, cells: list[str], choices: dict[str, Choice], sample: list[list[str]]) -> str:
        """The header's words first, then the hint from the link, then the values, else spend over £500."""
        if kind == "contracts":
            dataset = schema.CONTRACTS_DATASET
        else:
            hint = self.hint if self.hint in schema.DATASETS else None
            dataset = detect_dataset(cells, choices) or hint or dataset_from_values(sample, choices) or "spend_over_500"
        self.dataset = self.dataset or dataset
        return dataset

    def _record_sheet(self, summary: dict, sheet: Sheet) -> None:
        name = sheet.name or ""
        summary["sheets"].append(name)
        summary["header_row"][name] = sheet.header_index + 1
        for canon, choice in sheet.choices.items():
            summary["columns"].setdefault(canon, choice.summary())
        if sheet.period:
            summary["columns"].setdefault("payment_date", {"source": sheet.period[2], "how": "title", "score": 100.0})
        if "charity_number_published" in sheet.choices and "company_number_published" not in sheet.choices:
            source = sheet.choices["charity_number_published"].source
            summary["columns"].setdefault(
                "company_number_published", {"source": source, "how": "derived", "score": 100.0}
            )
        summary["table"] = self.table
        summary["dataset"] = self.dataset
        summary["council_code"] = self.council_code

    # -------------------------------------------------------------- batch level

    def _counted(self, normalised: Normalised) -> Normalised:
        """Count what a part dropped (blank rows, rejects by reason) as it passes, in the worker thread."""
        self._tally.blank_rows += normalised.blank
        if normalised.rejects.num_rows:
            self._tally.rejected.update(normalised.rejects.column("reason").to_pylist())
        return normalised

    def _finish_rows(self, unit: Unit, done: Normalised) -> pa.Table:
        """Row ids, supplier keys, redaction and provenance on a part's kept rows (finished already with alike files', or now)."""
        sheet, rows = unit.sheet, done.rows
        facts = done.facts or row_facts(sheet.kind, sheet.dataset, unit.source.council_code, rows)
        finished = done.finished
        if finished is None:
            columns = provenance([Origin(rows.num_rows, unit.source, sheet.name)], rows.num_rows)
            finished = finished_rows(sheet.kind, sheet.dataset, rows, facts, columns)
        ids = counted_row_ids(facts.identities, facts.first_ids, facts.keys, self._counter)
        if ids is not facts.first_ids:  # an identity repeated in this file: its later rows count the earlier ones
            index = finished.schema.get_field_index("row_id")
            finished = finished.set_column(index, finished.field(index), ids)
        self._count(sheet, finished)
        return finished

    def _count(self, sheet: Sheet, table: pa.Table) -> None:
        tally = self._tally
        tally.rows += table.num_rows
        if not table.num_rows:
            return
        for name in MUST_FILL[sheet.kind]:
            tally.filled[name] += table.num_rows - table.column(name).null_count
        issues = table.column("row_issues")
        if issues.null_count < len(issues):
            counts = pc.value_counts(pc.list_flatten(issues))
            tally.issues.update(dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist())))
        money, dates = ("amount", "payment_date") if sheet.kind == "spend" else ("value", "start_date")
        tally.total += pc.sum(table.column(money)).as_py() or Decimal(0)
        column = table.column(dates)
        low, high = pc.min(column).as_py(), pc.max(column).as_py()
        if low and (tally.date_min is None or low < tally.date_min):
            tally.date_min = low
        if high and (tally.date_max is None or high > tally.date_max):
            tally.date_max = high
            if sheet.kind == "spend":
                at_max = pc.filter(table.column("date_precision"), pc.equal(column, pa.scalar(high, pa.date32())))
                tally.precision_of_max = at_max[0].as_py() if len(at_max) else "day"
            else:
                tally.precision_of_max = "day"

    def _finish(self, summary: dict) -> None:
        tally = self._tally
        if summary["error"] is None:
            summary["status"], summary["error"] = self._status(summary)
        summary.update(
            rows=tally.rows,
            rejected=dict(tally.rejected),
            rows_rejected=sum(tally.rejected.values()),
            row_issues=dict(tally.issues),
            blank_rows=tally.blank_rows,
            columns_mapped=sorted(set(summary["columns"]) & set(schema.arrow_schema(self.table or "spend").names)),
            total_amount=str(tally.total.quantize(Decimal("0.01"))),
            date_min=_iso(tally.date_min),
            date_max=_iso(tally.date_max),
            period_start=_iso(tally.date_min.replace(day=1)) if tally.date_min else None,
            period_end=_iso(_period_end(tally.date_max, tally.precision_of_max)) if tally.date_max else None,
            council_code=self.council_code or "UNKNOWN",
            dataset=self.dataset or self.hint,
            table=self.table,
        )
        if self.table == "contracts" and tally.date_max:
            start, end = _quarter(tally.date_max)  # a register is as current as its latest contract
            summary.update(period_start=_iso(start), period_end=_iso(end))

    def _status(self, summary: dict) -> tuple[str, str | None]:
        """ok, partial (values not read), empty (a header and no rows) or failed (no row could be read), and why."""
        tally = self._tally
        errors = sum(tally.rejected[r] for r in VALUE_ERRORS)
        if tally.rows == 0:
            return (
                ("failed", f"no row could be read ({errors} rows with bad values)")
                if errors
                else ("empty", "a header and no rows")
            )
        distrusted = summary.get("distrusted", {})
        columns = summary["columns"]
        empty = [  # a column the file has (by its header) of which nothing was read
            f"{name} ({distrusted.get(name) or columns[name]['source']})"
            for name in MUST_FILL.get(self.table or "spend", ())
            if not tally.filled[name]
            and (name in distrusted or columns.get(name, {}).get("how") not in (None, "title"))
        ]
        unreadable = sum(n for issue, n in tally.issues.items() if issue.startswith("unparseable_"))
        if empty:
            return "partial", "nothing read for " + "; ".join(empty)
        return ("partial" if errors or unreadable else "ok"), None


# ------------------------------------------------------------------ public API


def iter_parse(path: Path, **kwargs: object) -> ParseRun:
    """A streaming parse: ``for rows, rejects in run: ...`` then ``run.summary`` (``run.table`` names the table)."""
    return ParseRun(path, **kwargs)  # type: ignore[arg-type]


def parse_file(path: Path, **kwargs: object) -> ParseResult:
    """Parse one file in memory (see :func:`iter_parse` for the keyword arguments)."""
    run = iter_parse(path, **kwargs)
    rows, rejects = [], []
    for r, j in run:
        rows.append(r)
        rejects.append(j)
    table = run.table or "spend"
    rows_table = pa.concat_tables(rows) if rows else schema.empty_table(table)
    rejects_table = pa.concat_tables(rejects) if rejects else schema.empty_table("rejects")
    if run.summary["status"] in _FAILED:
        rows_table, rejects_table = schema.empty_table(table), schema.empty_table("rejects")
    if table == "contracts":
        return ParseResult(run.summary["status"], schema.empty_table("spend"), rejects_table, run.summary, rows_table)
    return ParseResult(run.summary["status"], rows_table, rejects_table, run.summary)


def rejects_path(out_path: Path) -> Path:
    """Where ``parse_to_files`` writes the rejects beside the spend file, in the same format.

    >>> rejects_path(Path("out/a.parquet")).as_posix(), rejects_path(Path("out/a.arrow")).as_posix()
    ('out/a.rejects.parquet', 'out/a.rejects.arrow')
    """
    return _beside(Path(out_path), "rejects")


def contracts_path(out_path: Path) -> Path:
    """Where ``parse_to_files`` writes the rows of a contracts register beside the (empty) spend file.

    >>> contracts_path(Path("out/a.parquet")).as_posix()
    'out/a.contracts.parquet'
    """
    return _beside(Path(out_path), "contracts")


def _beside(out_path: Path, table: str) -> Path:
    return out_path.with_name(output_name(out_path.stem, table, out_path.suffix))


def output_name(stem: str, table: str, suffix: str) -> str:
    """The name of a parse's file of ``table``: the spend file's own, the others' beside it.

    >>> output_name("a", "spend", ".arrow"), output_name("a", "rejects", ".arrow")
    ('a.arrow', 'a.rejects.arrow')
    """
    return f"{stem}{suffix}" if table == "spend" else f"{stem}.{table}{suffix}"


class _TableWriter:
    """Batches of one table into a file: Parquet (to publish or hand to a user), or an Arrow IPC file (the work
    area's private copy: several times cheaper to write and to read back than Parquet).

    ``arrow`` is None for Parquet, else whether to compress (LZ4): worth it for a large source file, whose
    rows dominate the work area's size, not for the many small ones, where it would cost more time than it saves room.
    """

    def __init__(self, path: Path, table: str, arrow: bool | None) -> None:
        self._schema = schema.arrow_schema(table)
        self._writer: pq.ParquetWriter | pa.ipc.RecordBatchFileWriter
        self._sink: pa.NativeFile | None = None
        if arrow is not None:
            options = pa.ipc.IpcWriteOptions(compression="lz4" if arrow else None)
            # buffered: the IPC writer writes every buffer of every column apart, a system call each
            self._sink = pa.output_stream(str(path), buffer_size=IPC_BUFFER_BYTES)
            self._writer = pa.ipc.new_file(self._sink, self._schema, options=options)
        else:
            self._writer = pq.ParquetWriter(
                path, self._schema, compression="zstd", use_dictionary=schema.dictionary_columns(table)
            )

    def write(self, rows: pa.Table) -> None:
        self._writer.write_table(rows)

    def close(self) -> None:
        try:
            self._writer.close()
        finally:
            if self._sink is not None:
                self._sink.close()


def read_output(path: Path, table: str) -> pa.Table:
    """One file ``parse_to_files`` wrote (Parquet or Arrow IPC, by its suffix), conformed to ``table``."""
    if Path(path).suffix == ".arrow":
        # read whole into memory (not mapped: the table outlives any change to the file), in one call: an Arrow
        # file opened as a stream is read piece by piece (footer, schema, each batch), several times slower
        with open(path, "rb") as source:
            rows = pa.ipc.open_file(pa.py_buffer(source.read())).read_all()
    else:
        rows = pq.ParquetFile(path).read(use_threads=False)
    return schema.conform(rows, table)


def parse_to_files(path: Path, out_path: Path, *, fresh: bool = False, **kwargs: object) -> dict:
    """Stream one file's rows into ``out_path`` (spend, always written unless ``fresh``) or beside it (contracts), its rejects beside
    it when there are any (see :func:`rejects_path`, :func:`contracts_path`); return the summary.

    ``out_path`` ending ``.arrow`` writes Arrow IPC files (see :class:`_TableWriter`), anything else Parquet.
    Each file is written under a temporary name and renamed into place, and an old file of a table not
    written this time is removed; ``fresh`` says the paths are new names nobody reads until told (the
    store's work area, whose commit point is the parse summary, which lists the files written), so they
    are written in place and a table without rows (spend too) gets no file.
    """
    return write_parse(iter_parse(path, **kwargs), out_path, fresh=fresh)


def write_parse(run: ParseRun, out_path: Path, *, fresh: bool = False) -> dict:
    """Run a parse (planned or not) into files as :func:`parse_to_files` does; return the summary."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    large = run.path.stat().st_size >= HEAD_BYTES
    arrow = large if out_path.suffix == ".arrow" else None
    targets = {"spend": out_path, "contracts": contracts_path(out_path), "rejects": rejects_path(out_path)}
    temporary = targets if fresh else {name: p.with_suffix(".partial") for name, p in targets.items()}
    writers: dict[str, _TableWriter] = {}

    def writer(name: str) -> _TableWriter:
        if name not in writers:
            writers[name] = _TableWriter(temporary[name], name, arrow)
        return writers[name]

    def write_batch(table_name: str, rows: pa.Table, rejects: pa.Table) -> None:
        if rows.num_rows:
            writer(table_name).write(rows)
        if rejects.num_rows:
            writer("rejects").write(rejects)

    # A large file's batches are written (without the GIL) while the next is parsed; a small one's in turn.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="writer") if large else _Inline() as pool:
        pending: Future | None = None
        try:
            for rows, rejects in run:
                if pending is not None:
                    pending.result()
                pending = pool.submit(write_batch, run.table or "spend", rows, rejects)
            if pending is not None:
                pending.result()
        except (OSError, pa.ArrowException) as exc:
            if isinstance(exc, OSError) and is_transient(exc):
                raise naming(exc, out_path) from None  # a full disk says nothing about the file
            run.summary.update(status="failed", error=f"cannot write {out_path}: {exc}")
        finally:
            for w in writers.values():
                w.close()
    failed = run.summary["status"] in _FAILED
    kept = {"spend"} | ({"contracts"} if run.table == "contracts" and not failed else set())
    kept |= {"rejects"} if "rejects" in writers and not failed else set()
    if fresh:  # the work area: a table without rows gets no file (a quarter of a national crawl's files keep no rows)
        kept &= set() if failed else set(writers)
    for name in ("spend", "rejects", "contracts"):
        if name not in kept:  # nothing of it (no register, nothing rejected): no file, not even an old one
            if name in writers or not fresh:
                temporary[name].unlink(missing_ok=True)
                targets[name].unlink(missing_ok=True)
            continue
        if failed or name not in writers:
            empty = _TableWriter(temporary[name], name, arrow)
            empty.close()
        if not fresh:
            temporary[name].replace(targets[name])
    return run.summary


# ------------------------------------------------------------------ helpers


def _period_from_titles(titles: list[str], dayfirst: bool) -> tuple[dt.date, str, str] | None:
    """A month or quarter named in the rows above the header ('Dec-13') or the sheet's name, for files with no date column."""
    for title in titles:
        if parsed := period_in_text(title, dayfirst):
            return parsed.date, parsed.precision, title
    return None


def _period_end(date: dt.date, precision: str | None) -> dt.date:
    months = {"quarter": 3, "year": 12}.get(precision or "", 1)
    month = date.month - 1 + months
    first_after = dt.date(date.year + month // 12, month % 12 + 1, 1)
    return first_after - dt.timedelta(days=1)


def _quarter(date: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar quarter holding a date.

    >>> _quarter(dt.date(2025, 8, 14))
    (datetime.date(2025, 7, 1), datetime.date(2025, 9, 30))
    """
    start = dt.date(date.year, 3 * ((date.month - 1) // 3) + 1, 1)
    return start, _period_end(start, "quarter")


def _iso(date: dt.date | None) -> str | None:
    return date.isoformat() if date else None


def _where(grid: Grid) -> str:
    return f" (sheet {grid.sheet})" if grid.sheet else ""
