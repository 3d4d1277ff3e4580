"""Merged cells are named (issue 17 item 11): a merged range keeps its value in its first cell only.

C2:C4 merged showing ``Shirts`` reads as ``Shirts`` in C2 and nothing in C3:C4: ``--blanks clear``
cleared the label of rows 3–4 and ``validate`` said nothing.  Now every reader (xlsx and xls through
calamine, ods from its content.xml) reports ``merged-cells`` naming the range; ``validate`` warns,
and the gate plan and apply pass through refuses it (catalog-sync does not guess what the merge means).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from catalog_sync.errors import InvalidCatalogError
from catalog_sync.sheets import load_sheet
from catalog_sync.spec import load_spec
from catalog_sync.validation import validate_catalog
from catalog_sync.validation.gate import load_valid_catalog

ROYALTI = load_spec("royalti")
HEADER = ["externalId", "title", "label", "notes"]


def merged_workbook(path: Path, *ranges: str, rows: list[list[str | None]] | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Products"
    ws.append(HEADER)
    for row in rows or [
        ["E1", "Blue", "Shirts", "x"],
        ["E2", "Red", None, None],
        ["E3", "Green", None, None],
    ]:
        ws.append(row)
    for cells in ranges:
        ws.merge_cells(cells)
    wb.save(path)
    return path


def _merged(path: Path) -> list[tuple]:
    sheet = load_sheet(path, known_fields=ROYALTI.field_names)
    return [
        (p.cell, p.row, p.column, p.severity, p.extra["range"])
        for p in sheet.problems
        if p.code == "merged-cells"
    ]


def test_a_merged_range_over_data_rows_is_named_with_what_the_user_sees(tmp_path: Path) -> None:
    path = merged_workbook(tmp_path / "m.xlsx", "C2:C4")
    (problem,) = [
        p for p in load_sheet(path, known_fields=ROYALTI.field_names).problems if p.code == "merged-cells"
    ]
    assert (problem.cell, problem.row, problem.column, problem.value) == ("C2", 3, "label", "Shirts")
    assert problem.message.startswith("C2:C4 is merged: rows 3–4 show 'Shirts' but hold nothing")
    assert "Unmerge" in problem.message


def test_a_horizontal_merge_names_the_cells_it_hides(tmp_path: Path) -> None:
    path = merged_workbook(tmp_path / "m.xlsx", "B2:C2")
    sheet = load_sheet(path, known_fields=ROYALTI.field_names)
    (problem,) = [p for p in sheet.problems if p.code == "merged-cells"]
    assert problem.message.startswith("B2:C2 is merged: C2 shows 'Blue' but holds nothing")


@pytest.mark.parametrize(
    "ranges, rows",
    [
        (("D2:D4",), None),  # only a column catalog-sync ignores (notes)
        (("C3:C4",), None),  # empty: it shows nothing, and nothing is read
        (("A1:B1",), None),  # the header row only (its second header is reported as empty elsewhere)
    ],
)
def test_merges_that_hide_nothing_sent_are_not_reported(tmp_path: Path, ranges, rows) -> None:
    assert _merged(merged_workbook(tmp_path / "m.xlsx", *ranges, rows=rows)) == []


def test_validate_warns_and_the_run_gate_refuses(tmp_path: Path) -> None:
    path = merged_workbook(tmp_path / "m.xlsx", "C2:C4")
    _sheet, _spec, report = validate_catalog(path, "royalti")
    assert report.valid and [p.code for p in report.warnings].count("merged-cells") == 1
    with pytest.raises(InvalidCatalogError) as refused:
        load_valid_catalog(path, "royalti")
    errors = refused.value.context["report"].errors
    assert [(p.cell, p.code) for p in errors] == [("C2", "merged-cells")]
    assert "covered cells would be sent as empty" in errors[0].message


@pytest.mark.libreoffice
@pytest.mark.parametrize("target", ["ods", "xls"])
def test_ods_and_xls_merges_are_found_too(tmp_path: Path, convert, target: str) -> None:
    saved = convert(merged_workbook(tmp_path / "m.xlsx", "C2:C4", "B3:B4"), target)
    assert _merged(saved) == [
        ("C2", 3, "label", "warning", "C2:C4"),
        ("B3", 4, "title", "warning", "B3:B4"),
    ]


_ODS = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>
<table:table table:name="Other"><table:table-row><table:table-cell table:number-rows-spanned="9"/></table:table-row>
</table:table>
<table:table table:name="Products">
<table:table-row table:number-rows-repeated="2"><table:table-cell table:number-columns-repeated="3"/></table:table-row>
<table:table-row><table:table-cell/><table:table-cell table:number-columns-spanned="2" table:number-rows-spanned="3"/>
<table:covered-table-cell/></table:table-row>
<table:table-row><table:table-cell table:number-columns-repeated="4"/><table:table-cell table:number-rows-spanned="2"/></table:table-row>
</table:table></office:spreadsheet></office:body></office:document-content>"""


def test_ods_spans_count_repeated_rows_and_columns_of_the_named_table_only(tmp_path: Path) -> None:
    import zipfile

    from catalog_sync.sheets.merged import ods_merged_ranges

    path = tmp_path / "spans.ods"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", _ODS)
    # B3 spans 3 rows and 2 columns (B3:C5); E4 spans 2 rows (E4:E5); the other table's span is not ours
    assert ods_merged_ranges(path, "Products") == [(2, 1, 4, 2), (3, 4, 4, 4)]
    assert ods_merged_ranges(path, "Missing") == []
