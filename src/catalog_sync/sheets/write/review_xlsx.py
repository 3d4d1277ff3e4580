"""A review workbook: a table a person edits a few columns of (dropdowns), a summary, and a hidden
sheet of text the tool reads back exactly (``plan -o PLAN.xlsx`` is its one user).

Every text cell is a *string* cell with the Text format (a leading ``=`` is never a formula,
``00123`` keeps its zeros); integers stay numbers.  The table's header is bold and frozen with
its first columns, filtered, and the cells a row marks are filled.  openpyxl's write-only mode
streams the rows (a 10,000-row table in about a second).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog_sync.sheets.model import column_letter
from catalog_sync.sheets.write.text_table import xlsx_text

__all__ = ["Dropdown", "ReviewTable", "write_review_workbook"]


@dataclass
class Dropdown:
    """A list of choices offered in one column, on the table rows named (1-based, below the header)."""

    column: int
    choices: tuple[str, ...]
    rows: list[int]
    #: the message Excel and LibreOffice show for a value not in the list
    error: str = ""


@dataclass
class ReviewTable:
    """The sheet a person reviews: rows of text (or integers), with marks (cell fills) per row."""

    name: str
    header: list[str]
    rows: list[list[str | int]]
    #: per row: column index (0-based) → fill colour (RRGGBB)
    marks: list[dict[int, str]] = field(default_factory=list)
    dropdowns: list[Dropdown] = field(default_factory=list)
    freeze_columns: int = 0
    widths: list[int] = field(default_factory=list)


def write_review_workbook(
    path: Path,
    table: ReviewTable,
    summary: Sequence[tuple[str, str | int]],
    hidden: tuple[str, Sequence[Sequence[str]]],
) -> None:
    """Write the table's sheet (first, active), a ``Summary`` sheet and the hidden sheet."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    _table_sheet(book, table)
    _pairs_sheet(book, "Summary", [("item", "value"), *summary], bold_first=True)
    name, rows = hidden
    sheet = _pairs_sheet(book, name, rows)
    sheet.sheet_state = "hidden"
    book.save(path)


def _table_sheet(book: Any, table: ReviewTable) -> None:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    ws = book.create_sheet(table.name)
    last = column_letter(max(len(table.header), 1) - 1)
    ws.freeze_panes = f"{column_letter(table.freeze_columns)}2"
    ws.auto_filter.ref = f"A1:{last}{len(table.rows) + 1}"
    for j, width in enumerate(table.widths):
        ws.column_dimensions[column_letter(j)].width = width
    for dropdown in table.dropdowns:
        if not dropdown.rows:
            continue
        dv = DataValidation(type="list", formula1='"' + ",".join(dropdown.choices) + '"', allow_blank=True)
        dv.error, dv.showErrorMessage = dropdown.error or None, True
        letter = column_letter(dropdown.column)
        dv.sqref = " ".join(f"{letter}{r + 1}" for r in dropdown.rows)
        ws.data_validations.append(dv)  # a write-only sheet has no add_data_validation
    bold = Font(bold=True)
    ws.append([_cell(ws, name, font=bold) for name in table.header])
    fills: dict[str, PatternFill] = {}
    for i, values in enumerate(table.rows):
        marks = table.marks[i] if i < len(table.marks) else {}
        row = []
        for j, value in enumerate(values):
            colour = marks.get(j)
            fill = None
            if colour:
                fill = fills.get(colour) or fills.setdefault(
                    colour, PatternFill("solid", start_color=colour, end_color=colour)
                )
            row.append(_cell(ws, value, fill=fill))
        ws.append(row)


def _pairs_sheet(
    book: Any, name: str, rows: Sequence[Sequence[str | int]], *, bold_first: bool = False
) -> Any:
    from openpyxl.styles import Font

    ws = book.create_sheet(name)
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 60
    bold = Font(bold=True)
    for i, values in enumerate(rows):
        ws.append([_cell(ws, v, font=bold if bold_first and i == 0 else None) for v in values])
    return ws


def _cell(ws: Any, value: str | int, *, font: Any = None, fill: Any = None) -> Any:
    """A write-only cell: an integer as a number, anything else a Text string cell (never a formula)."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, int) and not isinstance(value, bool):
        cell = WriteOnlyCell(ws, value=value)
    else:
        cell = WriteOnlyCell(ws, value=xlsx_text(str(value)) if value != "" else None)
        if value != "":
            cell.data_type = "s"
        cell.number_format = "@"
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    return cell
