"""Write a copy of a catalog with its problem cells painted and commented (``validate --annotate``).

``write_annotated(sheet, notes, problems, out)`` takes the loaded :class:`Sheet` (for its file and
worksheet), ``{A1 cell: CellNote}`` (what :mod:`catalog_sync.validation.annotate` decided goes
where) and the problems as table rows, and writes ``out`` (always ``.xlsx``):

* an xlsx/xlsm catalog is loaded with openpyxl and saved as a copy: its sheets, values, formulas
  and formatting are kept; each noted cell of the catalog's worksheet gets a fill (its worst
  severity's colour) and a comment (the user's own comment, if any, is kept above ours). A
  workbook with macros is saved without them (``.xlsx``); openpyxl does not carry images or
  charts;
* any other catalog (CSV, xls, xlsb, ods) becomes a new workbook of text cells, streamed row by
  row: every value as catalog-sync read it, ``00123``, ``=SUM(A1)``, ``NA`` and long ids stay
  text (string cells, columns formatted as Text).

Both get a ``Problems`` sheet (another name if the workbook has one): one row per problem, its cell
address a link to the cell, the header frozen, a filter over the table.  The file is written to
a temporary name next to ``out`` and renamed, so a crash never leaves half a file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from catalog_sync.errors import ConfigError, InputError
from catalog_sync.problems import Severity
from catalog_sync.sheets.detect import detect_format
from catalog_sync.sheets.model import Sheet
from catalog_sync.sheets.write.fixed import grid_rows, split_cell
from catalog_sync.sheets.write.report import STATUS_COLOURS, atomic_target
from catalog_sync.sheets.write.text_table import xlsx_text

PROBLEMS_SHEET = "Problems"
#: Fill colours of a noted cell, by its worst severity (those of the reports' severity cells).
FILLS: dict[str, str] = {"error": STATUS_COLOURS["error"], "warning": STATUS_COLOURS["warning"]}
AUTHOR = "catalog-sync"
_COMMENT_WIDTH = 320  # points: wide enough for a message on a few lines
_LINE_HEIGHT = 16  # points per expected line of a comment box
_CHARS_PER_LINE = 55
_TITLE_UNSAFE = re.compile(r"[\[\]:*?/\\]")
_PROBLEM_WIDTHS = {"sheet": 16, "cell": 8, "row": 8, "column": 18, "value": 24, "code": 18, "severity": 10}
_NEEDS_CELL = ("=", "#")  # text openpyxl would otherwise store as a formula or an error value


@dataclass(frozen=True)
class CellNote:
    """What one cell of the copy carries: the worst severity of its problems and one line each."""

    severity: Severity
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def write_annotated(
    sheet: Sheet,
    notes: Mapping[str, CellNote],
    problems: Sequence[Mapping[str, Any]],
    out: str | Path,
    *,
    columns: Sequence[str],
) -> Path:
    """Write the annotated copy of ``sheet``'s file to ``out`` (.xlsx); returns ``out``.

    ``problems``: one mapping per problem with ``columns`` as keys (their ``cell`` becomes a link
    to that cell of the catalog's worksheet).
    """
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise ConfigError(f"the annotated copy must end in .xlsx, not {out.name!r}")
    source_format = detect_format(sheet.path).format
    try:
        with atomic_target(out) as temp:
            if source_format == "xlsx":
                _annotate_workbook(sheet, notes, problems, columns, temp)
            else:
                _write_text_copy(sheet, source_format, notes, problems, columns, temp)
    except OSError as exc:
        raise ConfigError(f"cannot write the annotated copy {out}: {exc.strerror or exc}") from None
    return out


def _annotate_workbook(
    sheet: Sheet,
    notes: Mapping[str, CellNote],
    problems: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    target: Path,
) -> None:
    from openpyxl import load_workbook

    try:
        with sheet.path.open("rb") as fh:  # a file object: openpyxl judges a path by its extension
            wb = load_workbook(fh, rich_text=True)
    except Exception as exc:  # openpyxl raises many types for files calamine could read
        raise InputError(f"cannot open the workbook to annotate it: {exc}", file=str(sheet.path)) from None
    ws = wb[sheet.sheet_name] if sheet.sheet_name in wb.sheetnames else wb.active
    for address, note in notes.items():
        _mark(ws[_unmerged(ws, address)], note)
    title = _free_title(wb.sheetnames, PROBLEMS_SHEET)
    _problems_sheet(wb.create_sheet(title), ws.title, problems, columns)
    wb.template = False  # an .xltx/.xltm catalog: the copy is a workbook
    wb.save(target)


def _unmerged(ws: Any, address: str) -> str:
    """``address``, or the first cell of the merged range it lies in (the one that can hold a comment)."""
    for merged in ws.merged_cells.ranges:
        if address in merged:
            return str(merged.start_cell.coordinate)
    return address


def _mark(cell: Any, note: CellNote) -> None:
    from openpyxl.comments import Comment

    cell.fill = _fill(note.severity)
    text = note.text
    if cell.comment is not None and cell.comment.text:
        text = f"{cell.comment.text.rstrip()}\n\n{AUTHOR}:\n{text}"
    lines = sum(1 + len(line) // _CHARS_PER_LINE for line in text.splitlines())
    cell.comment = Comment(
        xlsx_text(text), AUTHOR, width=_COMMENT_WIDTH, height=_LINE_HEIGHT * min(max(lines, 2), 40)
    )


def _write_text_copy(
    sheet: Sheet,
    source_format: str,
    notes: Mapping[str, CellNote],
    problems: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    target: Path,
) -> None:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    rows = grid_rows(sheet, source_format)
    marks = _by_row(notes)
    wb = Workbook(write_only=True)
    title = _safe_title(sheet.sheet_name or sheet.path.stem)
    ws = wb.create_sheet(title)
    width = max([len(r) for r in rows] + [max(m) + 1 for m in marks.values()] + [1])
    for j in range(1, width + 1):
        ws.column_dimensions[get_column_letter(j)].number_format = "@"  # typed later, still text
    last = max([len(rows), *marks])
    for number in range(1, last + 1):
        line = rows[number - 1] if number <= len(rows) else []
        ws.append(_text_row(ws, line, marks.get(number, {})))
    _problems_sheet(wb.create_sheet(_free_title([title], PROBLEMS_SHEET)), title, problems, columns)
    wb.save(target)


def _by_row(notes: Mapping[str, CellNote]) -> dict[int, dict[int, CellNote]]:
    """``{row: {0-based column: note}}``."""
    marks: dict[int, dict[int, CellNote]] = {}
    for address, note in notes.items():
        row, column = split_cell(address)
        marks.setdefault(row, {})[column] = note
    return marks


def _text_row(ws: Any, line: Sequence[str], marks: Mapping[int, CellNote]) -> list[Any]:
    """One row of the text copy: plain strings where openpyxl keeps them text, cells where it must be told."""
    width = max(len(line), max(marks) + 1 if marks else 0)
    out: list[Any] = []
    for j in range(width):
        value = line[j] if j < len(line) else ""
        note = marks.get(j)
        if note is None and not value.startswith(_NEEDS_CELL):
            out.append(xlsx_text(value) if value else None)
            continue
        cell = _string_cell(ws, value)
        if note is not None:
            _mark(cell, note)
        out.append(cell)
    return out


def _string_cell(ws: Any, value: str) -> Any:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=xlsx_text(value) if value else None)
    if value:
        cell.data_type = "s"  # never a formula, error or number
    return cell


def _problems_sheet(
    ws: Any, catalog_title: str, problems: Sequence[Mapping[str, Any]], columns: Sequence[str]
) -> None:
    """The problems as a table: bold frozen header, a filter, each cell address a link to its cell.

    ``ws`` is a write-only worksheet (the text copy, streamed) or an ordinary one (a copied workbook).
    """
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    streamed = isinstance(ws, WriteOnlyWorksheet)
    for j, name in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(j)].width = _PROBLEM_WIDTHS.get(name, 80)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(problems) + 1}"
    sheet_ref = "'" + catalog_title.replace("'", "''") + "'"
    table = chain([{name: name for name in columns}], problems)
    for number, problem in enumerate(table, start=1):
        cells = []
        for j, name in enumerate(columns, start=1):
            cell = WriteOnlyCell(ws) if streamed else ws.cell(row=number, column=j)
            _set_problem_cell(cell, name, problem.get(name), sheet_ref if number > 1 else None)
            if number == 1:
                cell.font = Font(bold=True)
            cells.append(cell)
        if streamed:
            ws.append(cells)


def _set_problem_cell(cell: Any, name: str, value: Any, sheet_ref: str | None) -> None:
    """One cell of the Problems sheet: numbers stay numbers, text is text; a cell address links to its cell."""
    from openpyxl.styles import Font
    from openpyxl.worksheet.hyperlink import Hyperlink

    if isinstance(value, int) and not isinstance(value, bool):
        cell.value = value
        return
    text = "" if value is None else str(value)
    cell.value = xlsx_text(text) if text else None
    if text:
        cell.data_type = "s"  # never a formula, error or number
    if sheet_ref is None:
        return
    if name == "cell" and text:
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"{sheet_ref}!{text}", display=text)
        cell.font = Font(color="0563C1", underline="single")
    if name == "severity" and text in FILLS:
        cell.fill = _fill(text)


def _fill(severity: str) -> Any:
    from openpyxl.styles import PatternFill

    colour = FILLS[severity]
    return PatternFill(fill_type="solid", start_color=colour, end_color=colour)


def _safe_title(name: str) -> str:
    """A worksheet title Excel accepts: no ``[]:*?/\\``, at most 31 characters, not empty."""
    return _TITLE_UNSAFE.sub("_", name).strip("'")[:31] or "Catalog"


def _free_title(taken: Sequence[str], wanted: str) -> str:
    lowered = {t.lower() for t in taken}
    title, n = wanted, 1
    while title.lower() in lowered:
        n += 1
        title = f"{wanted} ({n})"
    return title
