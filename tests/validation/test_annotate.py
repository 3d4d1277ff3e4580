# mypy: disable-error-code="union-attr"
"""Issue 18 item 3: ``validate --annotate OUT.xlsx`` paints each problem into a copy of the catalog."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from catalog_sync.cli.main import cli
from catalog_sync.problems import Problem
from catalog_sync.sheets.write.annotated import FILLS
from catalog_sync.validation import validate_catalog
from catalog_sync.validation.annotate import annotate_catalog
from catalog_sync.validation.result import PROBLEM_FIELDS

HEADER = "product_id,name,description,source,require_non_expired,external_reference,status\n"
# F3/F4: one duplicate-key group; G3: not-in-enum; A4: bad-format.  C2 and C4 look like a formula and
# an error value, F2 has leading zeros, C3 is a 20-digit number, B3 is NA: all must stay text.
CATALOG = (
    HEADER + "5,Widget,=SUM(A1),internal,1,00123,active\n"
    "6,NA,12345678901234567890,internal,1,E-1,bogus\n"
    "x7,Gadget,#N/A,internal,1,E-1,active\n"
)
PROBLEM_CELLS = {"F3": "error", "G3": "error", "A4": "error", "F4": "error"}


def _validate(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["validate", *args])
    return result.exit_code, result.stdout, result.stderr


def _catalog(tmp_path: Path, text: str = CATALOG, name: str = "catalog.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def _marks(ws) -> dict[str, tuple[str, str]]:
    """{cell: (fill colour, comment)} of every commented or filled cell."""
    found = {}
    for row in ws.iter_rows():
        for cell in row:
            colour = cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None
            if cell.comment is not None or colour:
                found[cell.coordinate] = (str(colour)[-6:], cell.comment.text if cell.comment else "")
    return found


def _problem_rows(ws) -> list[dict]:
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == PROBLEM_FIELDS
    return [dict(zip(PROBLEM_FIELDS, r, strict=True)) for r in rows[1:]]


def test_a_csv_copy_marks_exactly_the_problem_cells_and_keeps_text_as_text(tmp_path) -> None:
    catalog = _catalog(tmp_path)
    out = tmp_path / "marked.xlsx"
    code, stdout, _ = _validate(str(catalog), "-p", "keevault", "--annotate", str(out))

    assert code == 3 and f"wrote the annotated copy {out}" in stdout
    wb = load_workbook(out)
    assert wb.sheetnames == ["catalog", "Problems"]
    ws = wb["catalog"]
    marks = _marks(ws)
    assert {cell: colour for cell, (colour, _) in marks.items()} == {
        cell: FILLS[severity] for cell, severity in PROBLEM_CELLS.items()
    }
    assert marks["G3"][1].startswith("not-in-enum: status 'bogus' is not an allowed value")
    assert marks["F3"][1].startswith("duplicate-key: ") and "also on row 4" in marks["F3"][1]
    assert marks["F4"][1].startswith("duplicate-key: ") and "also on row 3" in marks["F4"][1]
    # every cell is a string cell holding the file's text
    values = {(c.coordinate, c.value, c.data_type) for row in ws.iter_rows() for c in row if c.value}
    for cell, text in [("C2", "=SUM(A1)"), ("F2", "00123"), ("B3", "NA"), ("C3", "12345678901234567890")]:
        assert (cell, text, "s") in values
    assert ("C4", "#N/A", "s") in values and ("A1", "product_id", "s") in values
    assert ws.max_row == 4 and ws.max_column == 7


def test_the_problems_sheet_lists_every_problem_with_a_link_to_its_cell(tmp_path) -> None:
    catalog = _catalog(tmp_path)
    out = tmp_path / "marked.xlsx"
    _code, stdout, _ = _validate(str(catalog), "-p", "keevault", "--json")
    _validate(str(catalog), "-p", "keevault", "--annotate", str(out))

    ws = load_workbook(out)["Problems"]
    assert _problem_rows(ws) == json.loads(stdout)["problems"]
    links = {c.value: c.hyperlink.location for c in ws["B"][1:]}
    assert links == {cell: f"'catalog'!{cell}" for cell in ("F3", "G3", "A4", "F4")}
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:H5"


def test_a_missing_column_is_noted_on_the_header_and_a_file_problem_only_listed(tmp_path) -> None:
    text = "product_id,name,description,require_non_expired,external_reference\n5,Caf\xe9,d,1,00123\n"
    catalog = _catalog(tmp_path, text, encoding="cp1252")  # not UTF-8: encoding-guessed, file-level
    out = tmp_path / "marked.xlsx"
    _validate(str(catalog), "-p", "keevault", "--annotate", str(out))

    wb = load_workbook(out)
    marks = _marks(wb["catalog"])
    assert list(marks) == ["A1"] and marks["A1"][0] == FILLS["error"]
    assert marks["A1"][1].splitlines() == [
        "required: the sheet has no source column; add a source column and fill it in on every row",
        "required: the sheet has no status column; add a status column and fill it in on every row",
    ]
    codes = [(p["code"], p["cell"]) for p in _problem_rows(wb["Problems"])]
    assert ("encoding-guessed", None) in codes and len(codes) == 3
    assert wb["catalog"]["B2"].value == "Café"


def test_several_problems_on_one_cell_make_one_comment_in_the_worst_colour(tmp_path) -> None:
    sheet, spec, report = validate_catalog(_catalog(tmp_path), "keevault")
    warning = Problem("house-rule", "a warning on the same cell", "warning", sheet.display_name, "G3", 3)
    only_warning = Problem("house-rule", "only a warning here", "warning", sheet.display_name, "B2", 2)
    report.problems = [warning, *report.problems, only_warning]
    annotate_catalog(sheet, spec, report, tmp_path / "marked.xlsx")

    marks = _marks(load_workbook(tmp_path / "marked.xlsx")["catalog"])
    assert marks["G3"][0] == FILLS["error"] and marks["B2"][0] == FILLS["warning"]
    assert [line.split(":")[0] for line in marks["G3"][1].splitlines()] == ["not-in-enum", "house-rule"]


def test_mapping_puts_the_mark_in_the_users_own_column(tmp_path) -> None:
    text = "State,product_id,name,description,source,require_non_expired,external_reference\n"
    catalog = _catalog(tmp_path, text + "bogus,5,Widget,d,internal,1,E-1\n")
    mapping = tmp_path / "cols.yaml"
    mapping.write_text("State: status\n", encoding="utf-8")
    out = tmp_path / "marked.xlsx"
    _validate(str(catalog), "-p", "keevault", "--mapping", str(mapping), "--annotate", str(out))

    marks = _marks(load_workbook(out)["catalog"])
    assert list(marks) == ["A2"] and marks["A2"][1].startswith("not-in-enum: status 'bogus'")


def _workbook(tmp_path: Path) -> Path:
    wb = Workbook()
    notes = wb.active
    notes.title = "Notes"
    notes["A1"] = "read me first"
    ws = wb.create_sheet("Products")
    for row in [line.split(",") for line in CATALOG.splitlines()]:
        ws.append(row)
    for cell in ("C2", "C4"):
        ws[cell].data_type = "s"  # text that looks like a formula and an error value, as in the CSV
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.column_dimensions["B"].width = 40
    ws["G3"].number_format = "@"
    path = tmp_path / "catalog.xlsx"
    wb.save(path)
    return path


def test_an_xlsx_copy_keeps_the_other_sheets_and_the_formatting(tmp_path) -> None:
    catalog = _workbook(tmp_path)
    out = tmp_path / "marked.xlsx"
    code, _stdout, _ = _validate(
        str(catalog), "-p", "keevault", "--sheet", "Products", "--annotate", str(out)
    )

    assert code == 3
    wb = load_workbook(out)
    assert wb.sheetnames == ["Notes", "Products", "Problems"]
    assert wb["Notes"]["A1"].value == "read me first"
    ws = wb["Products"]
    assert ws["A1"].font.b and ws.column_dimensions["B"].width == 40 and ws["G3"].number_format == "@"
    assert {cell: colour for cell, (colour, _) in _marks(ws).items()} == {
        cell: FILLS[severity] for cell, severity in PROBLEM_CELLS.items()
    }
    assert [p["cell"] for p in _problem_rows(wb["Problems"])] == ["F3", "G3", "A4", "F4"]
    assert load_workbook(catalog).sheetnames == ["Notes", "Products"]  # the input is untouched


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.parametrize("source", ["csv", "xlsx"])
def test_libreoffice_opens_the_copy_with_its_comments_fills_and_problems(tmp_path, convert, source) -> None:
    catalog = _catalog(tmp_path) if source == "csv" else _workbook(tmp_path)
    out = tmp_path / "marked.xlsx"
    sheet = ["--sheet", "Products"] if source == "xlsx" else []
    _validate(str(catalog), "-p", "keevault", *sheet, "--annotate", str(out))

    wb = load_workbook(convert(out, "xlsx"))
    ws = wb.worksheets[1] if source == "xlsx" else wb.worksheets[0]
    marks = _marks(ws)
    assert {cell: colour for cell, (colour, _) in marks.items()} == {
        cell: FILLS[severity] for cell, severity in PROBLEM_CELLS.items()
    }
    assert marks["G3"][1].startswith("not-in-enum: status 'bogus'")
    assert [p["cell"] for p in _problem_rows(wb["Problems"])] == ["F3", "G3", "A4", "F4"]
    assert ws["C2"].value == "=SUM(A1)" and ws["F2"].value == "00123"


def test_an_existing_copy_is_refused_without_force(tmp_path) -> None:
    catalog = _catalog(tmp_path)
    out = tmp_path / "marked.xlsx"
    out.write_bytes(b"my edits")

    code, _stdout, stderr = _validate(str(catalog), "-p", "keevault", "--annotate", str(out))
    assert code == 2 and "pass --force" in stderr and out.read_bytes() == b"my edits"

    code, _stdout, _ = _validate(str(catalog), "-p", "keevault", "--annotate", str(out), "--force")
    assert code == 3 and load_workbook(out).sheetnames == ["catalog", "Problems"]


def test_the_catalog_itself_or_a_link_to_it_is_refused_even_with_force(tmp_path) -> None:
    wb = _workbook(tmp_path)
    before = wb.read_bytes()
    linked = tmp_path / "linked.xlsx"
    os.link(wb, linked)
    for target in (wb, linked):
        code, _stdout, stderr = _validate(
            str(wb), "-p", "keevault", "--sheet", "Products", "--annotate", str(target), "--force"
        )
        assert code == 2 and "annotated copy" in stderr
    assert wb.read_bytes() == before


def test_annotate_takes_only_xlsx(tmp_path) -> None:
    code, _stdout, stderr = _validate(str(_catalog(tmp_path)), "-p", "keevault", "--annotate", "out.csv")
    assert code == 2 and "must end in .xlsx" in stderr
    assert not (tmp_path / "out.csv").exists()


def test_json_output_and_exit_code_are_unchanged_by_annotate(tmp_path) -> None:
    catalog = _catalog(tmp_path)
    plain = _validate(str(catalog), "-p", "keevault", "--json")
    marked = _validate(str(catalog), "-p", "keevault", "--json", "--annotate", str(tmp_path / "m.xlsx"))
    assert marked[:2] == plain[:2] and "wrote the annotated copy" in marked[2]


def test_a_valid_catalog_is_copied_whole_with_an_empty_problems_sheet(tmp_path) -> None:
    catalog = _catalog(tmp_path, HEADER + "5,Widget,d,internal,1,00123,active\n")
    out = tmp_path / "marked.xlsx"
    code, stdout, _ = _validate(str(catalog), "-p", "keevault", "--annotate", str(out))

    assert code == 0 and "0 cells marked, 0 problems listed" in stdout
    wb = load_workbook(out)
    assert [[c.value for c in row] for row in wb["catalog"].iter_rows()] == [
        HEADER.strip().split(","),
        ["5", "Widget", "d", "internal", "1", "00123", "active"],
    ]
    assert _marks(wb["catalog"]) == {} and _problem_rows(wb["Problems"]) == []
