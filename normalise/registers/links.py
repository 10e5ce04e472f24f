"""Links between registers that the registers' own files do not carry.

Two sources, each written beside the registers in the links layout (``normalise.schema.REGISTER_LINKS``):

* **Link tables** (``link_tables_links.parquet``): cross-walks in the form find-that-charity and
  360Giving tools publish, a CSV with ``org_id_a`` and ``org_id_b`` and optionally
  ``relationship`` and ``source`` (e.g. charity numbers to company numbers, charities registered
  in both Scotland and England and Wales). ``sameas`` (or no relationship) means one body; any
  other relationship is kept but never merges two bodies.
* **Same-name links** (``same_name_links.parquet``), for dual-registered bodies whose registers
  publish no link: a charity and a company are taken to be one body when, among the live
  organisations of one jurisdiction (England and Wales, Scotland, Northern Ireland), exactly one
  charity and exactly one company have that registered name (by its ``supplier_key``), neither is
  already joined to another loaded organisation, and nothing says otherwise. Evidence against:
  an entry that is not live (removed from its charity register, dissolved, in liquidation or
  administration) is never paired, since spending now goes to the live one; and a different
  postcode area (the letters of the postcode) keeps the two apart. Only the area counts, because
  a company's registered office is often its accountant's or solicitor's in the same region.
  LLPs, limited partnerships, overseas companies and registered societies are never paired (they
  cannot be charities, or have their own link to the mutuals register).

The matcher reports every linked pair as one body (see ``normalise.matching.bodies``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from normalise.registers.files import RegisterFileError, Table, opened_members
from normalise.registers.tables import LINKS, links_batch, register_file
from normalise.store.atomic import write_parquet

LINK_TABLE_COLUMNS = ("org_id_a", "org_id_b")
#: Relationship values that mean "the same organisation" in published link tables.
SAME_AS = ("sameas", "same_as", "same as", "same")
ORG_ID = r"^GB-[A-Z]{2,4}-[A-Z0-9-]+$"
#: Company-number prefixes of bodies that cannot be a charity's company (LLPs, partnerships,
#: overseas companies and entities, registered societies: those link to the mutuals register).
NOT_CHARITY_COMPANIES = ("OC", "SO", "NC", "LP", "SL", "NL", "FC", "SF", "NF", "IP", "SP", "NP", "RS", "OE")


def load_link_tables(sources: Sequence[str], folder: Path) -> int:
    """Read link tables (paths or URLs, zipped or not) into ``folder``; return the links kept.

    Rows whose ids are not org-ids are skipped; a file without the columns, or with no usable row,
    raises ``RegisterFileError`` and leaves the loaded link tables as they were.
    """
    batches: list[pa.RecordBatch] = []
    with opened_members(list(sources)) as members:
        if not members:
            raise RegisterFileError(f"{', '.join(sources)}: no CSV file found for the link tables")
        for label, stream in members:
            table = Table(label, stream)
            if not table.has(*LINK_TABLE_COLUMNS):
                raise RegisterFileError(
                    f"{label}: not a link table (expected columns {list(LINK_TABLE_COLUMNS)}, "
                    f"found {list(table.columns)[:8]})"
                )
            name = label.rsplit("/", 1)[-1]
            for batch in table.batches(LINK_TABLE_COLUMNS, ("relationship", "source")):
                batches += _link_rows(batch, name)
    links = pa.Table.from_batches(batches, schema=LINKS)
    if not len(links):
        raise RegisterFileError(f"{', '.join(sources)}: no rows with two org-ids (GB-CHC-..., GB-COH-...)")
    write_parquet(register_file(folder, "link_tables", "_links"), links)
    return len(links)


def _link_rows(batch: pa.RecordBatch, name: str) -> list[pa.RecordBatch]:
    """One batch of link rows per (relation, source) in a link table batch."""
    a, b = (pc.utf8_upper(pc.utf8_trim_whitespace(batch[c])) for c in LINK_TABLE_COLUMNS)
    keep = pc.and_(pc.match_substring_regex(a, ORG_ID), pc.match_substring_regex(b, ORG_ID))
    relationship = pc.utf8_lower(pc.utf8_trim_whitespace(pc.fill_null(batch["relationship"], "")))
    relation = pc.if_else(pc.is_in(relationship, pa.array(["", *SAME_AS])), "same_as", relationship)
    origin = pc.utf8_trim_whitespace(pc.fill_null(batch["source"], ""))
    groups = pa.table({"relation": relation.filter(keep), "origin": origin.filter(keep)})
    rows = []
    for group in groups.group_by(["relation", "origin"]).aggregate([]).to_pylist():
        chosen = pc.and_(keep, pc.and_(pc.equal(relation, group["relation"]), pc.equal(origin, group["origin"])))
        source = f"{name}: {group['origin']}" if group["origin"] else name
        rows.append(links_batch(a.filter(chosen), b.filter(chosen), group["relation"], "link_table", source))
    return rows


_SAME_NAME_SQL = r"""
WITH orgs AS (
    SELECT org_id, register, active, postcode, company_number
    FROM read_parquet($orgs, union_by_name = true)
),
joins AS (
    SELECT org_id, linked_org_id FROM read_parquet($links, union_by_name = true)
    WHERE relation IN ('company', 'same_as_mutual', 'same_as')
),
tied AS (  -- bodies already joined to another loaded organisation
    SELECT j.org_id FROM joins AS j JOIN orgs AS o ON o.org_id = j.linked_org_id
    UNION
    SELECT j.linked_org_id FROM joins AS j JOIN orgs AS o ON o.org_id = j.org_id
),
named AS (
    SELECT n.key, o.*, o.register = 'companies' AS is_company,
           CASE
               WHEN o.register = 'ccew' THEN 'England and Wales'
               WHEN o.register = 'oscr' THEN 'Scotland'
               WHEN o.register = 'ccni' THEN 'Northern Ireland'
               WHEN regexp_matches(o.company_number, '^(S[A-Z]|CS)') THEN 'Scotland'
               WHEN regexp_matches(o.company_number, '^(N[A-Z]|R0)') THEN 'Northern Ireland'
               ELSE 'England and Wales'
           END AS jurisdiction,
           o.org_id IN (SELECT org_id FROM tied) AS is_tied,
           nullif(regexp_extract(upper(o.postcode), '^\s*([A-Z]{1,2})[0-9]', 1), '') AS area
    FROM read_parquet($names, union_by_name = true) AS n JOIN orgs AS o USING (org_id)
    WHERE n.name_type = 'registered' AND n.key IS NOT NULL AND n.key <> '' AND o.active
      AND NOT regexp_matches(o.org_id, '^GB-(CHC|NIC)-[0-9]+-[0-9]+$')  -- subsidiary (linked) charities
      AND (o.register <> 'companies' OR NOT list_contains($excluded, left(o.company_number, 2)))
),
unique_pairs AS (
    SELECT key, jurisdiction FROM named GROUP BY ALL
    HAVING count(*) FILTER (WHERE NOT is_company) = 1 AND count(*) FILTER (WHERE is_company) = 1
),
pairs AS (
    SELECT charity.org_id AS charity, company.org_id AS company, u.jurisdiction,
           charity.is_tied OR company.is_tied AS tied,
           charity.area IS NOT NULL AND company.area IS NOT NULL AND charity.area <> company.area AS other_area
    FROM unique_pairs AS u
    JOIN named AS charity ON charity.key = u.key AND charity.jurisdiction = u.jurisdiction AND NOT charity.is_company
    JOIN named AS company ON company.key = u.key AND company.jurisdiction = u.jurisdiction AND company.is_company
)
SELECT charity, company, jurisdiction, tied, other_area FROM pairs ORDER BY charity, company
"""


def infer_same_name_links(folder: Path) -> dict[str, int]:
    """Write the same-name charity–company links among the registers loaded in ``folder``.

    Returns how many pairs were linked and how many were set aside, by reason (one of them already
    joined to another organisation, different postcode areas).
    """
    target = register_file(folder, "same_name", "_links")
    charities = [r for r in ("ccew", "oscr", "ccni") if register_file(folder, r).exists()]
    if not register_file(folder, "companies").exists() or not charities:
        write_parquet(target, LINKS.empty_table())
        return {"linked": 0}
    registers = ["companies", *charities]
    params = {
        "orgs": [str(register_file(folder, r)) for r in registers],
        "names": [str(register_file(folder, r, "_names")) for r in registers],
        "links": [str(p) for p in sorted(folder.glob("*_links.parquet")) if p != target],
        "excluded": list(NOT_CHARITY_COMPANIES),
    }
    with duckdb.connect() as con:
        found = con.sql(_SAME_NAME_SQL, params=params).to_arrow_table()
    tied, other_area = (found[c].combine_chunks() for c in ("tied", "other_area"))
    chosen = found.filter(pc.invert(pc.or_(tied, other_area)))
    batches = [
        links_batch(
            part["charity"].combine_chunks(),
            part["company"].combine_chunks(),
            "company",
            "same_name",
            f"rule: the only active charity and company so named in {jurisdiction}",
        )
        for jurisdiction in sorted(set(chosen["jurisdiction"].to_pylist()))
        for part in [chosen.filter(pc.equal(chosen["jurisdiction"], jurisdiction))]
    ]
    write_parquet(target, pa.Table.from_batches(batches, schema=LINKS))
    return {
        "linked": len(chosen),
        "already_linked": _count(tied),
        "different_postcode_area": _count(pc.and_(pc.invert(tied), other_area)),
    }


def _count(flags: pa.Array) -> int:
    return int(pc.sum(flags).as_py() or 0)
