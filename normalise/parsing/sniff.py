"""Tell a file's format from its first bytes, never from its name."""

from __future__ import annotations

FORMATS = ("csv", "xlsx", "xls", "ods", "zip", "gzip", "pdf", "html", "json", "unknown")


def sniff_format(head: bytes) -> str:
    """The format of a file from its first few KB.

    >>> sniff_format(b"%PDF-1.7 ...")
    'pdf'
    >>> sniff_format(b"\\xef\\xbb\\xbfDate,Supplier,Amount\\r\\n")
    'csv'
    >>> sniff_format(b"  <!DOCTYPE html><html>"), sniff_format(b"\\x1f\\x8b\\x08\\x00")
    ('html', 'gzip')
    """
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(head)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head[2:].replace(b"\x00", b"")  # UTF-16 text: judge the ASCII it spells
    elif b"\x00" in head:
        return "unknown"  # binary we do not read
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text[:512]:
        return "html"
    if text[:1] in (b"{", b"["):
        return "json"
    if not text:
        return "unknown"
    return "csv"


_OOXML_FIRST_ENTRIES = (b"[Content_Types].xml", b"_rels/", b"docProps/", b"xl/")


def _zip_kind(head: bytes) -> str:
    """ods, xlsx or a plain zip, from the name of the archive's first entry.

    >>> _zip_kind(b"PK\\x03\\x04" + bytes(22) + (8).to_bytes(2, "little") + bytes(2) + b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet")
    'ods'
    >>> _zip_kind(b"PK\\x03\\x04" + bytes(22) + (9).to_bytes(2, "little") + bytes(2) + b"month.csv")
    'zip'
    """
    name_length = int.from_bytes(head[26:28], "little")
    name = head[30 : 30 + name_length]
    if name == b"mimetype" and b"opendocument.spreadsheet" in head[30 + name_length : 30 + name_length + 120]:
        return "ods"
    if name.startswith(_OOXML_FIRST_ENTRIES):
        return "xlsx"
    return "zip"
