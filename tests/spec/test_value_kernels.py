"""The value kernels that let checks skip work are never wrong: a column ``may_hold`` calls clean holds
no control character (or ``?``) the exact check would find, and ``all_distinct`` agrees with a set."""

from __future__ import annotations

import re

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from catalog_sync.spec.values import all_distinct, may_hold
from catalog_sync.validation.rows import _CONTROL

texts = st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=6), max_size=30)
few_letters = st.lists(st.text(alphabet="ab\x85\x1b?", max_size=3), max_size=30)


@given(st.one_of(texts, few_letters))
def test_a_column_said_not_to_hold_control_bytes_holds_no_control_character(values: list[str]) -> None:
    if any(re.search(_CONTROL, v) for v in values):
        assert may_hold(pa.array(values, pa.large_string()), below=0x20, among=b"\x7f\xc2")


@given(st.one_of(texts, few_letters))
def test_a_byte_is_found_exactly_when_a_value_holds_it(values: list[str]) -> None:
    column = pa.array(values, pa.large_string())
    assert may_hold(column, among=b"?") == any("?" in v for v in values)
    assert may_hold(column.slice(1), among=b"?") == any("?" in v for v in values[1:])


@given(st.lists(st.one_of(st.none(), st.text(alphabet="abc", max_size=3)), max_size=12))
def test_all_distinct_agrees_with_a_set(values: list[str | None]) -> None:
    assert all_distinct(pa.array(values, pa.large_string())) == (len(set(values)) == len(values))
