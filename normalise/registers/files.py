"""Opening register bulk files: local paths or http(s) URLs, zipped or not, read as CSV batches."""

from __future__ import annotations

import csv
import functools
import io
import shutil
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

import pyarrow as pa
import pyarrow.csv as pacsv


class RegisterFileError(ValueError):
    """A register file that cannot be read, named with the reason."""


@contextmanager
def local_copy(source: str, workdir: Path) -> Iterator[Path]:
    """``source`` as a local path, downloading an http(s) URL into ``workdir`` first."""
    if source.startswith(("http://", "https://")):
        target = workdir / (source.rstrip("/").rsplit("/", 1)[-1] or "download")
        try:
            with urllib.request.urlopen(source, timeout=60) as response, target.open("wb") as out:
                shutil.copyfileobj(response, out, length=1 << 20)
        except OSError as error:
            raise RegisterFileError(f"{source}: download failed ({error})") from error
        yield target
        target.unlink(missing_ok=True)
        return
    path = Path(source)
    if not path.exists():
        raise RegisterFileError(f"{source}: no such file or directory")
    yield path


@contextmanager
def opened_members(sources: Sequence[str]) -> Iterator[list[tuple[str, BinaryIO]]]:
    """Every data file in ``sources`` (files, zips, directories, URLs) as (label, binary stream).

    The streams are opened lazily: iterate the list in order and read each one once.
    """
    with tempfile.TemporaryDirectory(prefix="registers-") as tmp, ExitStack() as stack:
        members: list[tuple[str, BinaryIO]] = []
        for source in sources:
            path = stack.enter_context(local_copy(source, Path(tmp)))
            paths = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
            for item in paths:
                members += _data_files(item, source if item == path else f"{source}/{item.name}", stack)
        yield members


def _data_files(path: Path, label: str, stack: ExitStack) -> list[tuple[str, BinaryIO]]:
    """The CSV/TXT files a path holds: itself, or the members of a zip."""
    if zipfile.is_zipfile(path):
        try:
            archive = stack.enter_context(zipfile.ZipFile(path))
        except zipfile.BadZipFile as error:
            raise RegisterFileError(f"{label}: broken zip ({error})") from error
        found: list[tuple[str, BinaryIO]] = [
            (f"{label}!{info.filename}", _lazy(functools.partial(archive.open, info)))
            for info in archive.infolist()
            if not info.is_dir() and info.filename.lower().endswith(_DATA_SUFFIXES)
        ]
    elif path.suffix.lower() == ".zip":
        raise RegisterFileError(f"{label}: not a readable zip (truncated or corrupt download?)")
    elif path.name.lower().endswith(_DATA_SUFFIXES):
        found = [(label, _lazy(lambda: path.open("rb")))]
    else:
        found = []
    for _, stream in found:
        stack.callback(stream.close)
    return found


_DATA_SUFFIXES = (".csv", ".txt", ".tsv")


def _lazy(opener: Callable[[], IO[bytes]]) -> BinaryIO:
    return cast(BinaryIO, _LazyOpen(opener))


class _LazyOpen(io.RawIOBase):
    """A binary stream opened at its first read (so many members can be listed cheaply)."""

    def __init__(self, opener: Callable[[], IO[bytes]]) -> None:
        self._opener = opener
        self._stream: IO[bytes] | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._stream is None:
            self._stream = self._opener()
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
        super().close()


class _Prefixed(io.RawIOBase):
    """Bytes already read from a stream, followed by the rest of it."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if len(self._head):
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _encoding(head: bytes) -> str:
    """utf8, or cp1252 when the first bytes are not UTF-8 (a character cut at the end is fine)."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return "utf8" if error.start >= len(head) - 3 and error.reason == "unexpected end of data" else "cp1252"
    return "utf8"


class Table:
    """A delimited text file whose header has been read: its columns, and batches of rows."""

    def __init__(self, label: str, stream: BinaryIO, *, delimiter: str = ",", quoted: bool = True) -> None:
        self.label = label
        head = stream.read(1 << 16)
        if not head:
            raise RegisterFileError(f"{label}: empty file")
        if b"\x00" in head:
            raise RegisterFileError(f"{label}: binary data, not a CSV or text file")
        self._encoding = _encoding(head)
        first = head.split(b"\n", 1)[0].decode(self._encoding.replace("utf8", "utf-8-sig"), "replace").rstrip("\r")
        self.delimiter = "\t" if delimiter == "\t" or ("\t" in first and "," not in first) else delimiter
        self.quoted = quoted
        try:
            self.header = next(csv.reader([first], delimiter=self.delimiter)) if quoted else first.split(self.delimiter)
        except csv.Error as error:
            raise RegisterFileError(f"{label}: not a readable CSV header ({error})") from error
        self.columns = {name.strip(): name for name in self.header if name.strip()}
        self._stream = io.BufferedReader(_Prefixed(head, stream), buffer_size=1 << 20)
        self.skipped_rows = 0

    def has(self, *names: str) -> bool:
        return all(n in self.columns for n in names)

    def batches(self, required: Sequence[str], optional: Sequence[str] = ()) -> Iterator[pa.RecordBatch]:
        """Record batches of the named columns (header names stripped), all strings, '' for blanks."""
        missing = [n for n in required if n not in self.columns]
        if missing:
            raise RegisterFileError(f"{self.label}: missing columns {missing}; found {list(self.columns)}")
        wanted = [n for n in (*required, *optional) if n in self.columns]

        def skip(_row: list[str]) -> str:
            self.skipped_rows += 1
            return "skip"

        try:
            reader = pacsv.open_csv(
                self._stream,
                read_options=pacsv.ReadOptions(
                    block_size=8 << 20, encoding=self._encoding, column_names=self.header, skip_rows=1
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.delimiter, quote_char='"' if self.quoted else False, invalid_row_handler=skip
                ),
                convert_options=pacsv.ConvertOptions(
                    include_columns=[self.columns[n] for n in wanted],
                    column_types={self.columns[n]: pa.string() for n in wanted},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            for batch in reader:
                columns = [batch.column(self.columns[n]) for n in wanted]
                absent = [pa.nulls(batch.num_rows, pa.string()) for n in optional if n not in self.columns]
                yield pa.RecordBatch.from_arrays(
                    columns + absent, names=wanted + [n for n in optional if n not in self.columns]
                )
        except (pa.ArrowInvalid, UnicodeDecodeError, OSError, zipfile.BadZipFile) as error:
            raise RegisterFileError(f"{self.label}: unreadable ({error})") from error
