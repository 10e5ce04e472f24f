"""The normaliser's work area: each file's parse, and what each council was last built from.

``_work/parsed/<COUNCIL>/<sha256>.json`` is a file's parse summary and its commit point: it is
written (atomically) after the rows it names — ``<sha256>-<token>.arrow`` (spend, an Arrow IPC file:
private to the work area and cheap to write and read back), and where the parser wrote them
``.contracts.arrow`` and ``.rejects.arrow`` beside it — so a summary always
describes whole outputs, and a parse killed half-way leaves no summary (the file is parsed again)
and at worst unreferenced outputs. Each summary records the parser version that read the file
and a digest of its outputs. Summaries written before the work area used Arrow name Parquet outputs
(no ``output_suffix``); those are read as they are, and replaced when the file is next parsed.

``_work/builds/<COUNCIL>.json`` says which parses (sha256 and digest, in preference order) the
council's published partitions were built from, and the rows each file put in spend and in
rejects. It is committed with the partitions, so "does this council need rebuilding?" is always
answered by comparing it with the current parses, whatever run was interrupted where.

Both are read tolerantly: a missing, truncated or foreign file reads as absent, never as an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from normalise.parsing.parse import output_name
from normalise.store.atomic import write_json
from normalise.store.layout import Layout

#: The tables a parse can write, in the order its digest reads them.
TABLES = ("spend", "contracts", "rejects")
#: How parse outputs are written now (see :func:`normalise.parsing.parse.parse_to_files`).
OUTPUT_SUFFIX = ".arrow"
#: ... and how they were before summaries said (Parquet).
LEGACY_SUFFIX = ".parquet"


def read_json(path: Path) -> dict | None:
    """A JSON object from ``path``; None when it is missing, unreadable or not an object.

    >>> import tempfile
    >>> cut = Path(tempfile.mkdtemp()) / "cut.json"
    >>> _ = cut.write_text('{"status": "o')
    >>> read_json(cut) is None
    True
    """
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class Parse:
    """One file's parse, as its summary records it."""

    council_code: str
    sha256: str
    summary: dict

    @property
    def parser_version(self) -> int | None:
        version = self.summary.get("parser_version")
        return version if isinstance(version, int) else None

    @property
    def digest(self) -> str:
        return str(self.summary.get("digest"))

    @property
    def status(self) -> str | None:
        return self.summary.get("status")

    def outputs(self, layout: Layout) -> dict[str, Path]:
        """The files the parse wrote, by table (a summary too old to list them: its spend file)."""
        suffix = self.summary.get("output_suffix", LEGACY_SUFFIX)
        paths = output_paths(layout, self.council_code, self.sha256, self.summary["outputs"], suffix)
        return {table: paths[table] for table in self.summary.get("tables", ["spend"])}


def output_paths(
    layout: Layout, council_code: str, sha256: str, token: str, suffix: str = OUTPUT_SUFFIX
) -> dict[str, Path]:
    """Where a parse (``token``) writes each table: the spend file, the others beside it."""
    folder, stem = layout.parsed_dir(council_code), f"{sha256}-{token}"
    return {table: folder / output_name(stem, table, suffix) for table in TABLES}


def load_parse(layout: Layout, council_code: str, sha256: str) -> Parse | None:
    """The file's last complete parse, or None (never parsed, killed mid-parse, or written before digests)."""
    summary = read_json(layout.parsed(council_code, sha256, ".json"))
    if summary is None or not isinstance(summary.get("outputs"), str) or not summary.get("digest"):
        return None
    parse = Parse(council_code, sha256, summary)
    return parse if all(path.is_file() for path in parse.outputs(layout).values()) else None


def summary_names(layout: Layout, council_code: str) -> set[str]:
    """The names of the parse summaries a council's folder holds (none when it has no folder yet).

    >>> import tempfile
    >>> layout = Layout(Path(tempfile.mkdtemp()))
    >>> summary_names(layout, "BIR")
    set()
    >>> _ = write_json(layout.parsed("BIR", "ab12", ".json"), {})
    >>> summary_names(layout, "BIR"), summary_names(layout, "MAN")
    ({'ab12.json'}, set())
    """
    try:
        with os.scandir(layout.parsed_dir(council_code)) as entries:
            return {entry.name for entry in entries if entry.name.endswith(".json")}
    except (FileNotFoundError, NotADirectoryError):
        return set()


def new_outputs(layout: Layout, council_code: str, sha256: str) -> tuple[str, Path]:
    """A fresh token and the spend path a new parse writes (beside, never over, the last parse's)."""
    token = uuid.uuid4().hex[:12]
    return token, output_paths(layout, council_code, sha256, token)["spend"]


def discard_outputs(layout: Layout, council_code: str, sha256: str, token: str) -> None:
    """Delete what a parse that did not finish wrote (its outputs and their partial files)."""
    for path in layout.parsed_dir(council_code).glob(f"{sha256}-{token}.*"):
        path.unlink(missing_ok=True)


def file_digest(outputs: dict[str, Path]) -> str:
    """sha256 over each table's name and bytes, in :data:`TABLES` order: the same rows written the same way, the same digest."""
    digest = hashlib.sha256()
    for table in TABLES:
        if table in outputs:
            digest.update(table.encode())
            with open(outputs[table], "rb") as stream:
                while chunk := stream.read(1 << 20):
                    digest.update(chunk)
    return digest.hexdigest()


def save_parse(
    layout: Layout, council_code: str, sha256: str, token: str, summary: dict, version: int, durable: bool = True
) -> Parse:
    """Commit a parse whose outputs (``token``) are written: write its summary, then drop the previous outputs.

    ``durable=False`` leaves flushing to the caller, who saves a batch of parses with one flush
    before (the outputs) and one after (the summaries): see :func:`normalise.parsing.batch.parse_batch`.
    """
    previous = load_parse(layout, council_code, sha256)
    written = {t: p for t, p in output_paths(layout, council_code, sha256, token).items() if p.is_file()}
    tables = [table for table in TABLES if table in written]
    recorded = summary | {
        "council_code": council_code,
        "sha256": sha256,
        "parser_version": version,
        "outputs": token,
        "output_suffix": OUTPUT_SUFFIX,
        "tables": tables,
        "digest": file_digest(written),
    }
    write_json(layout.parsed(council_code, sha256, ".json"), recorded, durable, readable=False)  # thousands a run
    if previous is not None and previous.summary["outputs"] != token:
        for path in previous.outputs(layout).values():
            path.unlink(missing_ok=True)
    return Parse(council_code, sha256, recorded)


@dataclass(frozen=True)
class Build:
    """What a council's published partitions were built from."""

    inputs: list[list[str]]  # [sha256, digest] per file, in preference order
    counts: dict[str, list[int]] = field(default_factory=dict)  # sha256 -> [rows in spend, rows in rejects]

    def to_json(self) -> dict:
        return {"inputs": self.inputs, "counts": self.counts}


def load_build(layout: Layout, council_code: str) -> Build | None:
    record = read_json(layout.build_record(council_code))
    if record is None or not isinstance(record.get("inputs"), list) or not isinstance(record.get("counts"), dict):
        return None
    return Build([list(pair) for pair in record["inputs"]], dict(record["counts"]))
