"""One body per group of linked register entries, and what is reported for it.

Register entries joined by a link that means "the same organisation" (a charity's company, a
registered society's mutuals-register entry, a link table's ``sameas``, a same-name pair; see
``normalise.registers.links``) form one body. A body holds at most one entry of each register:
links are applied strongest first (published by a register, then link tables, then same names;
links between live entries before others), and a link that would put two entries of one
register into one body is ignored. Sources do disagree: a cross-walk may tie a company to a
charity since removed and registered again under a new number, while the register ties it to
the new one; without this rule both charities would become one body. The body is reported by its entry on the register
that says most about what it is, in the order of ``SCHEME_PRIORITY``: the Charity Commission for
England and Wales, OSCR, CCNI, the FCA mutuals register, then Companies House (so a charitable
company is reported by its charity number, as 360Giving publishers do). Its reported org_type
is ``charitable_company`` when a charity has a company among its entries (a CIO stays a CIO); it
keeps the Companies House number of its company; ``linked_by`` says how its entries were joined
(the strongest link: ``register`` before ``link_table`` before ``same_name``); its size band is
the charity's income band when known, otherwise any entry's accounts band; its sector is vcse
when any entry is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from normalise.schema import LINK_METHODS

#: Relations that join two entries of one organisation (``linked_to`` subsidiaries stay apart).
SAME_BODY_RELATIONS = ("company", "same_as_mutual", "same_as")
#: Which entry reports a body: the first scheme in this order among its entries.
SCHEME_PRIORITY = ("GB-CHC-", "GB-SC-", "GB-NIC-", "GB-MPR-", "GB-COH-")
_COMPANY_RANK = SCHEME_PRIORITY.index("GB-COH-")
_BASIS_RANK = {"latest_income": 0, "account_category": 1}


@dataclass(frozen=True)
class Bodies:
    """Per register entry (by position): the entry its body is reported by, and that body's facts.

    The facts (``org_type``, ``company_number``, ``linked_by``, ``size_band``, ``sector``) are the
    body's at the positions of reporting entries; elsewhere they are the entry's own.
    """

    canon: np.ndarray
    org_type: np.ndarray
    company_number: np.ndarray
    linked_by: np.ndarray
    size_band: np.ndarray
    sector: np.ndarray


def scheme_ranks(org_ids: np.ndarray) -> np.ndarray:
    """Each org-id's place in ``SCHEME_PRIORITY`` (its length for any other scheme).

    >>> scheme_ranks(np.array(["GB-COH-01234567", "GB-CHC-1012345", "GB-LAE-BIR"], dtype=object)).tolist()
    [4, 0, 5]
    """
    ids = pd.Series(org_ids, dtype=object)
    ranks = np.full(len(ids), len(SCHEME_PRIORITY), dtype=np.int8)
    for rank, scheme in enumerate(SCHEME_PRIORITY):
        ranks[ids.str.startswith(scheme).to_numpy(dtype=bool)] = rank
    return ranks


def join(a: np.ndarray, b: np.ndarray, ranks: np.ndarray) -> dict[int, int]:
    """Join entries along the links ``a[i]-b[i]`` (in order), never two entries of one scheme rank.

    Returns each linked entry's body: the smallest entry of its group. The second link here would
    put entries 0 and 1 (both rank 0, say two charities) into one body, so it is ignored:

    >>> join(np.array([0, 1, 3]), np.array([2, 2, 4]), np.array([0, 0, 4, 0, 3]))
    {0: 0, 1: 1, 2: 0, 3: 3, 4: 3}
    """
    parent: dict[int, int] = {}
    schemes: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    for x, y in zip(a.tolist(), b.tolist()):
        for node in (x, y):
            if node not in parent:
                parent[node], schemes[node] = node, 1 << int(ranks[node])
        rx, ry = find(x), find(y)
        if rx != ry and not schemes[rx] & schemes[ry]:
            low, high = min(rx, ry), max(rx, ry)
            parent[high] = low
            schemes[low] |= schemes[high]
    return {node: find(node) for node in sorted(parent)}


@dataclass(frozen=True)
class _Groups:
    """The entries that have links, sorted by body: the reporting entry first in each."""

    members: np.ndarray  # entry positions
    ranks: np.ndarray  # their scheme ranks
    group: np.ndarray  # their body number (0 .. count-1)
    head: np.ndarray  # per body, the reporting entry's position

    def any(self, flags: np.ndarray) -> np.ndarray:
        """Per body, whether any member has the flag."""
        return np.bincount(self.group, weights=flags, minlength=len(self.head)) > 0


def _groups(org_ids: np.ndarray, a: np.ndarray, b: np.ndarray, strength: np.ndarray) -> _Groups:
    """Bodies of the entries joined by links ``a-b``, applied in order of ``strength`` (lowest first)."""
    members = np.unique(np.concatenate([a, b]))
    ranks = np.full(len(org_ids), len(SCHEME_PRIORITY), dtype=np.int8)
    ranks[members] = scheme_ranks(org_ids[members])
    order = np.lexsort((b, a, strength))
    body = join(a[order], b[order], ranks)
    label = np.array([body[m] for m in members.tolist()], dtype=np.int64)
    ranks = ranks[members]
    order = np.lexsort((members, ranks, label))
    members, ranks, label = members[order], ranks[order], label[order]
    first = np.r_[True, label[1:] != label[:-1]]
    return _Groups(members, ranks, np.cumsum(first) - 1, members[first])


def resolve_bodies(orgs: pa.Table, index: pd.Index, links: pa.Table) -> Bodies:
    """Group the entries of ``orgs`` (positions in ``index``) joined by ``links`` into bodies."""

    def column(name: str) -> np.ndarray:
        return orgs[name].combine_chunks().to_numpy(zero_copy_only=False).astype(object)

    org_ids, org_type, company_number = column("org_id"), column("org_type"), column("company_number")
    size_band, basis, sector = column("size_band"), column("size_basis"), column("sector")
    live = orgs["active"].combine_chunks().fill_null(True).to_numpy(zero_copy_only=False)
    linked_by = np.full(len(org_ids), None, dtype=object)
    canon = np.arange(len(org_ids), dtype=np.int64)
    same = links.filter(pc.is_in(links["relation"], pa.array(SAME_BODY_RELATIONS)))
    a, b = (
        index.get_indexer(pd.Index(same[c].to_numpy(zero_copy_only=False), dtype=object))
        for c in ("org_id", "linked_org_id")
    )
    known = (a >= 0) & (b >= 0) & (a != b)
    if not known.any():
        return Bodies(canon, org_type, company_number, linked_by, size_band, sector)
    a, b, methods = a[known], b[known], same["method"].to_numpy(zero_copy_only=False)[known]
    method_rank = pd.Series(methods).map({m: i for i, m in enumerate(LINK_METHODS)}).fillna(len(LINK_METHODS))
    method_rank = method_rank.to_numpy(dtype=np.int64)
    g = _groups(org_ids, a, b, method_rank * 3 + (~live[a]).astype(int) + (~live[b]).astype(int))
    head = g.head
    canon[g.members] = head[g.group]

    is_company = g.ranks == _COMPANY_RANK
    charity_head = np.isin(org_type[head], ["charity", "charitable_company"])
    has_company = g.any(is_company | (org_type[g.members] == "charitable_company"))
    org_type[head] = np.where(charity_head & has_company, "charitable_company", org_type[head])
    sector[head] = np.where(g.any(sector[g.members] == "vcse"), "vcse", sector[head])

    companies = pd.Series(company_number[g.members][is_company]).groupby(g.group[is_company]).first()
    own = company_number[head]
    company_number[head] = np.where(pd.isna(own), companies.reindex(range(len(head))).to_numpy(dtype=object), own)
    company_number[head] = np.where(pd.isna(company_number[head]), None, company_number[head])

    body_of = pd.Series(g.group, index=g.members)
    joined = canon[a] == canon[b]  # links that were applied (not ignored as conflicting)
    strongest = pd.Series(method_rank[joined]).groupby(body_of.reindex(a[joined]).to_numpy()).min()
    linked_by[head[strongest.index.to_numpy()]] = [
        LINK_METHODS[r] if r < len(LINK_METHODS) else None for r in strongest
    ]

    bands = pd.DataFrame(
        {
            "group": g.group,
            "basis": [_BASIS_RANK.get(x, len(_BASIS_RANK)) for x in basis[g.members]],
            "rank": g.ranks,
            "band": size_band[g.members],
        }
    )
    bands = bands[bands["band"].notna() & (bands["band"] != "unknown")]
    best = bands.sort_values(["group", "basis", "rank"], kind="stable").drop_duplicates("group")
    size_band[head[best["group"].to_numpy()]] = best["band"].to_numpy()
    return Bodies(canon, org_type, company_number, linked_by, size_band, sector)
