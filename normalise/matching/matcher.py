"""Match supplier names as councils publish them to registered organisations.

Strongest evidence first, per distinct (name, published numbers):

1. the user's overrides file (by name key) wins over everything;
2. company or charity numbers the council published (normalised by ``normalise.orgids``), when
   the register's name for that number is not unlike the published name (or is its initials);
3. names that are redaction labels (``normalise.redaction.is_redacted``, the same test as the spend
   table's ``redacted`` flag) become ``individual_or_redacted``;
4. the exact name key (``normalise.names.supplier_key``) of the name or of either side of
   'X T/A Y', over registered, previous, working and known-as names (a person trading under
   a name, 'S Dawson T/A Dawsons Highways', is an individual); then the same key with its
   spaces removed (spaces moved by typing: 'Dale Surveyin Gplc');
5. names cut short by finance systems (20 characters or more, not ending in a whole legal form):
   the one organisation whose key begins with the published key;
6. fuzzy: rapidfuzz ``ratio``, or its mean with ``token_sort_ratio`` if higher (words reordered),
   over blocked candidates only (the register keys sharing
   the query's two rarest words, after correcting unknown words by one edit), accepted when the
   best score reaches ``FUZZY_CUTOFF`` with a margin of ``FUZZY_MARGIN`` over the runner-up.

Ambiguous cases stay unmatched with their alternatives listed, except that a charity on both the
England and Wales and the Scottish register under one name is reported by its CCEW number (as
360Giving publishers do).  Unmatched names that are plainly public bodies (NHS, police, a
council not in the registry) get org_type public_body.  Organisations on two registers
collapse to one body (``normalise.matching.bodies``): a company that is a charity's company is
that charity (charitable_company, its company number kept), a registered society is its
mutuals-register entry; the links come from the registers, link tables and same-name pairs
(``normalise.registers.links``).  Each answer carries the body's size band and sector
(``normalise.registers.classify``).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from normalise.matching.bodies import resolve_bodies
from normalise.matching.overrides import load_overrides
from normalise.names import (
    compact_key,
    drop_misspelt_legal_suffix,
    is_person_trading,
    looks_public_body,
    supplier_key,
    trading_name_parts,
    truncation_stem,
)
from normalise.orgids import charity_org_ids, company_number
from normalise.parsing.encoding import detect_encoding
from normalise.parsing.sniff import sniff_format
from normalise.redaction import is_redacted
from normalise.registers.classify import SECTOR_OF_ORG_TYPE
from normalise.registers.tables import LINK_SOURCES, LINKS, ORGANISATIONS, REGISTER_NAMES, register_file

FUZZY_CUTOFF = 90.0
FUZZY_MARGIN = 4.0
ALTERNATIVES_CUTOFF = 70.0
PREFIX_SCORE = 95.0
COMPACT_SCORE = 97.0
MIN_TRUNCATED_LENGTH = 20  # finance systems cut names at 20-50 characters
PUBLISHED_ID_NAME_CUTOFF = 50.0
RARE_TOKEN = 500  # a word this rare is a block by itself
MAX_CANDIDATES = 3000
OUTPUT_COLUMNS = [
    "org_id",
    "org_name",
    "org_type",
    "match_method",
    "match_score",
    "alternatives",
    "company_number",
    "linked_by",
    "size_band",
    "sector",
]
#: Columns of the registers the matcher reads (older register files lacking one read it as nulls).
ORG_COLUMNS = ["org_id", "name", "org_type", "active", "company_number", "size_band", "size_basis", "sector"]
LINK_COLUMNS = ["org_id", "linked_org_id", "relation", "method"]
_HIGH = "~"  # sorts after every character a key can hold (a-z, 0-9, space)
_COMPLETE = re.compile(r"(?i)\b(?:ltd|limited|plc|llp|cic|c\.i\.c|cio)\.?\s*$")  # ends in a whole legal form


class MatcherError(ValueError):
    """Registers or input the matcher cannot use."""


@dataclass(frozen=True)
class Outcome:
    """The match found for one published name."""

    org: int | None
    method: str
    score: float | None = None
    alternatives: tuple[tuple[int, float], ...] = ()
    org_type: str | None = None
    org_id: str | None = None  # an override naming a body on none of the loaded registers


class Matcher:
    """Register names indexed for matching; build with ``Matcher.from_dir``."""

    def __init__(self, orgs: pa.Table, names: pa.Table, links: pa.Table, overrides: dict[str, str | None]) -> None:
        self._org_id = orgs["org_id"].combine_chunks()
        self._org_name = orgs["name"].combine_chunks()
        self._org_index = pd.Index(self._org_id.to_numpy(zero_copy_only=False), dtype=object)
        if not self._org_index.is_unique:
            repeated = self._org_index[self._org_index.duplicated()].unique()[:5].tolist()
            raise MatcherError(
                f"the registers list {len(self._org_index) - self._org_index.nunique()} org_ids "
                f"twice (e.g. {repeated}): reload them from one snapshot of each register"
            )
        active = orgs["active"].combine_chunks().fill_null(True).to_numpy(zero_copy_only=False)
        self._bodies = resolve_bodies(orgs, self._org_index, links)
        self._canon = self._bodies.canon
        self._overrides = overrides
        self._build_keys(names, active)
        self._build_tokens()

    @classmethod
    def from_dir(cls, registers_dir: Path, overrides: Path | None = None) -> Matcher:
        """Load the register Parquet files written by ``load_registers`` (and an overrides CSV)."""
        registers_dir = Path(registers_dir)
        present = [r for r in REGISTER_NAMES if (registers_dir / f"{r}.parquet").exists()]
        if not present:
            raise MatcherError(f"{registers_dir}: no register Parquet files (run the registers load first)")

        def read(registers: Iterable[str], suffix: str, schema: pa.Schema) -> pa.Table:
            files = [register_file(registers_dir, r, suffix) for r in registers]
            return pa.concat_tables([_read_columns(f, schema) for f in files if f.exists()] or [schema.empty_table()])

        orgs = read(present, "", _select(ORGANISATIONS, ORG_COLUMNS))
        names = read(
            present, "_names", pa.schema([("org_id", pa.string()), ("name_type", pa.string()), ("key", pa.string())])
        )
        links = read([*present, *LINK_SOURCES], "_links", _select(LINKS, LINK_COLUMNS))
        return cls(orgs, names, links, load_overrides(overrides) if overrides else {})

    # --- building ---------------------------------------------------------------------------

    def _positions(self, org_ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
        return self._org_index.get_indexer(pd.Index(org_ids.to_numpy(zero_copy_only=False), dtype=object))

    def _build_keys(self, names: pa.Table, active: np.ndarray) -> None:
        names = names.filter(pc.is_valid(names["key"]))
        owners = self._positions(names["org_id"])
        known = owners >= 0
        canon = self._canon[owners[known]]
        keys = names["key"].to_numpy(zero_copy_only=False)[known]
        rank = (names["name_type"].to_numpy(zero_copy_only=False)[known] == "previous").astype(np.int8)
        rank += (~active[canon]).astype(np.int8) * 2  # current names of active organisations first
        codes, uniques = pd.factorize(keys, sort=True)
        order = np.lexsort((rank, canon, codes))
        codes, canon, rank = codes[order], canon[order], rank[order]
        first = np.ones(len(codes), dtype=bool)
        first[1:] = (codes[1:] != codes[:-1]) | (canon[1:] != canon[:-1])
        self._entry_org, self._entry_rank = canon[first], rank[first]
        self._key_start = np.searchsorted(codes[first], np.arange(len(uniques) + 1))
        self._keys = np.asarray(uniques, dtype=object)
        self._key_index = pd.Index(self._keys, dtype=object)
        compact_codes, compact = pd.factorize(np.array([k.replace(" ", "") for k in self._keys], dtype=object))
        order = np.argsort(compact_codes, kind="stable")
        self._compact_keys = order.astype(np.int32)
        self._compact_start = np.searchsorted(compact_codes[order], np.arange(len(compact) + 1))
        self._compact_index = pd.Index(np.asarray(compact, dtype=object), dtype=object)
        scheme = pc.utf8_slice_codeunits(self._org_id, 0, 6).to_numpy(zero_copy_only=False)
        self._is_ccew, self._is_oscr = scheme == "GB-CHC", scheme == "GB-SC-"

    def _build_tokens(self) -> None:
        split = pc.split_pattern(pa.array(self._keys, pa.string()), " ")
        parents = pc.list_parent_indices(split).to_numpy()
        token_codes, vocab = pd.factorize(pc.list_flatten(split).to_numpy(zero_copy_only=False))
        self._df = np.bincount(token_codes, minlength=len(vocab))
        order = np.argsort(token_codes, kind="stable")
        self._postings = parents[order].astype(np.int32)
        self._posting_start = np.searchsorted(token_codes[order], np.arange(len(vocab) + 1))
        self._vocab = dict(zip(vocab, range(len(vocab))))
        by_spelling = np.argsort(np.asarray(vocab, dtype=object))
        self._spelled = (np.asarray(vocab, dtype=object)[by_spelling], by_spelling)
        reversed_vocab = np.array([t[::-1] for t in vocab], dtype=object)
        by_ending = np.argsort(reversed_vocab)
        self._reversed = (reversed_vocab[by_ending], by_ending)
        # Block on each key's two rarest words.
        rarity = self._df[token_codes]
        order = np.lexsort((token_codes, rarity, parents))
        p, t = parents[order], token_codes[order].astype(np.int64)
        starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
        rarest = t[starts]
        has_second = np.r_[starts[1:], len(p)] - starts > 1
        second = np.where(has_second, t[np.minimum(starts + 1, len(t) - 1)], rarest)
        pairs = self._pair(rarest, second)
        order = np.argsort(pairs, kind="stable")
        self._pair_codes, self._pair_keys = pairs[order], p[starts][order].astype(np.int32)

    def _pair(self, a: Any, b: Any) -> Any:
        vocab_size = len(self._df)
        return np.minimum(a, b) * vocab_size + np.maximum(a, b)

    # --- matching ---------------------------------------------------------------------------

    def match(self, names: pd.DataFrame) -> pd.DataFrame:
        """Match each row's ``supplier_name`` (and optional published numbers); same row order."""
        if "supplier_name" not in names.columns:
            raise MatcherError(f"input needs a supplier_name column; found {list(names.columns)}")
        columns = ["supplier_name", "company_number_published", "charity_number_published"]
        frame = (
            pd.DataFrame(
                {c: names[c].astype(object) if c in names.columns else None for c in columns}, index=names.index
            )
            .astype(object)
            .where(lambda f: f.notna(), None)
        )
        distinct = frame.drop_duplicates().reset_index(drop=True)
        keys = [supplier_key(n) if isinstance(n, str) else None for n in distinct["supplier_name"]]
        codes = self._key_index.get_indexer(pd.Index([k or "" for k in keys], dtype=object))
        outcomes = [
            self._match_one(name, key, code, company, charity)
            for name, key, code, company, charity in zip(
                distinct["supplier_name"],
                keys,
                codes,
                distinct["company_number_published"],
                distinct["charity_number_published"],
            )
        ]
        result = self._frame(outcomes)
        joined = frame.merge(pd.concat([distinct, result], axis=1), on=columns, how="left")
        output = joined[OUTPUT_COLUMNS].set_index(names.index)
        text = [c for c in OUTPUT_COLUMNS if c != "match_score"]
        output[text] = output[text].astype(object).where(output[text].notna(), None)
        return output

    def _match_one(self, name: object, key: str | None, code: int, company: object, charity: object) -> Outcome:
        if not isinstance(name, str) or not key:
            return Outcome(None, "none", org_type="unmatched")
        if key in self._overrides:
            return self._override(self._overrides[key])
        published = self._published(key, company, charity)
        if published is not None:
            return Outcome(published, "published_id", 100.0)
        if is_redacted(name) or is_person_trading(name):
            return Outcome(None, "none", org_type="individual_or_redacted")
        outcome = self._by_name(name, key, code)
        if outcome.org is None and looks_public_body(name):
            return Outcome(None, "none", alternatives=outcome.alternatives, org_type="public_body")
        return outcome

    def _by_name(self, name: str, key: str, code: int) -> Outcome:
        parts = trading_name_parts(name)
        part_keys = [key] if len(parts) == 1 else [k for k in map(supplier_key, parts) if k]
        part_keys = [drop_misspelt_legal_suffix(k) for k in part_keys]
        part_codes = (
            [code] if len(parts) == 1 and part_keys[0] == key else [_position(self._key_index, k) for k in part_keys]
        )
        alternatives: list[tuple[int, float]] = []
        for part_code in part_codes:
            if part_code >= 0:
                orgs = self._resolve(part_code)
                if len(orgs) == 1:
                    return Outcome(orgs[0], "exact", 100.0)
                return Outcome(None, "none", alternatives=tuple((o, 100.0) for o in orgs[:5]), org_type="unmatched")
        for part, part_key in zip(parts, part_keys):
            outcome = self._compact(part) or self._truncated(part, part_key) or self._fuzzy(part_key)
            if outcome.org is not None:
                return outcome
            alternatives += outcome.alternatives
        best = sorted({o: s for o, s in sorted(alternatives, key=lambda a: a[1])}.items(), key=lambda a: -a[1])
        return Outcome(None, "none", alternatives=tuple(best[:5]), org_type="unmatched")

    def _override(self, org_id: str | None) -> Outcome:
        if not org_id:
            return Outcome(None, "override", 100.0, org_type="unmatched")
        position = _position(self._org_index, org_id)
        if position < 0:
            return Outcome(None, "override", 100.0, org_type=_org_type_of_id(org_id), org_id=org_id)
        return Outcome(int(self._canon[position]), "override", 100.0)

    def _resolve(self, code: int) -> list[int]:
        """Organisations named by a key, the best-ranked ones only (current names of active bodies)."""
        start, end = self._key_start[code], self._key_start[code + 1]
        ranks = self._entry_rank[start:end]
        orgs = self._entry_org[start:end][ranks == ranks.min()]
        if len(orgs) == 2 and self._is_ccew[orgs].sum() == 1 and self._is_oscr[orgs].sum() == 1:
            orgs = orgs[self._is_ccew[orgs]]  # one charity registered in England and Wales and in Scotland
        return [int(o) for o in orgs]

    def _published(self, key: str, company: object, charity: object) -> int | None:
        candidates = []
        if isinstance(company, str) and (number := company_number(company)):
            candidates.append(f"GB-COH-{number}")
        if isinstance(charity, str):
            candidates += charity_org_ids(charity)
        if not candidates:
            return None
        for position in (_position(self._org_index, c) for c in candidates):
            if position >= 0:
                org = int(self._canon[position])
                registered = supplier_key(self._org_name[org].as_py()) or ""
                initials = "".join(word[0] for word in registered.split())
                if fuzz.token_set_ratio(key, registered) >= PUBLISHED_ID_NAME_CUTOFF or key == initials:
                    return org
        return None

    def _compact(self, name: str) -> Outcome | None:
        """The register key that is the name's key once spaces are ignored."""
        compact = compact_key(name)
        position = _position(self._compact_index, compact) if compact and len(compact) >= 8 else -1
        if position < 0:
            return None
        codes = self._compact_keys[self._compact_start[position] : self._compact_start[position + 1]]
        orgs = sorted({o for c in codes for o in self._resolve(int(c))})
        if len(orgs) == 1:
            return Outcome(orgs[0], "fuzzy", COMPACT_SCORE)
        return Outcome(None, "none", alternatives=tuple((o, COMPACT_SCORE) for o in orgs[:5]))

    def _truncated(self, name: str, key: str) -> Outcome | None:
        """A name cut short: the one register key that begins with it."""
        if len(name.strip()) < MIN_TRUNCATED_LENGTH or _COMPLETE.search(name):
            return None
        stem = truncation_stem(key)
        low, high = np.searchsorted(self._keys, [stem, stem + _HIGH])
        if high <= low or high - low > 20:
            return None
        orgs = {o for code in range(low, high) for o in self._resolve(code)}
        if len(orgs) == 1:
            return Outcome(orgs.pop(), "fuzzy", PREFIX_SCORE)
        return Outcome(None, "none", alternatives=tuple((o, PREFIX_SCORE) for o in sorted(orgs)[:5]))

    def _token_ids(self, token: str) -> list[int]:
        """The word's id, or the ids of known words one edit away (by shared start or end)."""
        if token in self._vocab:
            return [self._vocab[token]]
        if len(token) < 4:
            return []
        found: set[int] = set()
        for (spellings, ids), probe in ((self._spelled, token), (self._reversed, token[::-1])):
            low, high = np.searchsorted(spellings, [probe[:3], probe[:3] + _HIGH])
            if 0 < high - low <= 5000:
                hits = process.extract(probe, spellings[low:high], scorer=OSA.distance, score_cutoff=1, limit=5)
                found.update(int(ids[low + i]) for _, _, i in hits)
        return sorted(found)

    def _candidates(self, key: str) -> np.ndarray:
        """Register keys sharing the query's two rarest words (any pair of its three rarest)."""
        words = [ids for word in key.split() if (ids := self._token_ids(word))]
        if not words:
            return np.empty(0, dtype=np.int32)
        words.sort(key=lambda ids: min(self._df[i] for i in ids))
        rarest = words[:3]
        pairs = [(a, b) for i, first in enumerate(rarest) for second in rarest[i + 1 :] for a in first for b in second]
        pairs += [(a, a) for a in rarest[0]] if len(rarest) == 1 else []
        blocks = []
        for a, b in pairs:
            pair = self._pair(a, b)
            low, high = np.searchsorted(self._pair_codes, [pair, pair + 1])
            blocks.append(self._pair_keys[low:high])
        for token in (t for ids in rarest[:2] for t in ids):
            if self._df[token] <= RARE_TOKEN:
                blocks.append(self._postings[self._posting_start[token] : self._posting_start[token + 1]])
        return np.unique(np.concatenate(blocks))[:MAX_CANDIDATES]

    def _fuzzy(self, key: str) -> Outcome:
        candidates = self._candidates(key)
        if not len(candidates):
            return Outcome(None, "none")
        choices = self._keys[candidates]
        ratio = process.cdist([key], choices, scorer=fuzz.ratio)[0]
        sorted_ratio = process.cdist([key], choices, scorer=fuzz.token_sort_ratio)[0]
        combined = np.maximum(ratio, (ratio + sorted_ratio) / 2)  # reordered words count a little less
        best = np.argsort(-combined)[:10]
        scores: dict[int, float] = {}
        for i in best[combined[best] >= ALTERNATIVES_CUTOFF]:
            for org in self._resolve(int(candidates[i])):
                scores[org] = max(scores.get(org, 0.0), float(combined[i]))
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        if (
            ranked
            and ranked[0][1] >= FUZZY_CUTOFF
            and (len(ranked) == 1 or ranked[0][1] - ranked[1][1] >= FUZZY_MARGIN)
        ):
            return Outcome(ranked[0][0], "fuzzy", round(ranked[0][1], 1))
        return Outcome(None, "none", alternatives=tuple(ranked[:5]))

    # --- output -----------------------------------------------------------------------------

    def _frame(self, outcomes: list[Outcome]) -> pd.DataFrame:
        orgs = np.array([o.org if o.org is not None else -1 for o in outcomes], dtype=np.int64)
        found = orgs >= 0
        take = pa.array(np.where(found, orgs, 0))
        org_id = np.where(
            found,
            self._org_id.take(take).to_numpy(zero_copy_only=False),
            np.array([o.org_id for o in outcomes], dtype=object),
        )
        org_name = np.where(found, self._org_name.take(take).to_numpy(zero_copy_only=False), None)
        positions = np.where(found, orgs, 0)
        bodies, nothing = self._bodies, np.full(len(outcomes), None, dtype=object)
        org_type = np.where(found, bodies.org_type[positions], [o.org_type or "unmatched" for o in outcomes])
        sector = np.where(found, bodies.sector[positions], [SECTOR_OF_ORG_TYPE.get(t, "unmatched") for t in org_type])
        size_band = np.where(
            found, bodies.size_band[positions], np.where(np.isin(sector, ["vcse", "private"]), "unknown", nothing)
        )
        return pd.DataFrame(
            {
                "org_id": org_id,
                "org_name": org_name,
                "org_type": org_type,
                "match_method": [o.method for o in outcomes],
                "match_score": [o.score for o in outcomes],
                "alternatives": [
                    self._alternatives(o.alternatives) if o.org is None and o.alternatives else None for o in outcomes
                ],
                "company_number": np.where(found, bodies.company_number[positions], nothing),
                "linked_by": np.where(found, bodies.linked_by[positions], nothing),
                "size_band": size_band,
                "sector": sector,
            }
        ).astype({"match_score": "float64"})

    def _alternatives(self, alternatives: Iterable[tuple[int, float]]) -> str:
        return json.dumps(
            [
                {"org_id": self._org_id[o].as_py(), "org_name": self._org_name[o].as_py(), "score": round(s, 1)}
                for o, s in alternatives
            ]
        )


def _select(schema: pa.Schema, names: list[str]) -> pa.Schema:
    return pa.schema([schema.field(n) for n in names])


def _read_columns(path: Path, schema: pa.Schema) -> pa.Table:
    """The ``schema`` columns of a Parquet file; columns it lacks (written by an older version) as nulls."""
    present = set(pq.read_schema(path).names)
    table = pq.read_table(path, columns=[n for n in schema.names if n in present])
    return pa.table(
        [table[f.name].cast(f.type) if f.name in present else pa.nulls(len(table), f.type) for f in schema],
        schema=schema,
    )


def _position(index: pd.Index, value: str) -> int:
    """Where ``value`` sits in a unique index; -1 if absent."""
    try:
        return int(index.get_loc(value))
    except KeyError:
        return -1


def _org_type_of_id(org_id: str) -> str:
    """The org_type an org-id's scheme implies, for overrides naming bodies not in the registers."""
    prefixes = {
        "GB-COH-": "company",
        "GB-CHC-": "charity",
        "GB-SC-": "charity",
        "GB-NIC-": "charity",
        "GB-MPR-": "mutual",
        "GB-LA": "public_body",
        "GB-NHS-": "public_body",
        "GB-EDU-": "public_body",
    }
    return next((t for p, t in prefixes.items() if org_id.startswith(p)), "unmatched")


RECONCILED_COLUMNS = [
    "name",
    "org_id",
    "org_name",
    "org_type",
    "match_method",
    "match_score",
    "company_number",
    "size_band",
    "sector",
]
_PUBLISHED_ID_COLUMNS = {"company_number": "company_number_published", "charity_number": "charity_number_published"}


def match_csv(
    names_csv: Path, registers_dir: Path, out_csv: Path | None = None, overrides: Path | None = None
) -> pd.DataFrame:
    """A user's own list of names reconciled against the registers (``councilspend match-names``).

    The names are the CSV's ``name`` column (any case), or its first column; optional
    ``company_number`` and ``charity_number`` columns are used as published ids. The text encoding
    is detected (UTF-8, UTF-16, cp1252...); a zip or other non-text file is refused, not unpacked.
    Returns (and writes to ``out_csv`` when given) the columns of :data:`RECONCILED_COLUMNS`, one
    row per input row, in input order.
    """
    table = _read_names_csv(Path(names_csv))
    if table.columns.empty:
        raise MatcherError(f"{names_csv}: no columns; put the names in a column called 'name'")
    by_label: dict[str, str] = {}
    for label in table.columns:
        by_label.setdefault(str(label).strip().casefold(), label)
    column = by_label.get("name", table.columns[0])
    query = pd.DataFrame({"supplier_name": table[column].replace("", None)})
    for given, published in _PUBLISHED_ID_COLUMNS.items():
        if given in by_label:
            query[published] = table[by_label[given]].replace("", None)
    result = Matcher.from_dir(registers_dir, overrides).match(query)
    result.insert(0, "name", table[column].to_numpy())
    result = result[RECONCILED_COLUMNS]
    if out_csv is not None:
        result.to_csv(out_csv, index=False)
    return result


def _read_names_csv(path: Path) -> pd.DataFrame:
    """A names CSV as strings ('' for blanks), in its detected encoding, never decompressed."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise MatcherError(f"{path}: unreadable CSV ({error})") from error
    kind = sniff_format(data[: 1 << 16])
    if kind != "csv":
        found = "an empty or binary file" if kind == "unknown" else f"a {kind} file"
        raise MatcherError(f"{path}: unreadable CSV (this is {found}, not CSV text)")
    try:
        return pd.read_csv(
            io.BytesIO(data), dtype=str, keep_default_na=False, compression=None, encoding=detect_encoding(data)
        )
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise MatcherError(f"{path}: unreadable CSV ({error})") from error
