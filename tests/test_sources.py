"""The sources config: the bundled file loads, and every mistake names the council and the problem."""

from __future__ import annotations

import pytest

from normalise.sources import SourcesError, load_sources, parse_sources


def test_bundled_config_loads_and_names_current_councils():
    sources = load_sources()
    assert {"DAL", "CLD"} <= set(sources)
    assert all(page.url.startswith("http") for source in sources.values() for page in source.landing_pages)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "needs a 'councils:' mapping"),
        ({"councils": {"ZZZ": {}}}, "ZZZ is not a current council code"),
        ({"councils": {"BIR": "x"}}, "BIR: expected a mapping"),
        ({"councils": {"BIR": {"landing_page": []}}}, "BIR: unknown keys ['landing_page']"),
        ({"councils": {"BIR": {"landing_pages": [{"url": "http://x", "dataset": "spend"}]}}}, "dataset 'spend'"),
        ({"councils": {"BIR": {"landing_pages": [{"dataset": "grants"}]}}}, "needs a url"),
    ],
)
def test_mistakes_are_named(document, message):
    with pytest.raises(SourcesError) as caught:
        parse_sources(document)
    assert message in str(caught.value)


def test_invalid_yaml_is_a_sources_error(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("councils:\n  BIR: [unclosed\n")
    with pytest.raises(SourcesError, match="not valid YAML"):
        load_sources(path)
