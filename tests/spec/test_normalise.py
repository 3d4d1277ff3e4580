"""Tests of the canonical form both sides of a diff are compared in (catalog_sync.spec.normalise)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog_sync.spec import load_spec
from catalog_sync.spec.normalise import format_media, normalise_frame, normalise_value, parse_media

ROYALTI = load_spec("royalti")
KEEVAULT = load_spec("keevault")
JOGG = load_spec("jogg")


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("upc", " 0123-4567 8905 ", "012345678905"),
        ("upc", "1.2E+11", "1.2E+11"),
        ("reissue", "YES", "true"),
        ("reissue", "n", "false"),
        ("reissue", "maybe", "maybe"),
        ("releaseDate", "2024-6-1", "2024-06-01"),
        ("releaseDate", "2024-06-15T10:00:00Z", "2024-06-15"),
        ("releaseDate", "2024-06-15 10:00:00", "2024-06-15"),
        ("releaseDate", "2024-02-30", "2024-02-30"),
        ("releaseDate", "15/06/2024", "15/06/2024"),
        ("totalTracks", "+012", "12"),
        ("totalTracks", "12.0", "12"),
        ("totalTracks", "000", "0"),
        ("totalTracks", "12.5", "12.5"),
        ("type", "audio", "Audio"),
        ("status", "taken down", "Taken Down"),
        ("explicit", "CLEAN", "clean"),
        ("format", "ep", "EP"),
        ("type", "Podcast", "Podcast"),
        ("title", "  Cafe\u0301\r\nBar ", "Caf\u00e9\nBar"),
        ("title", "", ""),
    ],
)
def test_royalti_values(field: str, raw: str, expected: str) -> None:
    assert normalise_value(raw, ROYALTI.field(field)) == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [("TRUE", "1"), ("no", "0"), ("1", "1"), ("0.0", "0"), ("2", "2")]
)
def test_keevault_one_zero_boolean(raw: str, expected: str) -> None:
    assert normalise_value(raw, KEEVAULT.field("require_non_expired")) == expected


def test_keevault_source_case_and_integer_id() -> None:
    assert normalise_value("Envato", KEEVAULT.field("source")) == "envato"
    assert normalise_value("007", KEEVAULT.field("product_id")) == "7"


def test_media_bare_urls_and_json_forms_agree() -> None:
    media = JOGG.field("media")
    text = "https://a.example/x.jpg | https://a.example/demo.MP4\nhttps://a.example/z"
    canonical = normalise_value(text, media)
    assert canonical == "https://a.example/x.jpg|https://a.example/demo.MP4|https://a.example/z"
    as_json = json.dumps(
        [
            {"type": 1, "url": "https://a.example/x.jpg"},
            {"type": 2, "url": "https://a.example/demo.MP4", "name": ""},
            {"url": "https://a.example/z"},
        ]
    )
    assert normalise_value(as_json, media) == canonical
    items = parse_media(canonical)
    assert [m["type"] for m in items or []] == [1, 2, 1]
    assert format_media(items or []) == canonical


def test_media_with_names_stays_json_and_bad_json_stays_text() -> None:
    media = JOGG.field("media")
    out = normalise_value('[{"type": 1, "url": "https://a/x.mp4", "name": " Front "}]', media)
    assert json.loads(out) == [{"type": 1, "name": "Front", "url": "https://a/x.mp4", "description": ""}]
    assert normalise_value("[not json", media) == "[not json"
    assert parse_media("[not json") is None


def test_frame_is_vectorised_over_typed_columns_and_keeps_index_and_other_columns() -> None:
    df = pd.DataFrame(
        {
            "upc": ["012345678905", " 012345678905", "x"],
            "reissue": ["YES", "0", ""],
            "releaseDate": ["2024-06-15T00:00:00", "", "2024-6-1"],
            "unknown": [" a ", "b", "c"],
        },
        index=[2, 5, 9],
    )
    out = normalise_frame(df, ROYALTI)
    assert list(out.index) == [2, 5, 9]
    assert out["upc"].tolist() == ["012345678905", "012345678905", "x"]
    assert out["reissue"].tolist() == ["true", "false", ""]
    assert out["releaseDate"].tolist() == ["2024-06-15", "", "2024-06-01"]
    assert out["unknown"].tolist() == [" a ", "b", "c"]  # not a spec field: untouched
    assert df["upc"].iloc[1] == " 012345678905"  # input not modified


def test_frame_handles_missing_values_as_empty() -> None:
    df = pd.DataFrame({"title": ["x", None], "totalTracks": [None, "03"]})
    out = normalise_frame(df, ROYALTI)
    assert out["title"].tolist() == ["x", ""]
    assert out["totalTracks"].tolist() == ["", "3"]


ALL_FIELDS = [f for spec in (ROYALTI, KEEVAULT, JOGG) for f in spec.fields]

_interesting = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["TRUE", " yes ", "0", "+0012.00", "2024-1-2T03:04", "Taken down", "a; b ;;c", "1.2E+11"]
    ),
    st.lists(
        st.sampled_from(["https://x/a.jpg", "https://x/b.mp4", " ", "\n", "|", "e\u0301"]), max_size=6
    ).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(value=_interesting, index=st.integers(min_value=0, max_value=len(ALL_FIELDS) - 1))
def test_normalise_is_idempotent(value: str, index: int) -> None:
    field = ALL_FIELDS[index]
    once = normalise_value(value, field)
    assert normalise_value(once, field) == once
    assert once == once.strip()


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.text(max_size=12), min_size=1, max_size=8))
def test_frame_matches_value_by_value(values: list[str]) -> None:
    df = pd.DataFrame({"title": values, "totalTracks": values, "reissue": values, "upc": values})
    out = normalise_frame(df, ROYALTI)
    for column in df.columns:
        field = ROYALTI.field(column)
        assert out[column].tolist() == [normalise_value(v, field) for v in values]


_EVERY_FIELD = [(spec, f) for spec in (ROYALTI, KEEVAULT, JOGG) for f in spec.fields]
_SPELLINGS = st.sampled_from(
    ["", " ", "0", "-0", "007", "12", "-12", "+5", "5.0", "2024-02-30", "2024-6-1", "2024-06-15",
     "0999-01-01", "0000-01-01", "TRUE", "true", "1", "0", "false", "yes", "Single", "single", "Audio",
     "a;b", "a; ;b", "https://x.example/a.mp4", "\u00e9", "e\u0301", " x", "x ", "a\r\nb", "\x1f", "\x85"]
)  # fmt: skip
_TEXTS = st.lists(st.one_of(_SPELLINGS, st.text(max_size=6), st.none()), max_size=30)


@settings(max_examples=150, deadline=None)
@given(field_at=st.integers(0, len(_EVERY_FIELD) - 1), values=_TEXTS)
def test_the_vectorised_column_equals_normalise_value_of_every_cell(field_at: int, values: list) -> None:
    # the Arrow fast path (values already canonical) and the exact path must agree on every value
    spec, field = _EVERY_FIELD[field_at]
    frame = normalise_frame(pd.DataFrame({field.name: pd.Series(values, dtype=object)}), spec)
    assert frame[field.name].tolist() == [normalise_value(v, field) for v in values]


def test_a_column_of_numbers_is_normalised_the_exact_way() -> None:
    frame = normalise_frame(pd.DataFrame({"upc": pd.Series([12, None, 3.0], dtype=object)}), ROYALTI)
    assert frame["upc"].tolist() == [normalise_value(v, ROYALTI.field("upc")) for v in (12, None, 3.0)]
