"""Review round 2: spreadsheet damage in real workbooks, vectorised checks, and big broken catalogs."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest
from openpyxl import Workbook

from catalog_sync.spec import load_spec
from catalog_sync.validation import validate_catalog, validate_sheet
from catalog_sync.validation.checks import (
    gtin_check_digit_ok,
    gtin_check_digits_ok,
    gtin_expected_check_digit,
    url_ok,
    urls_ok,
)

ROYALTI = load_spec("royalti")


def _xlsx(path, rows):
    wb = Workbook()
    ws = wb.active
    ws.title = "Products"
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def _by_cell(report):
    return {p.cell: p for p in report.problems}


def test_twenty_digit_id_stored_as_a_number_is_damage_not_a_warning(tmp_path) -> None:
    path = _xlsx(
        tmp_path / "ids.xlsx",
        [
            ["title", "catalogNumber", "externalId"],
            ["A", 12345678901234567890, 1.5e20],
            ["B", 4711, "EXT-2"],  # a short number cell keeps its digits: still only a warning
        ],
    )
    _sheet, _spec, report = validate_catalog(path, "royalti")
    cells = _by_cell(report)
    assert cells["B2"].code == "excel-damage" and cells["B2"].severity == "error"
    assert "15 significant digits" in cells["B2"].message
    assert cells["C2"].severity == "error" and cells["C2"].value == "150000000000000000000"
    # the intact short number is counted in one column warning on the header cell, not per cell
    assert cells["B1"].code == "excel-damage" and cells["B1"].severity == "warning"
    assert cells["B1"].extra["rows"] == [3] and "B3" not in cells
    assert not report.valid


def test_date_cell_in_an_id_column_is_an_error_and_in_a_text_column_a_warning(tmp_path) -> None:
    path = _xlsx(
        tmp_path / "dates.xlsx",
        [
            ["title", "catalogNumber", "displayArtist", "releaseDate"],
            ["A", dt.datetime(2024, 3, 12), dt.datetime(2024, 1, 2), dt.datetime(2024, 6, 15)],
        ],
    )
    _sheet, _spec, report = validate_catalog(path, "royalti")
    cells = _by_cell(report)
    assert (cells["B2"].code, cells["B2"].severity) == ("excel-damage", "error")
    assert "turned the id into a date" in cells["B2"].message and cells["B2"].value == "2024-03-12"
    assert (cells["C2"].code, cells["C2"].severity) == ("excel-damage", "warning")
    assert "D2" not in cells  # a real date in a date column is what it should be


def test_number_cell_with_a_date_serial_in_a_date_column_gets_the_iso_date(tmp_path) -> None:
    path = _xlsx(tmp_path / "serial.xlsx", [["title", "releaseDate", "version"], ["A", 45458, 45458]])
    sheet, _spec, report = validate_catalog(path, "royalti")
    cells = _by_cell(report)
    assert (cells["B2"].code, cells["B2"].severity) == ("excel-damage", "warning")
    assert cells["B2"].extra == {"converted": "2024-06-15"} and cells["B2"].value == "45458"
    assert sheet.data.loc[2, "releaseDate"] == "2024-06-15" and sheet.kinds is not None
    assert sheet.kinds.loc[2, "releaseDate"] == "d"
    # the same number in a free-text column is a legitimate value: nothing to say
    assert "C2" not in cells


def test_vectorised_check_digits_agree_with_the_scalar_rule() -> None:
    rng = random.Random(7)
    values = [
        "".join(rng.choice("0123456789") for _ in range(rng.choice((8, 12, 13, 14)))) for _ in range(3000)
    ]
    values += ["", "12a", "１２３４５６７８９０１２", "0", "00"]
    got = gtin_check_digits_ok(pd.Series(values, dtype=str)).tolist()
    assert got == [gtin_check_digit_ok(v) for v in values]
    assert sum(got) > 200  # about one in ten random codes has a right check digit
    assert gtin_check_digit_ok("036000291452") and gtin_expected_check_digit("036000291459") == 2


@pytest.mark.parametrize(
    "value",
    [
        "https://shop.example.com/item?id=1#x",
        "HTTP://A.B:8080/",
        "http://localhost/x",
        "https://exa mple.com",
        "https://example.com/a\u00a0b",
        "https://user:pw@example.com/",
        "https://[::1]/",
        "https://[broken/",
        "ftp://example.com",
        "https://example.com.",
        "https://bücher.de/x",
        "https://-.x",
        "",
    ],
)
def test_vectorised_url_check_agrees_with_the_scalar_rule(value: str) -> None:
    assert urls_ok(pd.Series([value], dtype=str)).tolist() == [url_ok(value)]


@pytest.mark.slow
def test_a_big_catalog_where_every_row_is_broken_validates_in_seconds() -> None:
    n = 60_000
    rows = {
        "title": [""] * n,
        "upc": [f"{i:011d}" + str((gtin_expected_check_digit(f"{i:011d}0") + 1) % 10) for i in range(n)],
        "releaseDate": ["2024-06-31"] * n,  # no real date (15/06/2024 is one local-date-format problem)
        "catalogNumber": [f"CAT-{i}" for i in range(n)],
    }
    from tests.support.builders import build_sheet

    sheet = build_sheet([dict(zip(rows, v, strict=True)) for v in zip(*rows.values(), strict=True)])
    report = validate_sheet(sheet, ROYALTI)  # its speed is measured by `make bench`, not asserted here
    assert len(report.errors) == 2 * n and len(report.warnings) == n
    assert report.problems[0].cell == "A2" and report.problems[-1].row == n + 1


def _broken_csv(path, n: int):
    lines = ["title,catalogNumber,releaseDate"] + [f",CAT-{i},2024-06-31" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_json_problems_have_exactly_the_product_keys(tmp_path) -> None:
    from click.testing import CliRunner

    from catalog_sync.cli.main import cli

    path = _xlsx(tmp_path / "x.xlsx", [["title", "upc", "releaseDate"], ["A", 12345678905, 45458]])
    result = CliRunner().invoke(cli, ["validate", str(path), "-p", "royalti", "--json"])
    assert result.exit_code == 3, result.output
    import json

    doc = json.loads(result.stdout)
    assert list(doc) == ["valid", "problems"] and doc["valid"] is False
    keys = ["sheet", "cell", "row", "column", "value", "code", "severity", "message"]
    assert [list(p) for p in doc["problems"]] == [keys, keys]
    # the repair that used to ride along as an extra key is in the message
    assert "012345678905" in doc["problems"][0]["message"]


def test_human_output_lists_the_first_problems_and_counts_the_rest(tmp_path) -> None:
    from click.testing import CliRunner

    from catalog_sync.cli.main import cli

    path = _broken_csv(tmp_path / "broken.csv", 400)
    result = CliRunner().invoke(cli, ["validate", str(path), "-p", "royalti"], env={"COLUMNS": "300"})
    assert result.exit_code == 3
    assert "Only the first 200 of 800 problems are listed" in result.stdout
    assert (
        "300 required (error), 300 bad-format (error)" in result.stdout and "--report FILE" in result.stdout
    )
    assert "800 errors, 0 warnings in broken.csv: invalid" in result.stdout
    assert "C101 " in result.stdout and "C102 " not in result.stdout  # rows 102+ are counted, not listed


def test_a_keyless_row_in_a_sheet_without_key_columns_still_names_a_cell(make_sheet) -> None:
    sheet = make_sheet([{"title": "A", "displayArtist": "B"}])
    [problem] = validate_sheet(sheet, ROYALTI).problems
    assert (problem.code, problem.cell, problem.column) == ("no-key", "A2", "title")


@pytest.mark.parametrize(
    "value",
    [
        "https://res.example.com/a.jpg|https://res.example.com/b.mp4",
        " https://a.b/x.jpg |\n https://a.b/y.mp4 | ",
        "https://a.b/x.jpg\r\nhttps://a.b/y.jpg",
        "https://a.b/x.jpg https://a.b/y.jpg",
        "https://a.b/x.jpg||ftp://a.b/y",
        "|",
        "https://a.b/x.jpg\fhttps://a.b/y.jpg",
        '[{"type": 1, "url": "https://a.b/x.jpg"}]',
        "[not json",
        "https://a.b/ü.jpg",
    ],
)
def test_vectorised_media_check_agrees_with_the_scalar_rule(value: str) -> None:
    from catalog_sync.validation.checks import media_problem, medias_ok

    assert medias_ok(pd.Series([value], dtype=str)).tolist() == [media_problem(value) is None]


def test_scientific_notation_with_a_decimal_comma_is_damage_too(make_sheet) -> None:
    # a French/German Excel writes 1,23457E+11 in its ;-separated CSV export
    sheet = make_sheet([{"title": "A", "upc": "1,23457E+11"}])
    [problem] = validate_sheet(sheet, ROYALTI).problems
    assert (problem.code, problem.cell) == ("excel-damage", "B2") and "scientific notation" in problem.message


def test_a_year_in_a_date_column_is_not_taken_for_a_date_serial(tmp_path) -> None:
    path = _xlsx(tmp_path / "year.xlsx", [["title", "releaseDate", "takedownDate"], ["A", 2024, 14611]])
    _sheet, _spec, report = validate_catalog(path, "royalti")
    cells = _by_cell(report)
    assert cells["B2"].code == "bad-format" and "1905" not in cells["B2"].message
    assert "YYYY-MM-DD" in cells["B2"].message
    # a 1940 serial (a reissue's original date) is still recognised, and converted
    assert cells["C2"].code == "excel-damage" and cells["C2"].extra["converted"] == "1940-01-01"
