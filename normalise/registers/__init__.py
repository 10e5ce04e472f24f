"""Register bulk files to Parquet: Companies House, charity registers, mutuals and councils.

See ``normalise.registers.tables`` for the Parquet layout.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

from normalise.registers.files import RegisterFileError, Table, opened_members
from normalise.registers.loaders import LOADERS, SIGNATURES, check_signature, load_public_bodies
from normalise.registers.tables import LINKS, NAMES, ORGANISATIONS, REGISTER_NAMES, RegisterWriter

__all__ = ["load_registers", "RegisterFileError", "ORGANISATIONS", "NAMES", "LINKS", "REGISTER_NAMES"]


def load_registers(
    out_dir: Path,
    *,
    companies: Sequence[str] = (),
    charities: Sequence[str] = (),
    oscr: Sequence[str] = (),
    ccni: Sequence[str] = (),
    mutuals: Sequence[str] = (),
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Load the given register files into ``out_dir`` as Parquet; return organisations per register.

    Each source is a local path or http(s) URL, zipped or not; several make a multi-part set.
    ``charities`` is the Charity Commission (England and Wales) extract: its directory or the
    charity and charity_other_names files.  Councils are loaded as public bodies every time.
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
