"""Parsing: one published file (CSV, XLSX, XLS, ODS, ZIP) to canonical spend rows and rejects.

``parse.py`` orchestrates the steps, each in its own module: ``sniff`` (format from the bytes),
``encoding``, ``tables`` (cell grids from every format), ``header`` (where the header row is),
``columns`` (which column is which canonical field), ``values`` (amounts and dates),
``datasets`` (spend, purchase card, grants or not spend), ``council_inference``, ``rowid``
(stable row ids) and ``overlap`` (a transaction published in two files kept once).
"""

from normalise.parsing.parse import ParseResult, iter_parse, parse_file, parse_to_parquet

__all__ = ["ParseResult", "iter_parse", "parse_file", "parse_to_parquet"]
