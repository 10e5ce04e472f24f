"""Read one published file into canonical spend rows and rejects, streaming.

``iter_parse`` is the engine: it sniffs the format, finds each grid's header,
maps columns, and turns every batch of rows into a spend table and a rejects
table with pyarrow compute. ``parse_file`` collects the batches in memory;
``parse_to_parquet`` writes them to Parquet as they come, so memory stays flat.
Nothing here raises for a bad file: the summary's status and error say why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from normalise import schema
from normalise.councils import councils
from normalise.names import supplier_key
from normalise.orgids import company_number
from normalise.parsing.columns import Choice, classify_header, map_columns
from normalise.parsing.council_inference import infer_council
from normalise.parsing.datasets import adapt_to_dataset, detect_dataset, not_spend_reason
from normalise.parsing.encoding import looks_mojibaked, repair_text
from normalise.parsing.header import find_header, named_width
from normalise.parsing.rowid import OccurrenceCounter, identities, identity_name, row_ids
from normalise.parsing.sniff import sniff_format
from normalise.parsing.tables import Batch, Grid, UnreadableFile, open_grids, prefetched
from normalise.parsing.values import Amounts, decide_dayfirst, parse_amounts, parse_date, parse_dates
from normalise.redaction import redacted_mask

SUPPLIER_CACHE = 200_000
VALUE_ERRORS = ("missing_amount", "unparseable_amount", "unparseable_date", "extra_cells")
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"RIFF")
_TOTAL = r"(?i)^\s*(grand |sub ?)?totals?\b"
_TEXT_COLUMNS = ("department", "service_area", "expense_type", "purpose", "merchant_category")
#: spend columns worth dictionary-encoding in Parquet (row ids and amounts are not)
_REPETITIVE = [
    "council_code",
    "gss_code",
    "dataset",
    "date_precision",
    "supplier_name",
    "supplier_key",
    "department",
    "service_area",
    "expense_type",
    "purpose",
    "merchant_category",
    "source_sha256",
    "source_url",
    "source_sheet",
    "supplier_id_published",
    "payment_date",
]


class NotParseable(Exception):
    """A file that holds no transactions; ``status`` says which kind."""

    def __init__(self, status: str, error: str) -> None:
        super().__init__(error)
        self.status = status


@dataclass
class ParseResult:
    """Everything read from one file."""

    status: str
    spend: pa.Table
    rejects: pa.Table
    summary: dict


@dataclass
class _Sheet:
    """What is known about one grid once its header is found."""

    grid: Grid
    header_index: int
    header: list[str]
    width: int
    choices: dict[str, Choice]
    dataset: str
    dayfirst: bool
    period: tuple[dt.date, str, str] | None  # date, precision, title it came from, when no date column
    dayfirst_settled: bool = False


@dataclass
class _Tally:
    rows: int = 0
    blank_rows: int = 0
    rejected: Counter = field(default_factory=Counter)
    total: Decimal = Decimal("0.00")
    date_min: dt.date | None = None
    date_max: dt.date | None = None
    precision_of_max: str | None = None


class ParseRun:
    """A streaming parse of one file: iterate for (spend, rejects) batches; ``summary`` is complete afterwards."""

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
        self.dataset = dataset
        self.overrides = columns or {}
        self.encoding = encoding
        self.summary: dict = {}
        self._tally = _Tally()
        self._counter = OccurrenceCounter()
        self._batches: Iterator[tuple[pa.Table, pa.Table]] | None = None
        self._suppliers: dict[str | None, tuple[str | None, str]] = {}

    def __iter__(self) -> ParseRun:
        return self

    def __next__(self) -> tuple[pa.Table, pa.Table]:
        if self._batches is None:
            self._batches = self._run()
        return next(self._batches)

    def _run(self) -> Iterator[tuple[pa.Table, pa.Table]]:
        summary: dict = {
            "file": str(self.path),
            "status": "failed",
            "format": None,
            "encoding": None,
            "sheets": [],
            "header_row": {},
            "columns": {},
            "columns_mapped": [],
            "dataset": self.dataset,
            "council_code": self.council_code,
            "error": None,
        }
        self.summary = summary
        try:
            self.sha256 = self.sha256 or _file_sha256(self.path)
            summary["sha256"] = self.sha256
            yield from self._parse(summary)
        except NotParseable as exc:
            summary["status"], summary["error"] = exc.status, str(exc)
        except UnreadableFile as exc:
            summary["status"], summary["error"] = "failed", str(exc)
        except OSError as exc:
            summary["status"], summary["error"] = "failed", f"cannot read the file: {exc}"
        except Exception as exc:  # a file we did not foresee must be recorded, never crash a crawl
            summary["status"], summary["error"] = "failed", f"{type(exc).__name__}: {exc}"
        self._finish(summary)

    # -------------------------------------------------------------- file level

    def _parse(self, summary: dict) -> Iterator[tuple[pa.Table, pa.Table]]:
        with open(self.path, "rb") as fh:
            head = fh.read(8192)
        fmt = sniff_format(head)
        summary["format"] = fmt
        if fmt in ("pdf", "html"):
            raise NotParseable("not_machine_readable", f"{fmt.upper()} document, not a data file")
        if fmt == "unknown":
            if head.startswith(_IMAGE_MAGIC):
                raise NotParseable("not_machine_readable", "image, not a data file")
            raise NotParseable("failed", "unrecognised binary content" if head else "empty file")
        reasons: list[str] = []
        for grid in open_grids(self.path, fmt, self.encoding):
            summary["encoding"] = summary["encoding"] or grid.encoding
            sheet = self._prepare(grid, reasons)
            if sheet is None:
                continue
            self._record_sheet(summary, sheet)
            # Batch i+1 is normalised (pyarrow, mostly without the GIL) while batch i gets its row ids.
            for table, rejects in prefetched(
                self._normalise(sheet, b) for b in grid.body(sheet.header_index + 1, sheet.width)
            ):
                yield self._finish_spend(sheet, table), rejects
            if grid.notes.get("mixed_encoding"):
                summary["encoding"] = f"{grid.encoding} (stray {grid.notes['mixed_encoding']} bytes)"
        if not summary["sheets"]:
            raise NotParseable("not_spend", "; ".join(dict.fromkeys(reasons)) or "no table found")

    def _prepare(self, grid: Grid, reasons: list[str]) -> _Sheet | None:
        header = find_header(grid.head, set(self.overrides.values()))
        if header is None:
            if any(any(c.strip() for c in row) for row in grid.head):
                reasons.append(f"no header row naming an amount and a supplier{_where(grid)}")
            return None
        sample = grid.head[header.index + 1 :]
        choices = map_columns(header.cells, sample, self.overrides)
        if "amount" not in choices and "gross_amount" in choices:
            gross = choices["gross_amount"]
            choices["amount"] = Choice(gross.index, gross.source, "derived", gross.score)
        if reason := not_spend_reason(choices):
            reasons.append(reason + _where(grid))
            return None
        dataset = self.dataset or detect_dataset(header.cells, choices)
        self.dataset = self.dataset or dataset
        choices = adapt_to_dataset(choices, header.cells, dataset)
        titles = [" ".join(c for c in row if c.strip()) for row in grid.head[: header.index]]
        if self.council_code is None:
            bodies = [
                i for i, cell in enumerate(header.cells) if (found := classify_header(cell)) and found[0] == "body"
            ]
            values = [r[i] for r in sample for i in bodies if i < len(r)]
            self.council_code = infer_council(values, titles) or "UNKNOWN"
        dates = choices.get("payment_date")
        dayfirst = decide_dayfirst([r[dates.index] for r in sample if dates and dates.index < len(r)])
        return _Sheet(
            grid,
            header.index,
            header.cells,
            header.width,
            choices,
            dataset,
            dayfirst,
            None if dates else _period_from_titles(titles, dayfirst),
        )

    def _record_sheet(self, summary: dict, sheet: _Sheet) -> None:
        name = sheet.grid.sheet or ""
        summary["sheets"].append(name)
        summary["header_row"][name] = sheet.header_index + 1
        for canon, choice in sheet.choices.items():
            summary["columns"].setdefault(canon, choice.summary())
        if sheet.period:
            summary["columns"].setdefault("payment_date", {"source": sheet.period[2], "how": "derived", "score": 100.0})
        if "charity_number_published" in sheet.choices and "company_number_published" not in sheet.choices:
            source = sheet.choices["charity_number_published"].source
            summary["columns"].setdefault(
                "company_number_published", {"source": source, "how": "derived", "score": 100.0}
            )
        summary["dataset"] = self.dataset
        summary["council_code"] = self.council_code

    # -------------------------------------------------------------- batch level

    def _normalise(self, sheet: _Sheet, batch: Batch) -> tuple[pa.Table, pa.Table]:
        columns, overflow = batch.columns, batch.overflow
        filled = _any_text(columns)
        if overflow is not None:
            filled = pc.or_(filled, pc.is_valid(overflow))
        blank = batch.num_rows - (pc.sum(filled).as_py() or 0)
        self._tally.blank_rows += blank
        source_row = batch.source_row
        if blank:
            columns = [pc.filter(c, filled) for c in columns]
            source_row = pc.filter(source_row, filled)
            overflow = pc.filter(overflow, filled) if overflow is not None else None
        n = len(source_row)

        def cell(canon: str) -> pa.Array:
            choice = sheet.choices.get(canon)
            if choice is None or choice.index >= len(columns):
                return pa.nulls(n, pa.string())
            return pc.utf8_trim_whitespace(columns[choice.index])

        raw_amount = cell("amount")
        amounts = parse_amounts(raw_amount)
        supplier = _collapse(cell("supplier_name"))
        has_supplier = pc.fill_null(pc.greater(pc.utf8_length(supplier), 0), False)
        raw_date = cell("payment_date")
        if sheet.period:
            date_arr = pa.array([sheet.period[0]] * n, pa.date32())
            precision = pa.array([sheet.period[1]] * n, pa.string())
            bad_date = pa.array([False] * n)
        else:
            if not sheet.dayfirst_settled:  # the first batch holds far more evidence than the header sample
                sheet.dayfirst = decide_dayfirst(pc.unique(raw_date).to_pylist(), default=sheet.dayfirst)
                sheet.dayfirst_settled = True
            parsed = parse_dates(raw_date, sheet.dayfirst)
            date_arr, precision, bad_date = parsed.dates, parsed.precision, parsed.bad
        transaction = _blank_to_null(cell("transaction_id"))

        extra = _extra_cells(columns[named_width(sheet.header) :], overflow, n)
        reason = _reasons(sheet, columns, raw_amount, amounts, has_supplier, raw_date, transaction, bad_date, extra)
        keep = pc.is_null(reason)
        rejects = self._rejects(sheet, columns, overflow, source_row, reason, raw_amount, raw_date)

        spend = {
            "payment_date": date_arr,
            "date_precision": precision,
            "transaction_id": transaction,
            "amount": amounts.amounts,
            "supplier_name": _blank_to_null(supplier),
            "source_row": source_row,
        }
        for canon in ("irrecoverable_vat", "vat_amount", "gross_amount"):
            if canon in sheet.choices:
                spend[canon] = parse_amounts(cell(canon)).amounts
        for canon in _TEXT_COLUMNS + ("supplier_id_published",):
            if canon in sheet.choices:
                spend[canon] = _blank_to_null(_repair(_collapse(cell(canon))))
        if "company_number_published" in sheet.choices:
            spend["company_number_published"] = _by_value(cell("company_number_published"), company_number)
        if "charity_number_published" in sheet.choices:
            registration = cell("charity_number_published")
            spend["charity_number_published"] = _by_value(registration, charity_number)
            if "company_number_published" not in sheet.choices:  # one free-text 'registration number' column
                spend["company_number_published"] = _by_value(registration, company_from_registration)
        return pa.table(spend).filter(keep), rejects

    def _finish_spend(self, sheet: _Sheet, table: pa.Table) -> pa.Table:
        n = table.num_rows
        supplier = _repair(table.column("supplier_name").combine_chunks()) if n else pa.array([], pa.string())
        table = table.set_column(table.schema.get_field_index("supplier_name"), "supplier_name", supplier)
        encoded = pc.dictionary_encode(supplier)
        facts = [self._supplier_facts(name) for name in encoded.dictionary.to_pylist()]
        keys = pc.take(pa.array([f[0] for f in facts], pa.string()), encoded.indices)
        folded = pc.take(pa.array([f[1] for f in facts], pa.string()), encoded.indices)
        ids = row_ids(
            identities(
                self.council_code or "UNKNOWN",
                sheet.dataset,
                table.column("payment_date").combine_chunks(),
                table.column("transaction_id").combine_chunks(),
                folded,
                table.column("amount").combine_chunks(),
            ),
            self._counter,
        )
        council = councils().get(self.council_code or "UNKNOWN")
        extra = {
            "row_id": ids,
            "council_code": _repeat(self.council_code, n),
            "gss_code": _repeat(council.gss_code if council else None, n),
            "dataset": _repeat(sheet.dataset, n),
            "supplier_key": keys,
            "redacted": pc.fill_null(pc.take(redacted_mask(encoded.dictionary), encoded.indices), False),
            "source_sha256": _repeat(self.sha256, n),
            "source_url": _repeat(self.source_url, n),
            "source_sheet": _repeat(sheet.grid.sheet, n),
        }
        for name, values in extra.items():
            table = table.append_column(name, values)
        self._count(table)
        return schema.conform(table, "spend")

    def _supplier_facts(self, name: str | None) -> tuple[str | None, str]:
        """(supplier_key, identity name) of a published name, cached across batches (bounded)."""
        facts = self._suppliers.get(name)
        if facts is None:
            if len(self._suppliers) > SUPPLIER_CACHE:
                self._suppliers.clear()
            facts = self._suppliers[name] = (supplier_key(name), identity_name(name))
        return facts

    def _rejects(
        self,
        sheet: _Sheet,
        columns: list[pa.Array],
        overflow: pa.Array | None,
        source_row: pa.Array,
        reason: pa.Array,
        raw_amount: pa.Array,
        raw_date: pa.Array,
    ) -> pa.Table:
        mask = pc.is_valid(reason)
        idx = pc.indices_nonzero(mask)
        reasons = pc.take(reason, idx).to_pylist()
        rows = [pc.take(c, idx).to_pylist() for c in columns]
        beyond = pc.take(overflow, idx).to_pylist() if overflow is not None else [None] * len(reasons)
        amounts, dates = pc.take(raw_amount, idx).to_pylist(), pc.take(raw_date, idx).to_pylist()
        raws, details = [], []
        for j, why in enumerate(reasons):
            cells = [col[j] for col in rows] + (json.loads(str(beyond[j])) if beyond[j] else [])
            while cells and not cells[-1].strip():
                cells.pop()
            raws.append(json.dumps(cells, ensure_ascii=False))
            details.append(
                dates[j]
                if why == "unparseable_date"
                else amounts[j]
                if why in ("unparseable_amount", "footer_total")
                else raws[-1]
                if why == "extra_cells"
                else None
            )
            self._tally.rejected[why] += 1
        m = len(reasons)
        table = pa.table(
            {
                "council_code": pa.array([self.council_code] * m, pa.string()),
                "dataset": pa.array([sheet.dataset] * m, pa.string()),
                "source_sha256": pa.array([self.sha256] * m, pa.string()),
                "source_url": pa.array([self.source_url] * m, pa.string()),
                "source_sheet": pa.array([sheet.grid.sheet] * m, pa.string()),
                "source_row": pc.take(source_row, idx),
                "reason": pa.array(reasons, pa.string()),
                "detail": pa.array(details, pa.string()),
                "raw": pa.array(raws, pa.string()),
            }
        )
        return schema.conform(table, "rejects")

    def _count(self, table: pa.Table) -> None:
        tally = self._tally
        tally.rows += table.num_rows
        if not table.num_rows:
            return
        tally.total += pc.sum(table.column("amount")).as_py() or Decimal(0)
        dates = table.column("payment_date")
        low, high = pc.min(dates).as_py(), pc.max(dates).as_py()
        if low and (tally.date_min is None or low < tally.date_min):
            tally.date_min = low
        if high and (tally.date_max is None or high > tally.date_max):
            tally.date_max = high
            at_max = pc.filter(table.column("date_precision"), pc.equal(dates, pa.scalar(high, pa.date32())))
            tally.precision_of_max = at_max[0].as_py() if len(at_max) else "day"

    def _finish(self, summary: dict) -> None:
        tally = self._tally
        errors = sum(tally.rejected[r] for r in VALUE_ERRORS)
        if summary["error"] is None:
            if tally.rows == 0 and errors:
                summary["status"], summary["error"] = "failed", f"no row could be read ({errors} rows with bad values)"
            else:
                summary["status"] = "partial" if errors else "ok"
        summary.update(
            rows=tally.rows,
            rejected=dict(tally.rejected),
            rows_rejected=sum(tally.rejected.values()),
            blank_rows=tally.blank_rows,
            columns_mapped=sorted(c for c in summary["columns"] if c in schema.arrow_schema("spend").names),
            total_amount=str(tally.total.quantize(Decimal("0.01"))),
            date_min=_iso(tally.date_min),
            date_max=_iso(tally.date_max),
            period_start=_iso(tally.date_min.replace(day=1)) if tally.date_min else None,
            period_end=_iso(_period_end(tally.date_max, tally.precision_of_max)) if tally.date_max else None,
            council_code=self.council_code or "UNKNOWN",
            dataset=self.dataset,
        )


# ------------------------------------------------------------------ public API


def iter_parse(path: Path, **kwargs: object) -> ParseRun:
    """A streaming parse: ``for spend, rejects in run: ...`` then ``run.summary``."""
    return ParseRun(path, **kwargs)  # type: ignore[arg-type]


def parse_file(path: Path, **kwargs: object) -> ParseResult:
    """Parse one file in memory (see :func:`iter_parse` for the keyword arguments)."""
    run = iter_parse(path, **kwargs)
    spend, rejects = [], []
    for s, r in run:
        spend.append(s)
        rejects.append(r)
    spend_table = pa.concat_tables(spend) if spend else schema.empty_table("spend")
    rejects_table = pa.concat_tables(rejects) if rejects else schema.empty_table("rejects")
    if run.summary["status"] in ("failed", "not_machine_readable", "not_spend"):
        spend_table, rejects_table = schema.empty_table("spend"), schema.empty_table("rejects")
    return ParseResult(run.summary["status"], spend_table, rejects_table, run.summary)


def rejects_path(out_path: Path) -> Path:
    """Where ``parse_to_parquet`` writes the rejects beside the spend file.

    >>> rejects_path(Path("out/a.parquet")).as_posix()
    'out/a.rejects.parquet'
    """
    out_path = Path(out_path)
    return out_path.with_name(out_path.name.removesuffix(".parquet") + ".rejects.parquet")


def parse_to_parquet(path: Path, out_path: Path, **kwargs: object) -> dict:
    """Stream one file's spend rows into ``out_path`` and its rejects beside it; return the summary."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    run = iter_parse(path, **kwargs)
    spend_tmp, rejects_tmp = out_path.with_suffix(".partial"), rejects_path(out_path).with_suffix(".partial")
    with (
        pq.ParquetWriter(
            spend_tmp, schema.arrow_schema("spend"), compression="zstd", use_dictionary=_REPETITIVE
        ) as spend_out,
        pq.ParquetWriter(rejects_tmp, schema.arrow_schema("rejects"), compression="zstd") as rejects_out,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet") as writer,
    ):
        pending = None  # one batch is written (without the GIL) while the next is parsed
        try:
            for spend, rejects in run:
                if pending is not None:
                    pending.result()
                pending = writer.submit(_write_batch, spend_out, spend, rejects_out, rejects)
            if pending is not None:
                pending.result()
        except (OSError, pa.ArrowException) as exc:
            run.summary.update(status="failed", error=f"cannot write {out_path}: {exc}")
    if run.summary["status"] in ("failed", "not_machine_readable", "not_spend"):
        for tmp, kind in ((spend_tmp, "spend"), (rejects_tmp, "rejects")):
            pq.write_table(schema.empty_table(kind), tmp)
    spend_tmp.replace(out_path)
    rejects_tmp.replace(rejects_path(out_path))
    return run.summary


# ------------------------------------------------------------------ helpers


def _write_batch(
    spend_out: pq.ParquetWriter, spend: pa.Table, rejects_out: pq.ParquetWriter, rejects: pa.Table
) -> None:
    if spend.num_rows:
        spend_out.write_table(spend)
    if rejects.num_rows:
        rejects_out.write_table(rejects)


def _extra_cells(unnamed: list[pa.Array], overflow: pa.Array | None, n: int) -> pa.Array:
    """Rows with a non-empty cell beyond the columns the header names (an unquoted '£1,000.00' splits in two)."""
    extra = _any_text(unnamed) if unnamed else pa.repeat(pa.scalar(False), n)
    return pc.or_(extra, pc.is_valid(overflow)) if overflow is not None else extra


def _reasons(
    sheet: _Sheet,
    columns: list[pa.Array],
    raw_amount: pa.Array,
    amounts: Amounts,
    has_supplier: pa.Array,
    raw_date: pa.Array,
    transaction: pa.Array,
    bad_date: pa.Array,
    extra: pa.Array,
) -> pa.Array:
    """Why each row is not a transaction (null for good rows), in order of precedence."""
    n = len(raw_amount)
    header_amount = sheet.header[sheet.choices["amount"].index].strip().casefold()
    repeated = pc.fill_null(pc.equal(pc.utf8_lower(raw_amount), header_amount), False)
    says_total = pa.repeat(pa.scalar(False), n)
    candidates = columns[:3] + (
        [columns[sheet.choices["supplier_name"].index]] if "supplier_name" in sheet.choices else []
    )
    for column in candidates:
        if pc.any(pc.match_substring(column, "total", ignore_case=True)).as_py():
            says_total = pc.or_(says_total, pc.fill_null(pc.match_substring_regex(column, _TOTAL), False))
    date_blank = (
        pc.fill_null(pc.equal(pc.utf8_length(raw_date), 0), True)
        if "payment_date" in sheet.choices
        else pa.array([True] * n)
    )
    amount_ok = pc.is_valid(amounts.amounts)
    lonely_amount = pc.and_(pc.and_(amount_ok, pc.invert(has_supplier)), pc.and_(date_blank, pc.is_null(transaction)))
    footer = pc.or_(pc.and_(says_total, pc.invert(has_supplier)), lonely_amount)
    junk = pc.and_(pc.invert(amount_ok), pc.invert(has_supplier))
    null = pa.scalar(None, pa.string())
    reason = pc.if_else(bad_date, "unparseable_date", null)
    reason = pc.if_else(amounts.bad, "unparseable_amount", reason)
    reason = pc.if_else(amounts.blank, "missing_amount", reason)
    reason = pc.if_else(extra, "extra_cells", reason)
    reason = pc.if_else(junk, "junk", reason)
    reason = pc.if_else(footer, "footer_total", reason)
    return pc.if_else(repeated, "repeated_header", reason)


def _any_text(columns: list[pa.Array]) -> pa.Array:
    """Rows with at least one cell holding more than whitespace."""
    filled = None
    for column in columns:
        has_text = pc.and_(pc.greater(pc.utf8_length(column), 0), pc.invert(pc.utf8_is_space(column)))
        filled = has_text if filled is None else pc.or_(filled, has_text)
    return pc.fill_null(filled, False)


def _repeat(value: str | None, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), n)


def _collapse(values: pa.Array) -> pa.Array:
    """Runs of spaces inside a value become one (padding such as 'Social Services          ')."""
    if pc.any(pc.match_substring(values, "  ")).as_py():
        return pc.replace_substring_regex(values, r"\s{2,}", " ")
    return values


def _blank_to_null(values: pa.Array) -> pa.Array:
    return pc.if_else(pc.fill_null(pc.equal(values, ""), True), pa.scalar(None, pa.string()), values)


def _by_value(values: pa.Array, func: Callable[[str], str | None]) -> pa.Array:
    """Apply a Python function once per distinct value (names and ids repeat a lot)."""
    encoded = pc.dictionary_encode(values)
    mapped = pa.array([func(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return pc.take(mapped, encoded.indices)


def _repair(values: pa.Array) -> pa.Array:
    """Repair mojibake, only in the (rare) columns that show it."""
    if pc.all(pc.string_is_ascii(values)).as_py() is not False:
        return values
    if pc.any(pc.match_substring_regex(values, "[ÂÃâ][\u0080-\u00bf\u2018-\u203a€™]|†")).as_py():
        return _by_value(values, lambda v: repair_text(v) if v and looks_mojibaked(v) else v)
    return values


def company_from_registration(text: str | None) -> str | None:
    """A company number from a free-text registration field, when the text says it is one.

    >>> company_from_registration("Company No. 1234567"), company_from_registration("Charity No. 1103588")
    ('01234567', None)
    """
    if not text or "compan" not in text.lower():
        return None
    match = re.search(r"\b(?:[A-Za-z]{2}\d{6}|\d{6,8})\b", text)
    return company_number(match[0]) if match else None


def charity_number(text: str | None) -> str | None:
    """The digits of a published charity number; None when there are none or it names a company.

    >>> charity_number("Charity No. 1103588"), charity_number("GB-CHC-299533"), charity_number("none"), charity_number("Company No. 123")
    ('1103588', '299533', None, None)
    """
    if not text or "compan" in text.lower():
        return None
    match = re.search(r"\d{5,8}(?:-\d{1,2})?", text)
    return match[0] if match else None


def _period_from_titles(titles: list[str], dayfirst: bool) -> tuple[dt.date, str, str] | None:
    """A month or quarter named in the rows above the header ('Dec-13'), for files with no date column."""
    for title in titles:
        parsed = parse_date(title, dayfirst)
        if parsed and parsed.precision != "day":
            return parsed.date, parsed.precision, title
    return None


def _period_end(date: dt.date, precision: str | None) -> dt.date:
    months = {"quarter": 3, "year": 12}.get(precision or "", 1)
    month = date.month - 1 + months
    first_after = dt.date(date.year + month // 12, month % 12 + 1, 1)
    return first_after - dt.timedelta(days=1)


def _iso(date: dt.date | None) -> str | None:
    return date.isoformat() if date else None


def _where(grid: Grid) -> str:
    return f" (sheet {grid.sheet})" if grid.sheet else ""


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
