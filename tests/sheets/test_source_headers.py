"""What the loader keeps of the user's own columns: the header text of each kept column
(``Sheet.source_headers``) and the values of the columns it ignores (``Sheet.ignored``), so a
report can give the user back the columns as they were in the file."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from catalog_sync.sheets import load_sheet
from catalog_sync.sheets.table import file_columns

FIELDS = ["upc", "title", "status"]


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_kept_columns_remember_their_header_and_ignored_ones_keep_their_values(tmp_path) -> None:
    path = _csv(
        tmp_path / "c.csv",
        "Barcode,Notes,,TITLE,notes,Extra,Status\n012345678905,n1,x,T1,dup,e,Live\n,n2,,T2,,,\n",
    )
    sheet = load_sheet(path, mapping={"Barcode": "upc", "Extra": None}, known_fields=FIELDS)
    assert sheet.columns == ["upc", "title", "status"]
    assert sheet.source_headers == {"upc": "Barcode", "title": "TITLE", "status": "Status"}
    ignored = sheet.ignored
    assert ignored is not None
    # unknown, empty header (by its letter), a second 'notes' (told apart by its letter), mapped to nothing
    assert list(ignored.columns) == ["Notes", "C", "notes (E)", "Extra"]
    assert ignored.index.tolist() == sheet.data.index.tolist() == [2, 3]
    assert ignored.loc[2].tolist() == ["n1", "x", "dup", "e"]
    assert ignored.loc[3].tolist() == ["n2", "", "", ""]
    assert file_columns(sheet) == [
        ("field", "upc"),
        ("ignored", "Notes"),
        ("ignored", "C"),
        ("field", "title"),
        ("ignored", "notes (E)"),
        ("ignored", "Extra"),
        ("field", "status"),
    ]


def test_a_sheet_of_field_names_has_no_ignored_columns(tmp_path) -> None:
    path = _csv(tmp_path / "plain.csv", "upc,title,,\n012345678905,T1,,\n")
    sheet = load_sheet(path, known_fields=FIELDS)
    assert sheet.ignored is None  # an empty column without a header is nothing to carry
    assert sheet.source_headers == {"upc": "upc", "title": "title"}
    assert file_columns(sheet) == [("field", "upc"), ("field", "title")]


def test_without_known_fields_every_column_is_kept_under_its_own_header(tmp_path) -> None:
    sheet = load_sheet(_csv(tmp_path / "any.csv", "A b,C\n1,2\n"))
    assert sheet.columns == ["A b", "C"] and sheet.source_headers == {"A b": "A b", "C": "C"}
    assert sheet.ignored is None


def test_workbook_rows_below_a_title_keep_their_true_row_numbers_in_ignored(tmp_path) -> None:
    wb = openpyxl.Workbook()
    for row in [
        ["Export"],
        [],
        ["Remark", "Title", "UPC"],
        ["first", "A", "012345678905"],
        [],
        ["third", "B", ""],
    ]:
        wb.active.append(row)
    path = tmp_path / "t.xlsx"
    wb.save(path)
    sheet = load_sheet(path, known_fields=FIELDS)
    assert sheet.header_row == 3
    assert sheet.source_headers == {"title": "Title", "upc": "UPC"}
    assert sheet.ignored is not None and sheet.ignored["Remark"].to_dict() == {4: "first", 6: "third"}
    assert [kind for kind, _ in file_columns(sheet)] == ["ignored", "field", "field"]


def test_an_empty_sheet_body_still_names_its_ignored_columns(tmp_path) -> None:
    sheet = load_sheet(_csv(tmp_path / "h.csv", "upc,Notes\n"), known_fields=FIELDS)
    assert sheet.ignored is not None and list(sheet.ignored.columns) == ["Notes"] and sheet.ignored.empty
