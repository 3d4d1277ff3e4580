"""A listed record's values take shortcuts to their canonical form; the result is normalise's."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog_sync.providers.royalti.client import RoyaltiProvider
from catalog_sync.spec import load_spec
from catalog_sync.spec.normalise import normalise_value

SPECS = [load_spec(name) for name in ("royalti", "keevault", "jogg")]
FIELDS = [f for spec in SPECS for f in spec.fields]
CLIENT = RoyaltiProvider.from_env(base_url="http://127.0.0.1:9", env={"ROYALTI_API_KEY": "RWAK_x"})
TYPED = st.sampled_from(["2024-1-5", " 2024-01-05 ", "007", "Yes", "explicit", "EXPLICIT", "a;;b", "1.0"])
VALUES = st.one_of(st.none(), st.text(max_size=12), TYPED, st.integers(), st.booleans())


@settings(max_examples=200, deadline=None)
@given(value=VALUES, index=st.integers(0, len(FIELDS) - 1))
def test_the_shortcut_gives_what_normalise_gives(value: object, index: int) -> None:
    field = FIELDS[index]
    expected = normalise_value("" if value is None else value, field)
    assert CLIENT._canonical_value(value, field) == expected
    assert CLIENT._canonical_value(value, field) == expected  # again, from the memo


ROYALTI = load_spec("royalti")
LISTED = st.one_of(VALUES, st.lists(st.sampled_from(["a", " b ", "", "Pop"]), max_size=3))
PRODUCT = st.fixed_dictionaries(
    {"id": st.uuids().map(str)},
    optional={
        **{f.name: LISTED for f in ROYALTI.fields if f.name != "id"},
        "catalog": st.sampled_from(["CAT-1", "", None]),
        "TenantId": st.integers(),
    },
)


@settings(max_examples=100, deadline=None)
@given(pages=st.lists(st.lists(PRODUCT, max_size=5), min_size=1, max_size=3))
def test_a_listing_held_as_columns_holds_what_record_from_makes_of_each_record(pages: list) -> None:
    # the columnar listing (no dict per record) and the record-by-record conversion must agree
    from catalog_sync.providers.records import RemoteTable

    table = RemoteTable.from_pages([CLIENT._table_page(page) for page in pages], ROYALTI)
    expected = [CLIENT.record_from(product) for page in pages for product in page]
    assert len(table) == len(expected)
    assert list(table) == expected
    assert table[-1:] == expected[-1:]


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.text(max_size=8), st.text(alphabet="./?#%\\ab-1 \t\x00é", max_size=4)))
def test_the_quick_id_check_answers_as_the_full_one(value: str) -> None:
    import re

    from catalog_sync.providers import base

    quick = CLIENT.usable_id(value)
    never = re.compile(r"(?!)")  # matches nothing: every value takes the full check
    original, base._PLAIN_ID = base._PLAIN_ID, never
    try:
        assert quick == CLIENT.usable_id(value)
    finally:
        base._PLAIN_ID = original
