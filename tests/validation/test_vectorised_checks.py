"""The vectorised checks agree with the per-value definitions they replace, on Arrow-backed text
(the loader's dtype) and on object columns; and they build no Python object per cell."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog_sync.spec import load_spec
from catalog_sync.spec.normalise import normalise_frame, normalise_value
from catalog_sync.spec.values import iso_dates_ok, parse_iso_date
from catalog_sync.validation import checks
from catalog_sync.validation.checks import (
    gtin_check_digit_ok,
    gtin_expected_check_digit,
    gtin_verdicts,
    int_texts,
)
from catalog_sync.validation.rows import nfc, repeated

_DIGITS = st.text(alphabet="0123456789", min_size=0, max_size=15)
_DATES = st.builds(
    lambda y, m, d, tail: f"{y:04d}-{m:02d}-{d:02d}{tail}",
    st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.sampled_from(["", "T08:30:00Z", " 10:00", "T", "x", "T08:30+02:00"]),
)
_ODD = st.text(alphabet="0123456789-+.eE T:Z٣é ", max_size=14)
_TEXTS = st.lists(st.one_of(_DIGITS, _DATES, _ODD), min_size=1, max_size=30)


@pytest.mark.parametrize("dtype", [str, object])
@settings(max_examples=60, deadline=None)
@given(values=_TEXTS)
def test_iso_dates_ok_is_parse_iso_date(dtype, values) -> None:
    s = pd.Series(values, dtype=dtype)
    assert iso_dates_ok(s).tolist() == parse_iso_date(pd.Series(values, dtype=object)).notna().tolist()


@pytest.mark.parametrize("dtype", [str, object])
@settings(max_examples=60, deadline=None)
@given(values=_TEXTS)
def test_gtin_verdicts_are_the_per_value_check(dtype, values) -> None:
    lengths = {8, 12, 13, 14}
    wellformed, digit_right = gtin_verdicts(pd.Series(values, dtype=dtype), lengths)
    formed = [v.isascii() and v.isdigit() and len(v) in lengths for v in values]
    assert wellformed.tolist() == formed
    assert digit_right.tolist() == [
        ok and gtin_check_digit_ok(v) for ok, v in zip(formed, values, strict=True)
    ]
    ok = checks.gtin_check_digits_ok(pd.Series(values, dtype=dtype)).tolist()
    assert ok == [gtin_check_digit_ok(v) for v in values]
    expected = checks.gtin_expected_check_digits(pd.Series(values, dtype=dtype)).tolist()
    assert expected == [
        gtin_expected_check_digit(v) if v.isascii() and v.isdigit() and len(v) >= 2 else -1 for v in values
    ]


@settings(max_examples=60, deadline=None)
@given(values=_TEXTS)
def test_integer_form_is_the_regex(values) -> None:
    for pattern in (checks._INT_RE, checks._INT_LOOSE_RE):
        got = int_texts(pd.Series(values, dtype=str), pattern).tolist()
        assert got == pd.Series(values, dtype=object).str.match(pattern).astype(bool).tolist()


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.sampled_from(["a", "é", "e\u0301", "b", "", "A"]), min_size=1, max_size=12))
def test_nfc_and_repeated_are_pandas(values) -> None:
    s = pd.Series(values, dtype=str)
    assert nfc(s).tolist() == s.str.normalize("NFC").tolist()
    assert repeated(s).tolist() == s.duplicated(keep=False).tolist()


ROYALTI = load_spec("royalti")


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.one_of(_DIGITS, _DATES, _ODD, st.text(max_size=8)), min_size=1, max_size=12))
def test_normalise_frame_on_arrow_text_matches_value_by_value(values) -> None:
    columns = ["title", "upc", "releaseDate", "c_line_year", "reissue", "type"]
    out = normalise_frame(pd.DataFrame({c: values for c in columns}, dtype=str), ROYALTI)
    for column in columns:
        field = ROYALTI.field(column)
        assert out[column].tolist() == [normalise_value(v, field) for v in values], column


def test_checks_map_no_python_function_over_the_cells(monkeypatch) -> None:
    """On a column of distinct values, the hot checks call no per-cell Python function."""
    calls = {"n": 0}
    original = pd.Series.map

    def counting_map(self, *args, **kwargs):
        calls["n"] += len(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pd.Series, "map", counting_map)
    dates = pd.Series([f"2024-01-{d:02d}" for d in range(1, 29)] * 50, dtype=str)
    upcs = pd.Series([f"{i:011d}0" for i in range(1400)], dtype=str)
    assert iso_dates_ok(dates).all()
    gtin_verdicts(upcs, {12})
    int_texts(pd.Series([str(i) for i in range(1400)], dtype=str), checks._INT_RE)
    normalise_frame(pd.DataFrame({"upc": upcs, "releaseDate": dates, "title": upcs}), ROYALTI)
    assert calls["n"] == 0
