"""Structural problems in the user's data become Problem records (not exceptions)."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from catalog_sync.errors import ConfigError
from catalog_sync.sheets import load_mapping, load_sheet

FIELDS = ["upc", "title", "displayArtist"]


def csv_file(tmp_path: Path, text: str, name: str = "cat.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def codes(sheet) -> list[tuple[str, str | None, str]]:
    return [(p.code, p.cell, p.severity) for p in sheet.problems]


def test_duplicate_headers_keep_the_first_and_name_both_cells(tmp_path):
    sheet = load_sheet(csv_file(tmp_path, "upc,title,UPC \n1,a,2\n"), known_fields=FIELDS)
    assert codes(sheet) == [("duplicate-column", "C1", "error")]
    assert sheet.problems[0].extra["cells"] == ["A1", "C1"]
    assert "A1" in sheet.problems[0].message and "C1" in sheet.problems[0].message
    assert sheet.columns == ["upc", "title"]
    assert sheet.data.loc[2, "upc"] == "1"


def test_duplicates_are_found_without_known_fields_too(tmp_path):
    sheet = load_sheet(csv_file(tmp_path, "a,b,a\n1,2,3\n"))
    assert codes(sheet) == [("duplicate-column", "C1", "error")]
    assert sheet.columns == ["a", "b"]


def test_data_under_an_empty_header_is_an_error_and_empty_columns_vanish(tmp_path):
    sheet = load_sheet(csv_file(tmp_path, "upc,,title,,\n1,stray,a,,\n2,,b,,\n"))
    assert codes(sheet) == [("empty-header", "B1", "error")]
    assert "B2" in sheet.problems[0].message
    assert sheet.columns == ["upc", "title"]
    assert sheet.letters == ["A", "C"]
    assert sheet.headers == ["upc", "", "title"]


def test_ragged_row_names_the_row_and_cell(tmp_path):
    sheet = load_sheet(csv_file(tmp_path, "upc,title\n1,a\n2,b,extra\n"))
    assert codes(sheet) == [("ragged-row", "C3", "error")]
    assert sheet.problems[0].row == 3
    assert sheet.data.loc[3].tolist() == ["2", "b"]


def test_unknown_columns_warn_and_are_left_out_and_case_is_canonical(tmp_path):
    sheet = load_sheet(csv_file(tmp_path, "UPC,Title,DISPLAYARTIST,colour\n1,a,b,red\n"), known_fields=FIELDS)
    assert sheet.columns == ["upc", "title", "displayArtist"]
    assert sheet.headers == ["UPC", "Title", "DISPLAYARTIST", "colour"]
    assert codes(sheet) == [("unknown-column", "D1", "warning")]
    assert sheet.problems[0].column == "colour"


def test_header_only_is_an_empty_catalog_problem(tmp_path):
    sheet = load_sheet(csv_file(tmp_path, "upc,title\n\n,\n"), known_fields=FIELDS)
    assert codes(sheet) == [("empty-catalog", None, "error")]
    assert sheet.data.empty and sheet.columns == ["upc", "title"]


def test_header_only_workbook_is_an_empty_catalog_problem(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["upc", "title"])
    path = tmp_path / "header.xlsx"
    wb.save(path)
    sheet = load_sheet(path)
    assert [p.code for p in sheet.problems] == ["empty-catalog"]
    assert sheet.kinds is not None and sheet.kinds.empty


def test_mapping_dict_matches_headers_ignoring_case_and_spacing(tmp_path):
    path = csv_file(tmp_path, "Bar code ,Song  Name,Artist,Internal\n012,a,b,x\n")
    mapping = {"bar CODE": "upc", "song name": "title", "artist": "DisplayArtist", "internal": None}
    sheet = load_sheet(path, mapping=mapping, known_fields=FIELDS)
    assert sheet.columns == ["upc", "title", "displayArtist"]
    assert sheet.data.loc[2].tolist() == ["012", "a", "b"]
    assert sheet.problems == []  # the mapped-to-nothing column is ignored on purpose


def test_mapping_to_an_unknown_field_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="'colour' is not a field"):
        load_sheet(csv_file(tmp_path, "a\n1\n"), mapping={"a": "colour"}, known_fields=FIELDS)


def test_mapping_onto_a_field_that_is_also_present_is_a_duplicate(tmp_path):
    sheet = load_sheet(
        csv_file(tmp_path, "upc,Barcode\n1,2\n"), mapping={"Barcode": "upc"}, known_fields=FIELDS
    )
    assert codes(sheet) == [("duplicate-column", "B1", "error")]


@pytest.mark.parametrize("kind", ["yaml", "json", "csv", "csv-titled"])
def test_mapping_files(tmp_path, kind):
    if kind == "yaml":
        path = tmp_path / "m.yaml"
        path.write_text("Bar code: upc\n'Song name': title\nNotes: null\n")
    elif kind == "json":
        path = tmp_path / "m.json"
        path.write_text(json.dumps({"columns": {"Bar code": "upc", "Song name": "title", "Notes": ""}}))
    else:
        path = tmp_path / "m.csv"
        title = "your header,field\n" if kind == "csv-titled" else ""
        path.write_text(title + 'Bar code,upc\n"Song name",title\nNotes,\n')
    assert load_mapping(path) == {"Bar code": "upc", "Song name": "title", "Notes": ""}
    sheet = load_sheet(
        csv_file(tmp_path, "Bar code,Song name,Notes\n1,a,n\n"), mapping=path, known_fields=FIELDS
    )
    assert sheet.columns == ["upc", "title"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.yaml", "- a\n- b\n", "must map your headers"),
        ("bad.json", "{not json", "cannot be parsed"),
        ("bad.csv", "a,b,c\n", "expected two columns"),
        ("bad.yaml", "a: [1, 2]\n", "is not 'header: field'"),
    ],
)
def test_bad_mapping_files_are_config_errors(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_mapping(path)


def test_missing_mapping_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read mapping file"):
        load_mapping(tmp_path / "nope.yaml")
