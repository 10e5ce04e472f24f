"""Which text encoding a file uses, and repair of mis-decoded text (mojibake)."""

from __future__ import annotations

import codecs
import itertools
import re
from collections import Counter

import ftfy

BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_MOJIBAKE = re.compile("[ÂÃâ][\u0080-\u00bf\u2018-\u203a€™]|†")


#: single-byte code pages councils' systems export, most common first (ties go to the first)
LEGACY_ENCODINGS = ("cp1252", "cp850", "mac_roman")
_APOSTROPHES = "\u2019\u2018\u00b4\u02bc`"
_QUOTES = "\u201c\u201d\u00ab\u00bb\u201e"
_CURRENCY = "£€$"


def detect_encoding(sample: bytes) -> str:
    """The encoding of a text file from its first bytes.

    A BOM decides; valid UTF-8 is UTF-8; otherwise each single-byte code page
    is scored by what its reading of the non-ASCII bytes looks like in context
    (:func:`legacy_score`): a pound sign before a digit, an apostrophe between
    letters, an accented letter inside a word.

    >>> detect_encoding(b"\\xef\\xbb\\xbfDate,Amount"), detect_encoding("Net Amount(£)".encode("cp1252"))
    ('utf-8-sig', 'cp1252')
    >>> detect_encoding(b"Spend Greater Than \\x9c500"), detect_encoding("Café".encode())
    ('cp850', 'utf-8')
    >>> detect_encoding(b"St Francis Children\\xabs Society,\\xa3500")
    'mac_roman'
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
    contexts = byte_contexts(sample)
    scores = {name: legacy_score(contexts, name) for name in LEGACY_ENCODINGS}
    return max(LEGACY_ENCODINGS, key=lambda name: (scores[name], -LEGACY_ENCODINGS.index(name)))


def legacy_score(contexts: Counter, encoding: str) -> float:
    """How plausible a single-byte code page's reading of the non-ASCII bytes is (higher is better).

    Each distinct (byte, neighbours) context (:func:`byte_contexts`) is scored once, weighted by how often it occurs.

    >>> pound = byte_contexts(b"over \\xa3500")
    >>> legacy_score(pound, "cp1252") > legacy_score(pound, "cp850")
    True
    """
    return sum(
        count * _char_score(bytes([byte]).decode(encoding, errors="replace"), before, after)
        for (before, byte, after), count in contexts.items()
    )


def byte_contexts(sample: bytes, limit: int = 400) -> Counter:
    """How often each non-ASCII byte occurs between each kind of neighbour (letter, digit or other ASCII).

    >>> byte_contexts(b"Caf\\xe9 \\xa31")
    Counter({('a', 233, ' '): 1, (' ', 163, '1'): 1})
    """
    last = len(sample) - 1
    starts = (match.start() for match in itertools.islice(_NON_ASCII.finditer(sample), limit))
    return Counter(
        (_KIND[sample[at - 1]] if at else " ", sample[at], _KIND[sample[at + 1]] if at < last else " ") for at in starts
    )


_NON_ASCII = re.compile(rb"[\x80-\xff]")
#: Each byte as the character that stands for its kind: 'a' an ASCII lower-case letter, 'A' upper, '1' a digit, ' ' other.
_KIND = tuple(
    "a" if byte.islower() else "A" if byte.isupper() else "1" if byte.isdigit() else " "
    for byte in (bytes([value]) for value in range(256))
)


def _char_score(char: str, before: str, after: str) -> float:
    """Plausibility of one decoded character between its ASCII neighbours."""
    inside_word = before.isalpha() and after.isalpha()
    if char in _CURRENCY:
        return 3.0 if after.isdigit() or before in ' "-(,\t' else 1.0
    if char in _APOSTROPHES:
        return 3.0 if inside_word else 0.5
    if char in _QUOTES:
        return -1.0 if inside_word else 1.0
    if char.isalpha():
        if inside_word or (before.isalpha() and not after.isalnum()) or (after.isalpha() and not before.isalnum()):
            return 1.0 if char.isupper() and before.islower() else 2.0
        return 0.0
    if char in "\u2013\u2014\u2026\u00a0\u00b0\u00bd\u00bc\u00be":
        return 0.5 if not inside_word else -0.5
    if char == "\ufffd" or ord(char) < 0x20 or 0x2500 <= ord(char) <= 0x259F:
        return -3.0  # undefined byte, control character or box drawing: not text
    return -0.5


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
