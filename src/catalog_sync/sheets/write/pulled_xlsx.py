"""The pulled sheet as xlsx: text cells, the template's header notes and dropdowns, a hidden base;
and a pulled workbook refreshed in place (``pull --refresh``): only the cells given and the base rewritten."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from catalog_sync.sheets.write.template import dropdown_values, header_note
from catalog_sync.sheets.write.text_table import xlsx_text

if TYPE_CHECKING:
    from catalog_sync.sheets.write.pulled import Pulled


def write(pulled: Pulled, path: Path, sheet: str, base_sheet: str) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    spec = pulled.spec
    last = max(len(pulled.rows) + 1, 2) + 1000  # room to add rows that keep the text format and lists
    for j, name in enumerate(pulled.columns, 1):
        field = spec.field(name)
        cell = ws.cell(row=1, column=j, value=name)
        cell.data_type, cell.font = "s", Font(bold=True)
        note = header_note(field, spec)
        cell.comment = Comment(
            note, "catalog-sync", width=320, height=40 + 18 * note.count("\n") + len(note) // 2
        )
        letter = get_column_letter(j)
        ws.column_dimensions[letter].number_format = "@"
        ws.column_dimensions[letter].width = min(max(len(name), len(field.example), 10) + 4, 60)
        choices = dropdown_values(field)
        if choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
            dv.errorStyle = "warning" if field.case_insensitive else "stop"
            dv.add(f"{letter}2:{letter}{last}")
            ws.add_data_validation(dv)
    _text_rows(ws, pulled.rows, start=2)
    ws.freeze_panes = "A2"
    base = wb.create_sheet(base_sheet)
    _text_rows(base, pulled.base_rows(), start=1)
    base.sheet_state = "hidden"
    wb.save(path)


#: Parts of an xlsx that openpyxl does not load, so a workbook saved by it loses them (comments'
#: VML drawings it writes again itself).
_DROPPED = {
    "charts": re.compile(r"xl/charts/"),
    "images": re.compile(r"xl/media/"),
    "drawings": re.compile(r"xl/drawings/drawing\d+\.xml$"),
    "pivot tables": re.compile(r"xl/pivot(Tables|Cache)/"),
    "macros": re.compile(r"xl/vbaProject\.bin$"),
    "slicers": re.compile(r"xl/slicers?(Caches)?/"),
}


def parts_openpyxl_drops(path: Path) -> list[str]:
    """What the workbook at ``path`` holds that rewriting it with openpyxl would lose."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    return [what for what, pattern in _DROPPED.items() if any(pattern.match(n) for n in names)]


def refresh(
    source: Path, target: Path, sheet: str, cells: Mapping[str, str], base: Pulled, base_sheet: str
) -> None:
    """``source`` with ``cells`` (A1 → text) of ``sheet`` set as text and ``base_sheet`` holding
    ``base``, saved to ``target``: every other sheet, format, dropdown and note kept."""
    from openpyxl import load_workbook

    wb = load_workbook(source)
    ws = wb[sheet] if sheet in wb.sheetnames else wb.active
    for address, value in cells.items():
        cell = ws[address]
        cell.value = xlsx_text(value) if value else None
        cell.data_type, cell.number_format = "s", "@"
    hidden = wb[base_sheet]
    hidden.delete_rows(1, hidden.max_row)
    _text_rows(hidden, base.base_rows(), start=1)
    wb.save(target)


def _text_rows(ws: object, rows: list[list[str]], *, start: int) -> None:
    """Every value as a text cell (never a number, date, formula or error)."""
    for i, row in enumerate(rows, start):
        for j, value in enumerate(row, 1):
            if value == "":
                continue
            cell = ws.cell(row=i, column=j, value=xlsx_text(value))  # type: ignore[attr-defined]
            cell.data_type = "s"
            cell.number_format = "@"
