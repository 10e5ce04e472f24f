"""Parsing: one published file (CSV, XLSX, XLS, ODS, JSON, ZIP, gzip) to canonical rows and rejects.

``parse.py`` orchestrates the steps, each in its own module: ``sniff`` (format from the bytes),
``encoding`` (code page by evidence, mojibake repair), ``limits`` (bounds on inflation, sheet size
and cell size), ``tables`` (cell grids from every format, streamed), ``vocabulary`` (what a header's
words name), ``columns`` (which column is which field, from headers and values), ``header`` (where
the header is), ``sheet`` (header rows further down), ``datasets`` (spend, purchase card, grants, or
not a payment list and why), ``values`` (amounts, dates, flags), ``rows`` (spend rows, rejects and
row issues), ``contracts`` (contracts registers), ``council_inference``, ``rowid`` (stable row ids)
and ``overlap`` (a row published in two files kept once).
"""

from normalise.parsing.parse import ParseResult, iter_parse, parse_file, parse_to_files

__all__ = ["ParseResult", "iter_parse", "parse_file", "parse_to_files"]
