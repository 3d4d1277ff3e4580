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

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from catalog_sync.errors import ConfigError, InputError
from catalog_sync.problems import Severity
from catalog_sync.sheets.detect import detect_format
from catalog_sync.sheets.model import Sheet, column_letter
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
    """A new workbook of text cells: openpyxl writes the marked cells (fills, comments), the Problems
    sheet and every other part to a skeleton; the catalog's other cells are then streamed into the
    skeleton's sheet (openpyxl spends ~30 µs a cell: 100,000 rows of 18 columns took ~55 s)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    rows = grid_rows(sheet, source_format)
    wb = Workbook()
    ws = wb.active
    ws.title = _safe_title(sheet.sheet_name or sheet.path.stem)
    for address, note in notes.items():
        row, column = split_cell(address)
        line = rows[row - 1] if row <= len(rows) else []
        cell = ws.cell(row=row, column=column + 1)
        _set_text(cell, line[column] if column < len(line) else "")
        _mark(cell, note)
    width = max([len(r) for r in rows] + [ws.max_column])
    for j in range(1, width + 1):
        ws.column_dimensions[get_column_letter(j)].number_format = "@"  # typed later, still text
    _problems_sheet(wb.create_sheet(_free_title([ws.title], PROBLEMS_SHEET)), ws.title, problems, columns)
    skeleton = target.with_name(target.name + ".skeleton")
    try:
        wb.save(skeleton)
        _fill_sheet(skeleton, target, "xl/worksheets/sheet1.xml", rows, width)
    finally:
        skeleton.unlink(missing_ok=True)


_MARKED_CELL = re.compile(r'<c r="([A-Z]+)([0-9]+)"(?:[^>]*/>|.*?</c>)', re.S)


def _fill_sheet(skeleton: Path, target: Path, part: str, rows: Sequence[Sequence[str]], width: int) -> None:
    """Copy ``skeleton`` to ``target`` with ``rows`` streamed into worksheet ``part``'s data: each value
    an inline string cell, except where the skeleton already holds a (marked) cell."""
    with zipfile.ZipFile(skeleton) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != part:
                dst.writestr(info, src.read(info.filename))
                continue
            head, marked, tail = _split_sheet(src.read(part).decode("utf-8"))
            last = max([len(rows), *marked])
            head = re.sub(
                r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{column_letter(width - 1)}{last}"/>', head
            )
            with dst.open(part, "w", force_zip64=True) as raw:
                out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                out.write(head + "<sheetData>")
                letters = [column_letter(j) for j in range(width)]
                for number in range(1, last + 1):
                    line = rows[number - 1] if number <= len(rows) else ()
                    out.write(_row_xml(number, line, marked.get(number, {}), letters))
                out.write("</sheetData>" + tail)
                out.flush()
                out.detach()


def _split_sheet(xml: str) -> tuple[str, dict[int, dict[int, str]], str]:
    """(what comes before the sheet data, ``{row: {0-based column: <c> element}}``, what comes after)."""
    if "<sheetData/>" in xml:
        head, tail = xml.split("<sheetData/>", 1)
        return head, {}, tail
    head, rest = xml.split("<sheetData>", 1)
    body, tail = rest.split("</sheetData>", 1)
    marked: dict[int, dict[int, str]] = {}
    for match in _MARKED_CELL.finditer(body):
        row, column = split_cell(match[1] + match[2])
        marked.setdefault(row, {})[column] = match[0]
    return head, marked, tail


def _row_xml(number: int, line: Sequence[str], marked: Mapping[int, str], letters: Sequence[str]) -> str:
    """One ``<row>``: the line's values as inline strings, a marked cell where the skeleton has one."""
    cells = []
    for j, value in enumerate(line):
        element = marked.get(j)
        if element is not None:
            cells.append(element)
        elif value:
            text = escape(value if value.isprintable() and "_x" not in value else xlsx_text(value))
            cells.append(
                f'<c r="{letters[j]}{number}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
            )
    cells += [marked[j] for j in sorted(marked) if j >= len(line)]
    return f'<row r="{number}">{"".join(cells)}</row>' if cells else ""


def _set_text(cell: Any, value: str) -> None:
    """``value`` as a text cell (never a formula, error or number)."""
    cell.value = xlsx_text(value) if value else None
    if value:
        cell.data_type = "s"


def _problems_sheet(
    ws: Any, catalog_title: str, problems: Sequence[Mapping[str, Any]], columns: Sequence[str]
) -> None:
    """The problems as a table: bold frozen header, a filter, each cell address a link to its cell."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    for j, name in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(j)].width = _PROBLEM_WIDTHS.get(name, 80)
        ws.cell(row=1, column=j, value=name).font = Font(bold=True)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(problems) + 1}"
    sheet_ref = "'" + catalog_title.replace("'", "''") + "'"
    for number, problem in enumerate(problems, start=2):
        for j, name in enumerate(columns, start=1):
            _set_problem_cell(ws.cell(row=number, column=j), name, problem.get(name), sheet_ref)


def _set_problem_cell(cell: Any, name: str, value: Any, sheet_ref: str) -> None:
    """One cell of the Problems sheet: numbers stay numbers, text is text; a cell address links to its cell."""
    from openpyxl.worksheet.hyperlink import Hyperlink

    if isinstance(value, int) and not isinstance(value, bool):
        cell.value = value
        return
    text = "" if value is None else str(value)
    _set_text(cell, text)
    if name == "cell" and text:
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"{sheet_ref}!{text}", display=text)
        cell.font = _link_font()
    if name == "severity" and text in FILLS:
        cell.fill = _fill(text)


@cache
def _link_font() -> Any:
    from openpyxl.styles import Font

    return Font(color="0563C1", underline="single")


@cache
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
