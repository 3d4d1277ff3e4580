"""Issue 9 item 2: a whole id column stored as numbers gives one finding for the column, not one per cell."""

from __future__ import annotations

from openpyxl import Workbook

from catalog_sync.validation import validate_catalog
from catalog_sync.validation.checks import gtin_expected_check_digit
from tests.support.builders import SAMPLES


def _upc(body: str) -> str:
    return body + str(gtin_expected_check_digit(body + "0"))


def test_sample_number_column_gives_one_column_warning_and_the_real_damage() -> None:
    report = validate_catalog(SAMPLES / "royalti" / "upc_number_column.xlsx", "royalti")[2]
    assert report.flatten() == [(1, "A1", "excel-damage"), (4, "A4", "excel-damage")]
    column, damaged = report.problems
    assert column.severity == "warning" and column.extra["rows"] == [2, 3]
    assert "format the whole column as Text" in column.message and "upc" in column.message
    assert damaged.severity == "error" and damaged.extra["suggestion"] == "012345678905"


def test_1209_number_cells_in_id_columns_give_one_finding_each_column(tmp_path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["upc", "title", "externalId", "catalogNumber"])
    for n in range(1209):
        ws.append(
            [int(_upc(f"{886721437 + n:011d}"[-11:].replace("0", "1", 1))), f"T{n}", 10_000 + n, f"C{n}"]
        )
    ws.cell(row=5, column=3, value=1.5e20)  # >15 digits: real damage, on its own cell
    ws.cell(row=7, column=3, value="6.02537E+11")  # scientific notation typed in: real damage
    ws.cell(row=9, column=1, value=int(_upc("01234567890")))  # lost its leading zero
    path = tmp_path / "numbers.xlsx"
    wb.save(path)
    report = validate_catalog(path, "royalti")[2]
    damage = [(p.row, p.cell, p.severity) for p in report.problems if p.code == "excel-damage"]
    assert damage == [
        (1, "A1", "warning"),
        (1, "C1", "warning"),
        (5, "C5", "error"),
        (7, "C7", "error"),
        (9, "A9", "error"),
    ]
    a1, c1 = report.problems[0], report.problems[1]
    assert len(a1.extra["rows"]) == 1208 and "1,208 cells (A2 to A1210)" in a1.message
    assert len(c1.extra["rows"]) == 1207
    assert "damaged cell" in a1.message
