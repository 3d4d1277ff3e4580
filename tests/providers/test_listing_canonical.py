"""A listed record's values take shortcuts to their canonical form; the result is normalise's."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog_sync.normalise import normalise_value
from catalog_sync.providers import get_provider
from catalog_sync.spec import load_spec

SPECS = [load_spec(name) for name in ("royalti", "keevault", "jogg")]
FIELDS = [f for spec in SPECS for f in spec.fields]
CLIENT = get_provider("royalti").from_env(base_url="http://127.0.0.1:9", env={"ROYALTI_API_KEY": "RWAK_x"})
TYPED = st.sampled_from(["2024-1-5", " 2024-01-05 ", "007", "Yes", "explicit", "EXPLICIT", "a;;b", "1.0"])
VALUES = st.one_of(st.none(), st.text(max_size=12), TYPED, st.integers(), st.booleans())


@settings(max_examples=200, deadline=None)
@given(value=VALUES, index=st.integers(0, len(FIELDS) - 1))
def test_the_shortcut_gives_what_normalise_gives(value: object, index: int) -> None:
    field = FIELDS[index]
    expected = normalise_value("" if value is None else value, field)
    assert CLIENT._canonical_value(value, field) == expected
    assert CLIENT._canonical_value(value, field) == expected  # again, from the memo
