"""Register bulk files to Parquet: Companies House, charity registers, mutuals and councils,
the links between them (``links``), and each organisation's size band and sector (``classify``).

See ``normalise.registers.tables`` for the Parquet layout.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

from normalise.registers.files import RegisterFileError, Table, opened_members
from normalise.registers.links import infer_same_name_links, load_link_tables
from normalise.registers.loaders import LOADERS, SIGNATURES, check_signature, load_public_bodies
from normalise.registers.tables import (
    LINK_SOURCES,
    LINKS,
    NAMES,
    ORGANISATIONS,
    REGISTER_NAMES,
    RegisterWriter,
    register_file,
)

__all__ = [
    "load_registers",
    "RegisterFileError",
    "ORGANISATIONS",
    "NAMES",
    "LINKS",
    "REGISTER_NAMES",
    "LINK_SOURCES",
    "register_file",
]


def load_registers(
    out_dir: Path,
    *,
    companies: Sequence[str] = (),
    charities: Sequence[str] = (),
    oscr: Sequence[str] = (),
    ccni: Sequence[str] = (),
    mutuals: Sequence[str] = (),
    links: Sequence[str] = (),
    same_name_links: bool = True,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Load the given register files into ``out_dir`` as Parquet; return organisations per register
    (and the links loaded from ``links`` tables and inferred from same names).

    Each source is a local path or http(s) URL, zipped or not; several make a multi-part set.
    ``charities`` is the Charity Commission (England and Wales) extract: its directory or the
    charity and charity_other_names files.  ``links`` are link tables (``org_id_a,org_id_b,...``).
    Councils are loaded as public bodies every time, and same-name charity–company links are
    inferred again over everything loaded (``same_name_links=False`` removes them instead).
    ``progress(register, rows)`` is called after each batch with the number of rows it held.  A register's files are
    replaced only when all of its sources load and hold organisations; a bad file, or sources with no file
    of the register's layout, raise ``RegisterFileError`` (naming them) and leave the loaded register as it was.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda register, rows: None)
    counts: dict[str, int] = {}
    for register, sources in (
        ("companies", companies),
        ("ccew", charities),
        ("oscr", oscr),
        ("ccni", ccni),
        ("mutuals", mutuals),
    ):
        if isinstance(sources, (str, Path)):
            sources = [sources]
        if sources:
            counts[register] = _load_one(
                out_dir, register, [str(s) for s in sources], functools.partial(report, register)
            )
    writer = RegisterWriter(out_dir, "public_bodies")
    load_public_bodies(writer)
    writer.close()
    counts["public_bodies"] = writer.rows
    report("public_bodies", writer.rows)
    if isinstance(links, (str, Path)):
        links = [links]
    if links:
        counts["link_tables"] = load_link_tables([str(s) for s in links], out_dir)
        report("link_tables", counts["link_tables"])
    if same_name_links:
        counts["same_name_links"] = infer_same_name_links(out_dir)["linked"]
        report("same_name_links", counts["same_name_links"])
    else:
        register_file(out_dir, "same_name", "_links").unlink(missing_ok=True)
    return counts


def _load_one(out_dir: Path, register: str, sources: list[str], progress: Callable[[int], None]) -> int:
    writer = RegisterWriter(out_dir, register)
    ok = False
    try:
        with opened_members(sources) as members:
            if not members:
                raise RegisterFileError(f"{', '.join(sources)}: no CSV or text file found for {register}")
            loaded = 0
            for label, stream in members:
                table = Table(label, stream, delimiter="\t" if register == "ccew" else ",", quoted=register != "ccew")
                if register == "ccew" and not table.has("registered_charity_number"):
                    continue  # another table of the extract (trustees, classification, ...)
                check_signature(table, register)
                LOADERS[register](table, writer, progress)
                loaded += 1
            if not loaded:
                raise RegisterFileError(
                    f"{', '.join(sources)}: no {register} register file found (expected columns "
                    f"{list(SIGNATURES[register])}; looked in {', '.join(label for label, _ in members)})"
                )
            if not writer.rows:
                raise RegisterFileError(
                    f"{', '.join(sources)}: no {register} organisations found "
                    f"(the register's main table is missing or empty)"
                )
        ok = True
    finally:
        writer.close(ok)
    return writer.rows
