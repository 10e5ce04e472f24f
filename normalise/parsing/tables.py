"""Cell grids from CSV, XLSX, XLS, ODS, 360Giving JSON, ZIP and gzip files, streamed in batches.

Every source becomes one or more :class:`Grid` (a CSV file, a worksheet, a zip
member): its first records as lists of strings, for finding the header, and a
body that yields :class:`Batch` es of string columns with the 1-based record
number of every row. CSV bodies are cut into byte chunks at record boundaries
and read by ``pyarrow.csv`` (both cores, no Python per cell); a chunk with
ragged rows is re-read with the standard ``csv`` module so no row is lost and
every row keeps its true number. Cells a row has beyond the grid's width are
never dropped: the batch carries them as ``overflow``. Workbooks are read a
sheet at a time and their rows streamed; compressed content is inflated within
the bounds of ``limits``.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import gzip
import io
import itertools
import json
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar, cast
from zlib import error as zlib_error

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from python_calamine import CalamineWorkbook

from normalise.parsing.encoding import decode_mostly_utf8, detect_encoding
from normalise.parsing.limits import (
    MAX_WORKBOOK_BYTES,
    BoundedInflation,
    Counted,
    TooLarge,
    check_member,
    oversized_sheets,
)
from normalise.parsing.sniff import sniff_format

HEAD_RECORDS = 80
#: workbook rows held for finding the header and profiling columns (CSV heads hold SAMPLE_RECORDS)
WORKBOOK_HEAD_ROWS = 400
SAMPLE_RECORDS = 2000
HEAD_BYTES = 1 << 20
CHUNK_BYTES = 8 << 20
EXCEL_BATCH_ROWS = 50_000
T = TypeVar("T")
DELIMITERS = (",", ";", "\t", "|")
# The csv module refuses a field over 128 KiB and stops the whole file; oversized cells are read here
# and their rows rejected by the parser instead (limits.MAX_CELL_BYTES).
csv.field_size_limit(1 << 30)


class UnreadableFile(ValueError):
    """The bytes cannot be read as the format they claim to be (corrupt, encrypted, truncated, too large)."""


@dataclass
class Batch:
    """Rows of one grid: string columns (all the same length) and their 1-based record numbers.

    ``overflow`` holds, per row, the JSON list of the cells beyond the grid's width when any of
    them is non-empty (null otherwise); None when no row of the batch is that wide.
    """

    columns: list[pa.Array]
    source_row: pa.Array
    overflow: pa.Array | None = None

    @property
    def num_rows(self) -> int:
        return len(self.source_row)


@dataclass
class Grid:
    """One table of cells in a file: its first records and a way to stream the rest."""

    sheet: str | None
    head: list[list[str]]
    read_body: Callable[[int, int], Iterator[Batch]]
    format: str
    encoding: str | None = None
    notes: dict = field(default_factory=dict)
    #: why the grid could not be read (a sheet refused as too large); its head and body are empty
    refused: str | None = None

    def body(self, skip: int, ncols: int) -> Iterator[Batch]:
        """Batches of the records after the first ``skip``, as ``ncols`` string columns."""
        return self.read_body(skip, ncols)


def open_grids(path: Path, fmt: str | None = None, encoding: str | None = None) -> Iterator[Grid]:
    """Every grid in a file, from its bytes (the name is never trusted); ``fmt`` when it is already sniffed."""
    if fmt is None:
        with open(path, "rb") as fh:
            fmt = sniff_format(fh.read(8192))
    try:
        yield from _grids(lambda: open(path, "rb"), fmt, encoding, label=None, path=path)  # noqa: SIM115
    except TooLarge as exc:
        raise UnreadableFile(str(exc)) from None


def _grids(
    opener: Callable[[], IO[bytes]], fmt: str, encoding: str | None, label: str | None, path: Path | None = None
) -> Iterator[Grid]:
    if fmt == "csv":
        yield _csv_grid(opener, encoding, label)
    elif fmt in ("xlsx", "xls", "ods"):
        yield from _workbook_grids(opener, fmt, label, path)
    elif fmt == "json":
        with opener() as fh:
            data = _read_bounded(fh)
        yield _json_grid(data, label)
    elif fmt == "zip":
        yield from _zip_grids(opener, encoding)
    elif fmt == "gzip":
        yield from _gzip_grids(opener, encoding, label)
    else:
        raise UnreadableFile(f"{fmt} is not a tabular format")


def _read_bounded(fh: IO[bytes], limit: int = MAX_WORKBOOK_BYTES) -> bytes:
    """All of a stream that has to be held in memory (a workbook or JSON inside an archive), within a bound."""
    data = fh.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"more than {limit >> 20} MiB to hold in memory: refused")
    return data


# ---------------------------------------------------------------- CSV


def _csv_grid(opener: Callable[[], IO[bytes]], encoding: str | None, label: str | None) -> Grid:
    """A CSV's grid. A file within the first MiB is read once, by the csv module, and its body served from
    those records (small files are most files; pyarrow's start-up costs more than it saves there)."""
    with opener() as fh:
        sample = fh.read(HEAD_BYTES)
        complete = not fh.read(1)
    enc = encoding or detect_encoding(sample)
    text = _decode(sample, enc)
    delimiter = detect_delimiter(text)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        records = list(reader if complete else itertools.islice(reader, SAMPLE_RECORDS))
    except csv.Error as exc:  # a NUL byte or similar in the first MiB
        raise UnreadableFile(f"not readable as CSV: {exc}") from None
    if not complete and len(records) > 1:
        records = records[:-1]  # the sample may end inside a record
    grid = Grid(sheet=label, head=records[:HEAD_RECORDS], read_body=None, format="csv", encoding=enc)  # type: ignore[arg-type]
    grid.notes["delimiter"] = delimiter
    grid.notes["sample"] = records[:SAMPLE_RECORDS]
    if enc in ("utf-8", "utf-8-sig") and "\ufffd" not in text and _has_stray_bytes(sample):
        grid.notes["mixed_encoding"] = "cp1252"
    if complete:
        grid.read_body = functools.partial(_list_batches, records)
        return grid
    grid.notes["newline"] = line_ending(text)
    # Cells with line breaks are rare; when the sample shows none, the faster reader is used and a
    # chunk that does hold one comes out ragged and is re-read by the csv module.
    grid.notes["multiline"] = any("\n" in c or "\r" in c for r in records for c in r)
    grid.read_body = lambda skip, ncols: _csv_batches(opener, enc, delimiter, skip, ncols, grid.notes)
    return grid


def _decode(sample: bytes, encoding: str) -> str:
    """The sample as text: UTF-8 with stray single-byte characters read as cp1252, like the body's chunks."""
    if encoding in ("utf-8", "utf-8-sig"):
        return decode_mostly_utf8(sample.removeprefix(codecs.BOM_UTF8))
    return sample.decode(encoding, errors="replace").lstrip("\ufeff")


def _has_stray_bytes(sample: bytes) -> bool:
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        return not (exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data")
    return False


def line_ending(text: str) -> bytes:
    r"""The byte that ends records: CR for old Mac exports (lone CRs outnumber line feeds), else LF.

    >>> line_ending("a,b\rc,d\re,f\r\n"), line_ending("a,b\r\nc,d\r\n"), line_ending("a\nb\n")
    (b'\r', b'\n', b'\n')
    """
    lone_cr = text.count("\r") - text.count("\r\n")
    return b"\r" if lone_cr > text.count("\n") else b"\n"


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the first lines most often and most consistently.

    >>> detect_delimiter("a;b;c\\n1;2,5;3\\n"), detect_delimiter("a,b\\n1,2\\n"), detect_delimiter("a\\tb\\n1\\t2\\n")
    (';', ',', '\\t')
    """
    lines = [line for line in first_lines(text, 50) if line.strip()]
    best, best_score = ",", 0
    for delimiter in DELIMITERS:
        counts = [line.count(delimiter) for line in lines]
        if not counts or max(counts) == 0:
            continue
        mode = max(set(counts), key=counts.count)
        score = mode * counts.count(mode)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def first_lines(text: str, n: int, reach: int = 1 << 16) -> list[str]:
    """The first ``n`` lines of ``text`` (as ``str.splitlines`` cuts them), without cutting the rest of a long text.

    >>> first_lines("a\\nb\\r\\nc\\rd", 3), first_lines("a\\nb", 5), first_lines("ab\\ncd\\nef", 2, reach=4)
    (['a', 'b', 'c'], ['a', 'b'], ['ab', 'cd'])
    """
    while reach < len(text):
        lines = text[:reach].splitlines()
        if len(lines) > n:  # a line break follows each of the first n: whole lines
            return lines[:n]
        reach *= 4
    return text.splitlines()[:n]


def _utf8_chunks(opener: Callable[[], IO[bytes]], encoding: str) -> Iterator[bytes]:
    """The file as UTF-8 bytes in pieces of about CHUNK_BYTES, BOM removed."""
    with opener() as fh:
        if encoding in ("utf-8", "utf-8-sig"):
            first = True
            while piece := fh.read(CHUNK_BYTES):
                if first and piece.startswith(codecs.BOM_UTF8):
                    piece = piece[3:]
                first = False
                yield piece
            return
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        while piece := fh.read(CHUNK_BYTES):
            yield decoder.decode(piece).lstrip("\ufeff").encode("utf-8")
        yield decoder.decode(b"", final=True).encode("utf-8")


def _record_ends(buf: bytes, newline: bytes = b"\n") -> Iterator[int]:
    """Offsets just after each complete record (newline outside quotes) in ``buf``.

    >>> list(_record_ends(b'a,"x\\ny"\\nb\\n'))
    [8, 10]
    """
    pos, quotes = 0, 0
    while (nl := buf.find(newline, pos)) >= 0:
        quotes += buf.count(b'"', pos, nl)
        pos = nl + 1
        if quotes % 2 == 0:
            yield pos


def _last_record_end(buf: bytes, newline: bytes = b"\n") -> int:
    """Offset after the last newline that is outside quotes (0 if none)."""
    pos = len(buf)
    while (nl := buf.rfind(newline, 0, pos)) >= 0:
        if buf.count(b'"', 0, nl) % 2 == 0:
            return nl + 1
        pos = nl
    return 0


def _record_chunks(opener: Callable[[], IO[bytes]], encoding: str, skip: int, newline: bytes) -> Iterator[bytes]:
    """UTF-8 pieces that each end at a record boundary, after skipping ``skip`` records."""
    carry = b""
    for piece in _utf8_chunks(opener, encoding):
        buf = carry + piece
        if skip:
            ends = _record_ends(buf, newline)
            offset = 0
            while skip and (end := next(ends, None)) is not None:
                offset, skip = end, skip - 1
            buf = buf[offset:]
            if skip:
                carry = buf
                continue
        cut = _last_record_end(buf, newline)
        if cut == 0 and len(buf) < 4 * CHUNK_BYTES:
            carry = buf
            continue
        cut = cut or len(buf)
        carry = buf[cut:]
        yield buf[:cut]
    if carry and not skip:
        yield carry


def prefetched(items: Iterator[T], threaded: bool = True) -> Iterator[T]:
    """The same items, each fetched in a worker thread while the caller works on the one before.

    pyarrow reads and decodes without the GIL, so reading the next chunk overlaps normalising this one.
    Not ``threaded``: the items as they come (a thread costs more than a small file saves).

    >>> list(prefetched(iter([1, 2, 3]))), list(prefetched(iter([1, 2]), threaded=False))
    ([1, 2, 3], [1, 2])
    """
    if not threaded:
        yield from items
        return
    end = object()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch") as pool:
        future = pool.submit(next, items, end)
        while (item := future.result()) is not end:
            future = pool.submit(next, items, end)
            yield cast(T, item)


def _csv_batches(
    opener: Callable[[], IO[bytes]], encoding: str, delimiter: str, skip: int, ncols: int, notes: dict
) -> Iterator[Batch]:
    names = [f"c{i}" for i in range(ncols)]
    row = skip + 1
    chunks = (
        _read_chunk(chunk, names, delimiter, notes)
        for chunk in _record_chunks(opener, encoding, skip, notes["newline"])
    )
    for columns, overflow in prefetched(chunks):
        n = len(columns[0]) if columns else 0
        yield Batch(columns, pa.array(np.arange(row, row + n, dtype=np.int64)), overflow)
        row += n


def _read_chunk(chunk: bytes, names: list[str], delimiter: str, notes: dict) -> tuple[list[pa.Array], pa.Array | None]:
    ragged: list[object] = []

    def on_ragged(_row: object) -> str:
        ragged.append(_row)
        return "skip"

    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError:  # stray non-UTF-8 bytes in a UTF-8 file: read them as cp1252
        notes["mixed_encoding"] = "cp1252"
        chunk = decode_mostly_utf8(chunk).encode("utf-8")
    try:
        table = _arrow_read(chunk, names, delimiter, on_ragged, notes["multiline"])
    except pa.ArrowInvalid:
        table, ragged = None, [True]
    if not ragged:
        return [table.column(i).combine_chunks() for i in range(len(names))], None
    text = decode_mostly_utf8(chunk)
    return _fit_rows(list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)), ncols=len(names))


def _arrow_read(
    chunk: bytes, names: list[str], delimiter: str, on_ragged: Callable[[object], str], multiline: bool
) -> pa.Table:
    return pacsv.read_csv(
        io.BytesIO(chunk),
        read_options=pacsv.ReadOptions(column_names=names, block_size=4 << 20),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, newlines_in_values=multiline, ignore_empty_lines=False, invalid_row_handler=on_ragged
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )


def _fit_rows(rows: list[list[str]], ncols: int) -> tuple[list[pa.Array], pa.Array | None]:
    """Ragged rows as ``ncols`` string columns, short rows padded; the non-empty overflow of long rows kept apart.

    >>> columns, overflow = _fit_rows([["a", "b", "c"], ["d"], ["e", "f", ""]], 2)
    >>> [c.to_pylist() for c in columns], overflow.to_pylist()
    ([['a', 'd', 'e'], ['b', '', 'f']], ['["c"]', None, None])
    """
    if not rows:
        return [pa.array([], pa.string())] * ncols, None
    lengths = list(map(len, rows))
    # usually none, or a footer or two
    odd = [i for i, n in enumerate(lengths) if n != ncols] if lengths.count(ncols) != len(rows) else []
    fitted = list(rows) if odd else rows
    overflow: list[str | None] = [None] * len(rows) if odd else []
    for i in odd:
        row = rows[i]
        extra = row[ncols:]
        while extra and not extra[-1].strip():
            extra.pop()
        overflow[i] = json.dumps(extra, ensure_ascii=False) if extra else None
        fitted[i] = row[:ncols] if len(row) >= ncols else row + [""] * (ncols - len(row))
    # one Arrow array of every cell, column after column, then a zero-copy slice per column (one conversion, not ncols)
    cells = pa.array(list(itertools.chain.from_iterable(zip(*fitted))), pa.string())
    columns = [cells.slice(i * len(rows), len(rows)) for i in range(ncols)]
    return columns, pa.array(overflow, pa.string()) if any(overflow) else None


# ---------------------------------------------------------------- workbooks


def cell_text(value: object) -> str:
    """A workbook cell as the text a CSV export would hold.

    Dates become ISO dates; a time of 23:00 is the one-hour offset of some
    exports and belongs to the next day.

    >>> cell_text(4999.9999999999991), cell_text(2000.0), cell_text(dt.datetime(2025, 10, 20, 23, 0)), cell_text(None)
    ('4999.999999999999', '2000', '2025-10-21', '')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return (value + dt.timedelta(hours=1)).date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _workbook_grids(opener: Callable[[], IO[bytes]], fmt: str, label: str | None, path: Path | None) -> Iterator[Grid]:
    """One grid per sheet, each sheet opened in turn and its rows streamed (never the whole book as Python rows)."""
    source: object = path
    if path is None:  # a workbook inside an archive: held in memory, within a bound
        with opener() as fh:
            source = io.BytesIO(_read_bounded(fh))
    refused = _refused_sheets(source, fmt)
    try:
        book = (
            CalamineWorkbook.from_path(str(source))
            if isinstance(source, Path)
            else CalamineWorkbook.from_filelike(cast(IO[bytes], source))
        )
    except Exception as exc:  # calamine raises its own error types for every kind of corruption
        raise UnreadableFile(f"cannot open the {fmt} workbook: {exc}") from None
    for name in book.sheet_names:
        sheet = f"{label}!{name}" if label else name
        if name in refused:
            yield Grid(sheet=sheet, head=[], read_body=lambda skip, ncols: iter(()), format=fmt, refused=refused[name])
            continue
        try:
            rows = _sheet_rows(book, name)
            head = list(itertools.islice(rows, WORKBOOK_HEAD_ROWS))
        except Exception as exc:
            raise UnreadableFile(f"cannot read sheet {name!r}: {exc}") from None
        yield Grid(
            sheet=sheet,
            head=head[:HEAD_RECORDS],
            read_body=functools.partial(_stream_batches, head, rows),
            format=fmt,
            notes={"sample": head},
        )


def _refused_sheets(source: object, fmt: str) -> dict[str, str]:
    """Sheets of an XLSX or ODS too large to open (checked from the zip before calamine inflates anything)."""
    if fmt == "xls":
        return {}  # BIFF is not compressed: a sheet is as large as the file, at most 65,536 x 256 cells
    try:
        with zipfile.ZipFile(cast(IO[bytes], source) if not isinstance(source, Path) else source) as archive:
            if fmt == "ods":
                for info in archive.infolist():
                    check_member(info)
                return {}
            return oversized_sheets(archive)
    except (zipfile.BadZipFile, OSError, EOFError, zlib_error) as exc:
        raise UnreadableFile(f"cannot open the {fmt} workbook: {exc}") from None
    finally:
        if isinstance(source, io.BytesIO):
            source.seek(0)


def _sheet_rows(book: CalamineWorkbook, name: str) -> Iterator[list[str]]:
    """A sheet's rows as CSV-like text cells, from its first row (leading empty columns kept)."""
    sheet = book.get_sheet_by_name(name)
    pad = [""] * sheet.start[1] if sheet.start and sheet.start[1] else []
    for row in sheet.iter_rows():
        yield pad + [v if type(v) is str else cell_text(v) for v in row]  # most cells are text already


def _stream_batches(head: list[list[str]], rest: Iterator[list[str]], skip: int, ncols: int) -> Iterator[Batch]:
    """Batches of a sheet's rows after ``skip``: the rows already read for the head, then the rest as they come."""
    start = skip
    pending = head[skip:]
    for row in rest:
        pending.append(row)
        if len(pending) >= EXCEL_BATCH_ROWS:
            yield _rows_batch(pending, start, ncols)
            start += len(pending)
            pending = []
    if pending:
        yield _rows_batch(pending, start, ncols)


def _rows_batch(rows: list[list[str]], start: int, ncols: int) -> Batch:
    columns, overflow = _fit_rows(rows, ncols)
    return Batch(columns, pa.array(np.arange(start + 1, start + 1 + len(rows), dtype=np.int64)), overflow)


def _list_batches(rows: list[list[str]], skip: int, ncols: int) -> Iterator[Batch]:
    for start in range(skip, len(rows), EXCEL_BATCH_ROWS):
        yield _rows_batch(rows[start : start + EXCEL_BATCH_ROWS], start, ncols)


# ---------------------------------------------------------------- 360Giving JSON and zips


def _flatten(record: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in record.items():
        name = f"{prefix}:{key}" if prefix else key
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, dict):
            out.update(_flatten(value, name))
        else:
            out[name] = "" if value is None else str(value)
    return out


def _json_grid(data: bytes, label: str | None) -> Grid:
    try:
        document = json.loads(data.decode(detect_encoding(data[:HEAD_BYTES]), errors="replace"))
    except ValueError as exc:
        raise UnreadableFile(f"invalid JSON: {exc}") from None
    records = document.get("grants") if isinstance(document, dict) else document
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise UnreadableFile("JSON without a list of records (expected a 360Giving {'grants': [...]} package)")
    flat = [_flatten(r) for r in records]
    header = list(dict.fromkeys(k for r in flat for k in r))
    rows = [header] + [[r.get(k, "") for k in header] for r in flat]
    return Grid(
        sheet=label,
        head=rows[:HEAD_RECORDS],
        read_body=lambda skip, ncols: _list_batches(rows, skip, ncols),
        format="json",
    )


def _zip_grids(opener: Callable[[], IO[bytes]], encoding: str | None) -> Iterator[Grid]:
    """Every readable member of a zip, each streamed from the archive (never unpacked whole), within bounds."""
    with opener() as fh:
        try:
            archive = zipfile.ZipFile(fh)
            members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX")]
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise UnreadableFile(f"corrupt zip: {exc}") from None
        for member in members:
            check_member(member)
            try:
                with archive.open(member) as part:
                    fmt = sniff_format(part.read(8192))
            except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError, EOFError, zlib_error) as exc:
                raise UnreadableFile(f"corrupt zip member {member.filename}: {exc}") from None
            if fmt in ("csv", "xlsx", "xls", "ods", "json", "gzip"):
                yield from _grids(functools.partial(_member, archive, member), fmt, encoding, label=member.filename)


def _member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> IO[bytes]:
    part = archive.open(member)
    return cast(IO[bytes], io.BufferedReader(BoundedInflation(part, lambda: member.compress_size, member.filename)))


def _gzip_grids(opener: Callable[[], IO[bytes]], encoding: str | None, label: str | None) -> Iterator[Grid]:
    """The grid(s) of gzip-compressed content, whatever the file is called, inflated as it is read."""

    def inflated() -> IO[bytes]:
        raw = Counted(opener())
        stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw))
        return cast(IO[bytes], io.BufferedReader(BoundedInflation(stream, lambda: raw.count, label or "gzip content")))

    try:
        with inflated() as fh:
            fmt = sniff_format(fh.read(8192))
    except (OSError, EOFError, zlib_error) as exc:
        raise UnreadableFile(f"corrupt gzip content: {exc}") from None
    if fmt not in ("csv", "xlsx", "xls", "ods", "json", "zip"):
        raise UnreadableFile(f"gzip content is {fmt}, not a table")
    yield from _grids(inflated, fmt, encoding, label=label)
