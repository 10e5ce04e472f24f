"""The sources config: the bundled file cites evidence for every URL, and every mistake names the council and the problem."""

from __future__ import annotations

import re

import pytest
import yaml

from normalise.councils import councils
from normalise.sources import EVIDENCE_KINDS, Evidence, SourcesError, bundled_path, load_sources, parse_sources

COMMIT = "0123456789abcdef0123456789abcdef01234567"
REPO_EVIDENCE = {"kind": "project_config", "repo": "a/b", "path": "x.json", "commit": COMMIT, "date": "2022-10-04"}


def test_bundled_config_cites_evidence_for_every_url_of_a_current_council():
    sources = load_sources()
    assert len(sources) >= 224, "the bundled config lost councils"
    assert set(sources) <= set(councils())
    for code, source in sources.items():
        entries = (*source.landing_pages, *source.ckan)
        assert entries, f"{code} has neither a landing page nor a CKAN portal"
        for entry in entries:
            url = getattr(entry, "url", None) or getattr(entry, "base_url", "")
            assert re.match(r"https?://\S+$", url), f"{code}: {url!r}"
            assert entry.evidence, f"{code} {url} cites no evidence"
            for evidence in entry.evidence:
                assert evidence.kind in EVIDENCE_KINDS
                assert (evidence.repo and evidence.path and evidence.commit) or evidence.url


def test_bundled_config_is_checked_for_evidence_whichever_way_it_is_named(tmp_path):
    document = yaml.safe_load(bundled_path().read_text(encoding="utf-8"))
    first = next(iter(document["councils"].values()))
    (first.get("landing_pages") or first["ckan"])[0].pop("evidence")
    copy = tmp_path / "sources.yaml"
    copy.write_text(yaml.safe_dump(document), encoding="utf-8")
    assert load_sources(copy)  # a user's copy may drop evidence
    with pytest.raises(SourcesError, match="no evidence"):
        parse_sources(document, require_evidence=True)
    assert load_sources(bundled_path().parent / ".." / "data" / "sources.yaml")  # the bundled file by another path


def test_evidence_is_optional_in_user_configs_and_gathered_per_council():
    sources = parse_sources(
        {
            "councils": {
                "BIR": {
                    "landing_pages": [
                        "https://x.gov.uk/spend",
                        {"url": "https://x.gov.uk/cards", "dataset": "purchase_card", "evidence": [REPO_EVIDENCE]},
                    ],
                    "ckan": [
                        {
                            "base_url": "https://data.x.gov.uk",
                            "dataset_ids": ["spend"],
                            "evidence": [REPO_EVIDENCE, {"kind": "ckan_listing", "url": "https://data.x.gov.uk/d"}],
                        }
                    ],
                }
            }
        }
    )
    bir = sources["BIR"]
    assert bir.landing_pages[0].evidence == ()
    assert bir.evidence == (
        Evidence("project_config", repo="a/b", path="x.json", commit=COMMIT, date="2022-10-04"),
        Evidence("ckan_listing", url="https://data.x.gov.uk/d"),
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "needs a 'councils:' mapping"),
        ({"councils": {"ZZZ": {}}}, "ZZZ is not a current council code"),
        ({"councils": {"BIR": "x"}}, "BIR: expected a mapping"),
        ({"councils": {"BIR": {"landing_page": []}}}, "BIR: unknown keys ['landing_page']"),
        ({"councils": {"BIR": {"landing_pages": [{"url": "http://x", "dataset": "spend"}]}}}, "dataset 'spend'"),
        ({"councils": {"BIR": {"landing_pages": [{"dataset": "grants"}]}}}, "needs a url"),
        ({"councils": {"BIR": {"landing_pages": ["ftp://x/spend"]}}}, "BIR: 'ftp://x/spend' is not an http(s) URL"),
        ({"councils": {"BIR": {"ckan": [{"base_url": "data.x"}]}}}, "BIR: 'data.x' is not an http(s) URL"),
    ],
)
def test_mistakes_are_named(document, message):
    with pytest.raises(SourcesError) as caught:
        parse_sources(document)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("evidence", "message"),
    [
        ({"kind": "rumour", "url": "https://x"}, "evidence kind 'rumour'"),
        ({"kind": "saved_page"}, "needs a repo (with path and commit) or a url"),
        ({"kind": "saved_page", "repo": "a/b", "path": "p"}, "needs a path and a 40-hex commit"),
        ({**REPO_EVIDENCE, "commit": "abc123"}, "needs a path and a 40-hex commit"),
        ({**REPO_EVIDENCE, "repo": "not a repo"}, "is not owner/name"),
        ({"kind": "stored_page", "url": "www.x.gov.uk"}, "is not an http(s) URL"),
        ({**REPO_EVIDENCE, "date": "last year"}, "evidence date 'last year'"),
        ({**REPO_EVIDENCE, "seen": "2020"}, "unknown keys ['seen']"),
    ],
)
def test_evidence_mistakes_are_named(evidence, message):
    document = {"councils": {"BIR": {"landing_pages": [{"url": "https://x.gov.uk/spend", "evidence": [evidence]}]}}}
    with pytest.raises(SourcesError) as caught:
        parse_sources(document)
    assert message in str(caught.value)
    assert "BIR" in str(caught.value)


def test_yaml_dates_are_read_as_text():
    document = yaml.safe_load(
        "councils:\n  BIR:\n    landing_pages:\n    - url: https://x.gov.uk/spend\n      evidence:\n"
        "      - {kind: stored_page, url: 'https://x.gov.uk/spend', date: 2023-08-15}\n"
    )
    (evidence,) = parse_sources(document)["BIR"].evidence
    assert evidence.date == "2023-08-15"


def test_invalid_yaml_is_a_sources_error(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("councils:\n  BIR: [unclosed\n")
    with pytest.raises(SourcesError, match="not valid YAML"):
        load_sources(path)
