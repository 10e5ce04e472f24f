"""Tell a file's format from its first bytes, never from its name."""

from __future__ import annotations

FORMATS = ("csv", "xlsx", "xls", "ods", "zip", "pdf", "html", "json", "unknown")


def sniff_format(head: bytes) -> str:
    """The format of a file from its first few KB.

    >>> sniff_format(b"%PDF-1.7 ...")
    'pdf'
    >>> sniff_format(b"\\xef\\xbb\\xbfDate,Supplier,Amount\\r\\n")
    'csv'
    >>> sniff_format(b"  <!DOCTYPE html><html>")
    'html'
    """
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith(b"PK\x03\x04"):
        if b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet" in head[:200]:
            return "ods"
        if b"[Content_Types].xml" in head or b"xl/" in head:
            return "xlsx"
        return "zip"
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
