"""Unit tests of the rules on sheets built in memory (no file reading involved)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandera.pandas as pa
import pytest

from catalog_sync.problems import CODES, Problem
from catalog_sync.spec import load_spec
from catalog_sync.validation import build_pandera_schema, validate_sheet
from catalog_sync.validation.checks import gtin_check_digit_ok, media_problem, url_ok
from catalog_sync.validation.dates import excel_serial_to_date

ROYALTI = load_spec("royalti")
KEEVAULT = load_spec("keevault")
JOGG = load_spec("jogg")


def k_row(**changes: str) -> dict[str, str]:
    row = {
        "product_id": "",
        "name": "Tool",
        "description": "d",
        "source": "internal",
        "require_non_expired": "1",
        "external_reference": "",
        "status": "active",
    }
    row.update(changes)
    return row


def test_schema_checks_are_named_with_stable_codes() -> None:
    schema = build_pandera_schema(ROYALTI)
    assert isinstance(schema, pa.DataFrameSchema)
    names = {c.name for col in schema.columns.values() for c in col.checks}
    assert names == {"required", "not-in-enum", "bad-format", "too-long", "out-of-range", "upc-checksum"}
    assert names <= set(CODES)
    assert [c.name for c in schema.columns["upc"].checks] == ["bad-format", "upc-checksum"]
    assert schema.columns["title"].required and not schema.columns["upc"].required
    assert "use one of: Audio, Video, Ringtone" in schema.columns["type"].checks[0].description


@pytest.mark.parametrize(
    "digits, ok",
    [
        ("012345678905", True),
        ("012345678906", False),
        ("4006381333931", True),
        ("96385074", True),
        ("00012345600012", True),
        ("12345", False),
        ("abc", False),
    ],
)
def test_gtin_check_digit(digits: str, ok: bool) -> None:
    assert gtin_check_digit_ok(digits) is ok


@pytest.mark.parametrize(
    "serial, expected",
    [
        (1, date(1900, 1, 1)),
        (59, date(1900, 2, 28)),
        (60, None),
        (61, date(1900, 3, 1)),
        (45458, date(2024, 6, 15)),
        (45458.75, date(2024, 6, 15)),
        (0, None),
        (3_000_000, None),
    ],
)
def test_excel_serial_honours_the_1900_leap_bug(serial: float, expected: date | None) -> None:
    assert excel_serial_to_date(serial) == expected


@pytest.mark.parametrize(
    "value, ok",
    [
        ("https://shop.example.com/x?a=1", True),
        ("http://example.org", True),
        ("shop.example.com/x", False),
        ("ftp://example.com/x", False),
        ("https://", False),
        ("https://exa mple.com", False),
        ("https://localhost/x", False),
    ],
)
def test_url_rule(value: str, ok: bool) -> None:
    assert url_ok(value) is ok


@pytest.mark.parametrize(
    "value, fine",
    [
        ("https://a.example.com/x.jpg|https://a.example.com/y.mp4", True),
        ("https://a.example.com/x.jpg\nhttps://a.example.com/y.jpg", True),
        ('[{"type": 1, "name": "n", "url": "https://a.example.com/x.jpg", "description": "d"}]', True),
        ('[{"type": 2, "url": "https://a.example.com/x.mp4"}]', True),
        ('[{"type": 3, "url": "https://a.example.com/x.jpg"}]', False),
        ('[{"type": 1}]', False),
        ('[{"type": 1, "url": "https://a.example.com/x.jpg"', False),
        ('{"type": 1}', False),
        ("https://a.example.com/x.jpg|x.jpg", False),
    ],
)
def test_media_rule(value: str, fine: bool) -> None:
    assert (media_problem(value) is None) is fine


def test_every_type_rule_on_one_sheet(make_sheet) -> None:
    sheet = make_sheet(
        [
            {
                "title": "ok",
                "upc": "",
                "releaseDate": "2024-06-15",
                "c_line_year": "2024",
                "reissue": "TRUE",
                "type": "VIDEO",
                "language": "en",
                "catalogNumber": "CAT-1",
            },
            {
                "title": "ok",
                "upc": "12A",
                "releaseDate": "2024-6-15",
                "c_line_year": "20x4",
                "reissue": "maybe",
                "type": "Vinyl",
                "language": "english-british",
                "catalogNumber": "CAT-2",
            },
            {
                "title": "ok",
                "upc": "",
                "releaseDate": "2023-02-29",
                "c_line_year": "2101",
                "reissue": "no",
                "type": "",
                "language": "",
                "catalogNumber": "CAT-3",
            },
            {
                "title": "ok",
                "upc": "",
                "releaseDate": "2024-06-15T10:00:00",
                "c_line_year": "+2024",
                "reissue": "1",
                "type": "ringtone",
                "language": "",
                "catalogNumber": "CAT-4",
            },
        ]
    )
    report = validate_sheet(sheet, ROYALTI)
    assert report.flatten() == [
        (3, "B3", "bad-format"),
        (3, "C3", "bad-format"),
        (3, "D3", "bad-format"),
        (3, "E3", "bad-format"),
        (3, "F3", "not-in-enum"),
        (3, "G3", "too-long"),
        (4, "C4", "bad-format"),
        (4, "D4", "out-of-range"),
    ]
    assert report.invalid_rows == {3, 4}
    enum = next(p for p in report.problems if p.code == "not-in-enum")
    assert enum.value == "Vinyl" and "use one of: Audio, Video, Ringtone" in enum.message
    assert enum.sheet == "catalog.csv" and enum.column == "type"


def test_house_rules_tighten_fields_and_keep_the_normal_codes(make_sheet, tmp_path: Path) -> None:
    house = tmp_path / "house.yaml"
    house.write_text(
        "fields:\n  - name: label\n    required: true\n  - name: title\n    max_length: 10\n"
        "    pattern: '^[A-Z]'\n",
        encoding="utf-8",
    )
    spec = load_spec("royalti", [house])
    sheet = make_sheet(
        [
            {"title": "Summer", "label": "L", "externalId": "E1"},
            {"title": "lowercase start", "label": "", "externalId": "E2"},
        ]
    )
    assert validate_sheet(sheet, ROYALTI).problems == []
    report = validate_sheet(sheet, spec)
    assert report.flatten() == [(3, "A3", "bad-format"), (3, "A3", "too-long"), (3, "B3", "required")]


def test_missing_required_column_is_one_problem_per_column(make_sheet) -> None:
    report = validate_sheet(make_sheet([{"name": "A", "description": "d"}]), KEEVAULT)
    assert report.flatten(("row", "cell", "column", "code")) == [
        (None, None, "source", "required"),
        (None, None, "require_non_expired", "required"),
        (None, None, "status", "required"),
    ]
    assert not report.valid and report.invalid_rows == set()


def test_identifier_keys_must_be_unique_name_keys_only_where_they_match(make_sheet) -> None:
    sheet = make_sheet(
        [
            k_row(product_id="1", name="Pro"),  # 2: told apart from row 3 by product_id
            k_row(product_id="2", name="Pro"),  # 3
            k_row(name="Lite", external_reference="X-1"),  # 4
            k_row(name="Lite", external_reference="X-2"),  # 5: told apart by external_reference
            k_row(name="Solo"),  # 6
            k_row(name="Solo"),  # 7: both matched by name -> ambiguous
            k_row(product_id="01", name="A"),  # 8: same id as row 9 after canonical integer form
            k_row(product_id="1.0", name="B"),  # 9 (identifier integer: excel-damage, so not compared)
            k_row(product_id="1", name="C"),  # 10
        ]
    )
    report = validate_sheet(sheet, KEEVAULT)
    dups = [(p.row, p.column) for p in report.problems if p.code == "duplicate-key"]
    assert dups == [(2, "product_id"), (6, "name"), (7, "name"), (8, "product_id"), (10, "product_id")]
    first = next(p for p in report.problems if p.row == 2)
    assert first.extra["duplicate_rows"] == [2, 8, 10] and "rows 8, 10" in first.message
    assert (9, "A9", "excel-damage") in report.flatten()


def test_a_name_shared_with_a_row_matched_by_name_is_a_duplicate(make_sheet) -> None:
    sheet = make_sheet([k_row(product_id="4", name="Pro"), k_row(name="Pro")])
    assert validate_sheet(sheet, KEEVAULT).flatten() == [
        (2, "B2", "duplicate-key"),
        (3, "B3", "duplicate-key"),
    ]


def test_identifier_duplicates_count_after_trim_and_nfc(make_sheet) -> None:
    sheet = make_sheet(
        [{"title": "a", "externalId": "Caf\u00e9"}, {"title": "b", "externalId": "Cafe\u0301"}]
    )
    assert validate_sheet(sheet, ROYALTI).flatten() == [
        (2, "B2", "duplicate-key"),
        (3, "B3", "duplicate-key"),
    ]


def test_one_of_required(make_sheet) -> None:
    sheet = make_sheet(
        [{"url": "", "name": "N"}, {"url": "", "name": ""}, {"url": "https://x.example.com", "name": ""}]
    )
    assert validate_sheet(sheet, JOGG).flatten() == [(3, "A3", "one-of-required")]
    report = validate_sheet(make_sheet([{"description": "d"}]), JOGG)
    assert report.flatten(("row", "cell", "code")) == [(None, None, "one-of-required")]


def test_excel_damage_in_identifier_columns_uses_cell_kinds(make_sheet) -> None:
    rows = [
        {"title": "a", "upc": "12345678905", "catalogNumber": "1234"},
        {"title": "b", "upc": "012345678905", "catalogNumber": "9.87654E+14"},
        {"title": "c", "upc": "123456789012", "catalogNumber": "C-1"},
        {"title": "d", "upc": "12345678900", "catalogNumber": ""},
    ]
    kinds = [
        {"upc": "n", "catalogNumber": "n"},
        {"upc": "s", "catalogNumber": "n"},
        {"upc": "n", "catalogNumber": "s"},
        {"upc": "n"},
    ]
    report = validate_sheet(make_sheet(rows, kinds=kinds, name="catalog.xlsx"), ROYALTI)
    got = report.flatten(("cell", "code", "severity"))
    assert got == [
        ("B1", "excel-damage", "warning"),  # one per column: intact ids in number cells (B4, B5)
        ("C1", "excel-damage", "warning"),  # ... (C2)
        ("B2", "excel-damage", "error"),  # lost leading zero, confirmed by the check digit
        ("C3", "excel-damage", "error"),  # scientific notation
        ("B5", "bad-format", "error"),  # 11 digits, padding does not give a valid UPC
    ]
    assert [p.extra["rows"] for p in report.problems[:2]] == [[4, 5], [2]]
    assert report.problems[2].extra["suggestion"] == "012345678905"
    assert report.problems[2].sheet == "Sheet1"


def test_date_serials_in_date_columns(make_sheet) -> None:
    rows = [
        {"title": "a", "externalId": "E0", "releaseDate": "45458"},
        {"title": "b", "externalId": "E1", "releaseDate": "60"},
        {"title": "c", "externalId": "E2", "releaseDate": "12345"},
        {"title": "d", "externalId": "E3", "releaseDate": "2024-06-15"},
    ]
    kinds = [{"releaseDate": "s"}, {"releaseDate": "n"}, {"releaseDate": "s"}, {"releaseDate": "d"}]
    report = validate_sheet(make_sheet(rows, kinds=kinds, name="c.xlsx"), ROYALTI)
    assert report.flatten(("cell", "code")) == [
        ("C2", "excel-damage"),
        ("C3", "excel-damage"),
        ("C4", "bad-format"),
    ]
    assert report.problems[0].extra["suggestion"] == "2024-06-15"
    assert "suggestion" not in report.problems[1].extra  # serial 60 is the fictitious 1900-02-29


def test_strict_turns_every_warning_into_an_error(make_sheet) -> None:
    sheet = make_sheet([{"title": "a", "upc": "012345678906"}])
    sheet.problems.append(
        Problem(
            "unknown-column", "column x is ignored", "warning", sheet="catalog.csv", cell="Z1", column="x"
        )
    )
    lenient, strict = validate_sheet(sheet, ROYALTI), validate_sheet(sheet, ROYALTI, strict=True)
    assert lenient.valid and [p.severity for p in lenient.problems] == ["warning", "warning"]
    assert not strict.valid and [p.severity for p in strict.problems] == ["error", "error"]
    assert strict.flatten(("cell", "code")) == [("Z1", "unknown-column"), ("B2", "upc-checksum")]


def test_problems_are_sorted_by_row_then_sheet_column_order(make_sheet) -> None:
    sheet = make_sheet(
        [
            {"status": "x", "name": "", "description": "d", "source": "nope", "require_non_expired": "1"},
            {"status": "", "name": "", "description": "", "source": "internal", "require_non_expired": "1"},
        ]
    )
    report = validate_sheet(sheet, KEEVAULT)
    assert report.flatten(("row", "column")) == [
        (2, "status"),
        (2, "name"),
        (2, "source"),
        (3, "status"),
        (3, "name"),
        (3, "description"),
    ]
    data = report.to_dict()
    assert data["valid"] is False and list(data) == ["valid", "problems"]
    assert list(data["problems"][0]) == [
        "sheet",
        "cell",
        "row",
        "column",
        "value",
        "code",
        "severity",
        "message",
    ]
    assert report.summary() == "6 errors, 0 warnings"


def test_empty_values_pass_optional_rules_and_whole_report_is_clean(make_sheet) -> None:
    sheet = make_sheet([{f: "" for f in ROYALTI.field_names} | {"title": "Only a title", "externalId": "E1"}])
    report = validate_sheet(sheet, ROYALTI)
    assert report.valid and report.problems == [] and report.invalid_rows == set()


def test_a_row_with_no_match_key_is_a_no_key_warning(make_sheet) -> None:
    sheet = make_sheet(
        [
            {"upc": "", "externalId": "EXT-1", "title": "keyed"},
            {"upc": "", "externalId": "", "title": "no key at all"},
            {"upc": "036000291452", "externalId": "", "title": "keyed by upc"},
        ]
    )
    report = validate_sheet(sheet, ROYALTI)
    assert report.valid  # a warning: the row can still be created
    assert report.flatten(("row", "cell", "code")) == [(3, "A3", "no-key")]
    assert "each run would create it again" in report.problems[0].message
    assert validate_sheet(sheet, ROYALTI, strict=True).flatten(("row", "code", "severity")) == [
        (3, "no-key", "error")
    ]


def test_no_key_is_not_reported_where_a_key_rule_already_covers_it(make_sheet) -> None:
    # keevault: name is required; jogg: url or name is required — those errors say it already.
    assert "no-key" not in {p.code for p in validate_sheet(make_sheet([k_row(name="")]), KEEVAULT).problems}
    jogg = make_sheet([{"product_id": "", "url": "", "name": "", "description": "d"}])
    assert [p.code for p in validate_sheet(jogg, JOGG).problems] == ["one-of-required"]
