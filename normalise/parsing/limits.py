"""Bounds that keep a hostile or broken file from taking the machine: inflation, sheet size, cell size.

A crawl reads files nobody has checked. Compressed content (zip members, gzip streams, the XML
inside workbooks) is inflated only up to a total size and a compression ratio; a workbook sheet is
opened only when its rows × columns fit in memory; a cell or line too large to be data rejects its
row, not the file.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import IO

#: the most bytes one compressed member or stream may inflate to
MAX_INFLATED_BYTES = 4 << 30
#: inflating further than this many times the compressed size is refused (a zip of newlines is ~1000x)
MAX_RATIO = 100
#: members that inflate to less than this are never refused for their ratio
RATIO_GRACE = 16 << 20
#: the most cells (rows x columns) a workbook sheet may span before it is opened
MAX_SHEET_CELLS = 25_000_000
#: the most bytes of a workbook held in memory when it sits inside another archive
MAX_WORKBOOK_BYTES = 512 << 20
#: a cell longer than this (UTF-8 bytes) is not data: its row is rejected
MAX_CELL_BYTES = 128 << 10


class TooLarge(ValueError):
    """A bound was hit: the file (or one part of it) is refused with this reason."""


def check_member(info: zipfile.ZipInfo) -> None:
    """Refuse an archive member whose declared size or compression ratio is out of bounds.

    >>> info = zipfile.ZipInfo("month.csv"); info.file_size, info.compress_size = 1 << 30, 1 << 20
    >>> check_member(info)
    Traceback (most recent call last):
    ...
    normalise.parsing.limits.TooLarge: month.csv would inflate 1024x (1024 MiB from 1 MiB): refused
    """
    if info.file_size > MAX_INFLATED_BYTES:
        raise TooLarge(f"{info.filename} would inflate to {info.file_size >> 20} MiB: refused")
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > RATIO_GRACE and ratio > MAX_RATIO:
        raise TooLarge(
            f"{info.filename} would inflate {ratio:.0f}x ({info.file_size >> 20} MiB from "
            f"{info.compress_size >> 20} MiB): refused"
        )


class Counted(io.RawIOBase):
    """A readable stream that counts the bytes read through it."""

    def __init__(self, inner: IO[bytes]) -> None:
        self._inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


class BoundedInflation(Counted):
    """A readable stream over inflated bytes that stops at the size and ratio bounds.

    ``consumed`` tells how many compressed bytes have been read so far.
    """

    def __init__(self, inner: IO[bytes], consumed: Callable[[], int], name: str) -> None:
        super().__init__(inner)
        self._consumed = consumed
        self._name = name

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = super().readinto(buffer)
        if self.count > MAX_INFLATED_BYTES:
            raise TooLarge(f"{self._name} inflates beyond {MAX_INFLATED_BYTES >> 20} MiB: refused")
        if self.count > RATIO_GRACE and self.count / max(self._consumed(), 1) > MAX_RATIO:
            raise TooLarge(f"{self._name} inflates more than {MAX_RATIO}x: refused")
        return n


_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"(\d{1,9})\"")
_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]{1,4})(\d{1,9})")


def column_number(letters: bytes) -> int:
    """An A1-style column as a number.

    >>> column_number(b"A"), column_number(b"AB"), column_number(b"XFD")
    (1, 28, 16384)
    """
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def sheet_extent(xml: IO[bytes]) -> tuple[int, int]:
    """(rows, columns) an XLSX worksheet part spans, from the positions its rows and cells name, streamed.

    A cell's own reference counts as much as its row's: the reader places a cell where its reference says.

    >>> sheet_extent(io.BytesIO(b'<row r="1"><c r="A1"/><c r="C1"/></row><row r="40"><c r="B40"/></row>'))
    (40, 3)
    >>> sheet_extent(io.BytesIO(b'<row r="1"><c r="A1000000"/></row>'))
    (1000000, 1)
    """
    rows = 0
    columns: set[bytes] = set()
    for text in _windows(xml, overlap=256):
        cells = _CELL.findall(text)
        numbers = _ROW.findall(text) + [number for _, number in cells]
        columns.update(letters for letters, _ in cells)
        if numbers:  # rows come in order, but a hostile part need not: every number counts
            rows = max(rows, *map(int, numbers))
    return rows, max((column_number(c) for c in columns), default=0)


#: A row number of four digits or more, or a four-letter column, in any reference: without one, a sheet spans at
#: most 999 rows x 18,278 columns (ZZZ), within MAX_SHEET_CELLS, so its extent need not be worked out.
_LARGE_REF = re.compile(rb'r="(?:[A-Z]{0,4}[0-9]{4}|[A-Z]{4})')


def may_be_large(xml: IO[bytes]) -> bool:
    """Whether an XLSX worksheet part names a row past 999 or a column past ZZZ (only then is :func:`sheet_extent`
    worth its cost: a search for one literal is several times faster than reading every reference), streamed.

    >>> may_be_large(io.BytesIO(b'<row r="999"><c r="ZZZ999"/></row>')), may_be_large(io.BytesIO(b'<row r="1000"/>'))
    (False, True)
    """
    return any(_LARGE_REF.search(text) for text in _windows(xml, overlap=16))


def _windows(xml: IO[bytes], overlap: int) -> Iterator[bytes]:
    """A part's bytes a MiB at a time, each block after the last ``overlap`` bytes of the one before: a match
    cut by a block's end (shorter than ``overlap``) is whole in the next window."""
    tail = b""
    while block := xml.read(1 << 20):
        text = tail + block
        yield text
        tail = text[-overlap:]


_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\bname=\"([^\"]*)\"[^>]*?\br(?:elationships)?:id=\"([^\"]+)\"")
_SHEET_ID_FIRST = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\br(?:elationships)?:id=\"([^\"]+)\"[^>]*?\bname=\"([^\"]*)\"")
_REL = re.compile(
    rb"<Relationship\b[^>]*?\bId=\"([^\"]+)\"[^>]*?\bTarget=\"([^\"]+)\"|"
    rb"<Relationship\b[^>]*?\bTarget=\"([^\"]+)\"[^>]*?\bId=\"([^\"]+)\""
)


def oversized_sheets(archive: zipfile.ZipFile) -> dict[str, str]:
    """XLSX sheets (by name) too large to open, with the reason; every member checked for inflation too."""
    for info in archive.infolist():
        check_member(info)
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names:
        return {}
    workbook = archive.read("xl/workbook.xml")
    rels = archive.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else b""
    targets = {}
    for m in _REL.finditer(rels):
        rel_id, target = (m[1], m[2]) if m[1] else (m[4], m[3])
        targets[rel_id.decode("utf-8", "replace")] = target.decode("utf-8", "replace").lstrip("/")
    sheets = [(m[1], m[2]) for m in _SHEET.finditer(workbook)] or [
        (m[2], m[1]) for m in _SHEET_ID_FIRST.finditer(workbook)
    ]
    refused = {}
    for raw_name, rel_id in sheets:
        target = targets.get(rel_id.decode("utf-8", "replace"), "")
        part = target if target.startswith("xl/") else f"xl/{target}"
        if part not in names:
            continue
        with archive.open(part) as xml:
            if not may_be_large(xml):
                continue
        with archive.open(part) as xml:
            rows, cols = sheet_extent(xml)
        if rows * cols > MAX_SHEET_CELLS:
            name = html.unescape(raw_name.decode("utf-8", "replace"))
            refused[name] = f"sheet {name!r} spans {rows:,} rows x {cols:,} columns: too large to open"
    return refused
