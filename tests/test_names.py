"""Supplier name keys and the helpers around them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from normalise.names import (
    compact_key,
    drop_misspelt_legal_suffix,
    is_person_trading,
    supplier_key,
    trading_name_parts,
    truncation_stem,
)

names = st.text(alphabet=st.sampled_from("abcXYZ &.'-éß0 ltdLimitedthe()/"), max_size=40)


@given(names)
def test_key_is_stable_under_rekeying(name):
    key = supplier_key(name)
    assert key is None or supplier_key(key) == key


@given(names)
def test_key_ignores_case_and_surrounding_space(name):
    assert supplier_key(f"  {name.upper()} ") == supplier_key(name.lower())


def test_legal_forms_and_spellings_agree():
    same = [
        "Acme & Sons Ltd",
        "ACME AND SONS LIMITED",
        "The Acme and Sons Ltd.",
        "acme & sons plc",
        "Acme and Sons Community Interest Company",
        "Acme & Sons C.I.C.",
    ]
    assert {supplier_key(n) for n in same} == {"acme and sons"}
    assert supplier_key("Acme UK Ltd") != supplier_key("Acme Ltd")  # 'UK' names a different company
    assert supplier_key("St John's Ambulance") == supplier_key("ST JOHNS AMBULANCE")


def test_trading_names_and_people():
    assert trading_name_parts("ACME LTD T/A ACME TAXIS") == ["ACME LTD", "ACME TAXIS"]
    assert trading_name_parts("Acme Ltd trading as Acme Taxis") == ["Acme Ltd", "Acme Taxis"]
    assert is_person_trading("Mrs J Smith T/A Smith Cleaning") and not is_person_trading("Acme Ltd T/A Smith")


def test_redaction_has_one_definition():
    import normalise.names
    from normalise.redaction import is_redacted

    assert not hasattr(normalise.names, "is_redacted")  # the matcher and the spend flag share normalise.redaction
    assert is_redacted("Redacted - personal data") and is_redacted("NAME WITHHELD") and is_redacted("Confidential")
    assert not any(map(is_redacted, ["Reddacre Ltd", "Confidential Shredding Ltd", "Personal Data Solutions Ltd"]))


def test_cut_and_mistyped_endings():
    assert truncation_stem(supplier_key("Alliance Disposables Limi")) == "alliance disposables"
    assert drop_misspelt_legal_suffix(supplier_key("Acme Widgets Limitde")) == "acme widgets"
    assert compact_key("Mars hSurveying Ltd") == compact_key("Marsh Surveying Limited") == "marshsurveying"


def test_published_numbers_are_normalised():
    from normalise.orgids import charity_org_ids, company_number

    assert company_number(" 1234567 ") == "01234567"
    assert company_number("Company No. SC 012345") == "SC012345"
    assert company_number("ni12345") == "NI012345"
    assert company_number("not known") is None and company_number("123456789") is None
    assert charity_org_ids("Charity Reg no : 1098765") == ["GB-CHC-1098765"]
    assert charity_org_ids("charity 1098765-2") == ["GB-CHC-1098765-2"]
    assert charity_org_ids("SC 012345") == ["GB-SC-SC012345"]
    assert charity_org_ids("NIC100123") == ["GB-NIC-100123"]
    assert charity_org_ids("GB-CHC-299533") == ["GB-CHC-299533"]
    assert charity_org_ids("Company No. 12345678") == []
