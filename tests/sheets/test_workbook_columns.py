"""Workbooks are read column by column (issue 20 item 5): a column of text cells becomes one Arrow
column without a Python object per cell, and the sheet is built from the columns as a CSV's is.

The reader before took each row through ``row_texts`` into a :class:`Grid` and built the sheet row
by row; both are kept (the exact CSV reader and reports build from rows), so the tests compare the
two on a workbook holding every kind of cell: text with spaces, numbers, numbers typed as text,
dates, times, booleans, error cells (``#REF!``), a formula without a saved result, a merged range
over the data, blank rows, a title above the header, unknown and unnamed columns, a cell too long.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import asdict
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import python_calamine as pc

from catalog_sync.sheets import limits, load_sheet
from catalog_sync.sheets.cells import row_texts
from catalog_sync.sheets.model import Sheet
from catalog_sync.sheets.table import ColumnGrid, Grid, build_sheet
from catalog_sync.sheets.workbook import _error_cells, read_workbook, sheet_columns
from catalog_sync.sheets.write.fixed import grid_rows
from catalog_sync.spec import load_spec

ROYALTI = load_spec("royalti")


def every_kind_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Catalog"
    ws.append(["Catalog export 2026"])  # a title above the header
    ws.append(["externalId", "title", "upc", "releaseDate", "price", "explicit", "notes", None, "label"])
    ws.append(["E1", "  Blue  ", "012345678905", dt.date(2024, 1, 31), 1.5, True, "x", None, "Shirts"])
    ws.append([])  # a blank row keeps the rows below at their true numbers
    ws.append(["E2", "Red", 12345678905, dt.datetime(2024, 1, 31, 8, 30, 5), 0.1, False, 7, "stray", None])
    ws.append(["E3", "Green", 123456789012345678, dt.time(8, 30), 1e20, "TRUE", None, None, None])
    ws.append(["E4", "x" * 40, "=C3*2", dt.datetime(2024, 2, 1), "#N/A", None, "y", None, "Hats"])
    ws.append(["E5", "Grey", "REF", dt.timedelta(hours=30), -0.0, None, " ", None, "Hats"])
    ws.merge_cells("I3:I5")
    wb.save(path)
    _error_cell(path, "C8", "#REF!")
    return path


def _error_cell(path: Path, ref: str, error: str) -> None:
    """Make ``ref`` an error cell as Excel saves one (``t="e"`` with its cached text)."""
    with zipfile.ZipFile(path) as zin:
        parts = {i.filename: zin.read(i) for i in zin.infolist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    start = xml.index(f'<c r="{ref}"')
    end = xml.index("</c>", start) + 4
    xml = xml[:start] + f'<c r="{ref}" t="e"><f>#REF!+1</f><v>{error}</v></c>' + xml[end:]
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)


def rows_as_before(path: Path) -> tuple[list[list[str]], list[list[str]]]:
    """The cells and kinds the row-by-row reader made: calamine's rows through ``row_texts``, error
    cells written over."""
    with pc.CalamineWorkbook.from_path(str(path)) as book:
        rows = book.get_sheet_by_name("Catalog").to_python(skip_empty_area=False)
    cells, kinds = [], []
    for row in rows:
        texts, row_kinds = row_texts(list(row))
        cells.append(texts)
        kinds.append(row_kinds)
    for (r, c), text in _error_cells(path, "xl/worksheets/sheet1.xml").items():
        cells[r][c], kinds[r][c] = text, "e"
    return cells, kinds


def _same_sheet(new: Sheet, old: Sheet) -> None:
    pd.testing.assert_frame_equal(new.data, old.data)
    for name in ("kinds", "ignored", "ignored_kinds"):
        if getattr(old, name) is None:
            assert getattr(new, name) is None, name
        else:
            pd.testing.assert_frame_equal(getattr(new, name), getattr(old, name))
    assert [asdict(p) for p in new.problems] == [asdict(p) for p in old.problems]
    for name in ("headers", "columns", "letters", "header_row", "source_headers", "sheet_name"):
        assert getattr(new, name) == getattr(old, name), name


@pytest.mark.parametrize(
    ("known", "codes"),
    [
        (None, {"cell-too-large", "empty-header"}),  # the title row is the header
        (ROYALTI.field_names, {"header-row", "cell-too-large", "merged-cells", "formula-no-value"}),
    ],
)
def test_the_columns_give_the_sheet_the_rows_gave(tmp_path, monkeypatch, known, codes):
    monkeypatch.setattr(limits, "MAX_CELL_CHARS", 30)  # B7 is too long
    path = every_kind_workbook(tmp_path / "kinds.xlsx")
    book = read_workbook(path, "xlsx", None)
    assert isinstance(book.grid, ColumnGrid)
    cells, kinds = rows_as_before(path)
    assert book.grid.rows() == cells
    assert [list(r) for r in zip(*(c.to_pylist() for c in book.grid.kinds.columns), strict=True)] == kinds
    before = Grid(
        cells=cells, kinds=kinds, trimmed=True, merged=book.grid.merged, valueless=book.grid.valueless
    )
    old = build_sheet(before, path=path, sheet_name="Catalog", mapping={}, known_fields=known)
    new = build_sheet(book.grid, path=path, sheet_name="Catalog", mapping={}, known_fields=known)
    assert old is not None and new is not None
    _same_sheet(new, old)
    assert codes <= {p.code for p in new.problems}


def test_every_kind_reads_as_the_text_a_user_sees(tmp_path):
    sheet = load_sheet(every_kind_workbook(tmp_path / "kinds.xlsx"), known_fields=ROYALTI.field_names)
    assert sheet.columns == ["externalId", "title", "upc", "releaseDate", "explicit", "label"]
    assert sheet.data.loc[3].tolist() == ["E1", "Blue", "012345678905", "2024-01-31", "TRUE", "Shirts"]
    assert sheet.data.loc[5, "upc"] == "12345678905"
    assert sheet.data.loc[5, "releaseDate"] == "2024-01-31T08:30:05"
    assert sheet.data.loc[6, "upc"] == "123456789012345700"
    assert sheet.data.loc[6, "releaseDate"] == "08:30:00"
    assert sheet.data.loc[7, "upc"] == ""  # a formula without a saved result
    assert sheet.data.loc[8, "upc"] == "#REF!"
    assert sheet.data.loc[8, "releaseDate"] == "30:00:00"
    assert sheet.data.index.tolist() == [3, 5, 6, 7, 8]
    assert sheet.kinds is not None
    assert sheet.kinds["upc"].tolist() == ["s", "n", "n", "", "e"]
    assert sheet.kinds["explicit"].tolist() == ["b", "b", "s", "", ""]
    assert sheet.kinds["title"].tolist() == ["s"] * 5
    assert sheet.ignored is not None and sheet.ignored_kinds is not None
    assert sheet.ignored["price"].tolist() == ["1.5", "0.1", "100000000000000000000", "#N/A", "0"]
    assert sheet.ignored_kinds["price"].tolist() == [
        "n",
        "n",
        "n",
        "e",
        "n",
    ]  # openpyxl saves "#N/A" as an error
    assert sheet.ignored["notes"].tolist() == ["x", "7", "", "y", ""]


def test_a_column_of_text_cells_only_is_read_without_a_python_object_per_cell():
    texts, kinds = sheet_columns([["a", " b "], ["", "c"], ["  ", "d"]], {})
    assert texts.column(0).to_pylist() == ["a", "", ""]
    assert texts.column(1).to_pylist() == ["b", "c", "d"]
    assert kinds.column(0).to_pylist() == ["s", "", ""]
    assert texts.schema.types == kinds.schema.types == [texts.schema.types[0]] * 2


def test_short_rows_are_padded_and_error_cells_written_over():
    texts, kinds = sheet_columns([["a", "b"], ["c"]], {(1, 1): "#REF!", (5, 5): "#N/A"})
    assert texts.column(1).to_pylist() == ["b", "#REF!"]
    assert kinds.column(1).to_pylist() == ["s", "e"]


def test_a_pulled_copy_of_a_workbook_keeps_every_row(tmp_path):
    path = every_kind_workbook(tmp_path / "kinds.xlsx")
    sheet = load_sheet(path)
    assert grid_rows(sheet, "xlsx") == rows_as_before(path)[0]
