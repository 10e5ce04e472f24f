"""Which text encoding a file uses, and repair of mis-decoded text (mojibake)."""

from __future__ import annotations

import codecs
import re

import ftfy

BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_MOJIBAKE = re.compile("[ÂÃâ][\u0080-\u00bf\u2018-\u203a€™]|†")


def detect_encoding(sample: bytes) -> str:
    """The encoding of a text file from its first bytes.

    A BOM decides; valid UTF-8 is UTF-8; otherwise a pound sign written as
    0x9C before a digit (code page 850/437, Wakefield) means cp850, and
    anything else is read as cp1252, the usual Windows export.

    >>> detect_encoding(b"\\xef\\xbb\\xbfDate,Amount"), detect_encoding("Net Amount(£)".encode("cp1252"))
    ('utf-8-sig', 'cp1252')
    >>> detect_encoding(b"Spend Greater Than \\x9c500"), detect_encoding("Café".encode())
    ('cp850', 'utf-8')
    """
    for bom, name in BOMS:
        if sample.startswith(bom):
            return name
    if len(sample) > 3 and sample[1:2] == b"\x00" and sample[3:4] == b"\x00":
        return "utf-16-le"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"  # the sample cut a character in half
    if re.search(rb"\x9c\d", sample) and not re.search(rb"\xa3\d", sample):
        return "cp850"
    return "cp1252"


def looks_mojibaked(text: str) -> bool:
    """Whether text shows the marks of UTF-8 read as a single-byte code page.

    >>> looks_mojibaked("Â£500"), looks_mojibaked("£500")
    (True, False)
    """
    return bool(_MOJIBAKE.search(text))


def repair_text(text: str) -> str:
    """Undo mojibake (ftfy), including non-breaking spaces shown as daggers, and trim.

    >>> repair_text("Report Date:\u2020 02/07/2012"), repair_text("CafÃ© Nero")
    ('Report Date: 02/07/2012', 'Café Nero')
    """
    if looks_mojibaked(text):
        text = ftfy.fix_text(text).replace("\u2020", " ")
    return " ".join(text.split())


def _cp1252_for_stray_bytes(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252", errors="replace"), error.end


codecs.register_error("cp1252_stray", _cp1252_for_stray_bytes)


def decode_mostly_utf8(data: bytes) -> str:
    """UTF-8 text with a few stray single-byte (cp1252) characters, as in many council exports.

    >>> decode_mostly_utf8("Café £".encode() + b" \\xa3500")
    'Café £ £500'
    """
    return data.decode("utf-8", errors="cp1252_stray")
