"""Write a catalog again with some cells changed and everything else as it was (``validate --fix``).

``write_fixed(sheet, changes, out)`` takes the loaded :class:`Sheet` (for its file, worksheet,
encoding and delimiter) and ``{A1 cell: new text}``:

* an xlsx/xlsm catalog written to ``.xlsx`` is edited in place with openpyxl: only the changed
  cells are touched (each becomes a text cell formatted as Text, so the leading zeros stay);
  other cells, other sheets, headers, column order, formats and widths are kept;
* any other pair (CSV, ods, xls, or a workbook written to ``.csv`` or ``.ods``) is rewritten from
  the cells as read: the user's header and columns in their order, every value as the text
  catalog-sync read; an ``.xlsx`` or ``.ods`` made this way holds text cells formatted as Text, a
  ``.csv`` is UTF-8 with a BOM and the catalog's own delimiter (with ``keep_encoding``, a CSV
  written from a CSV keeps the catalog's own encoding and line ends too: ``apply --write-ids``).

The file is written to a temporary name next to ``out`` and renamed, so a crash never leaves
half a file.  Unwritable targets raise :class:`ConfigError`, unreadable sources :class:`InputError`.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from catalog_sync.config.defaults import FIXED_SUFFIXES
from catalog_sync.errors import ConfigError, InputError
from catalog_sync.sheets.csv_reader import read_csv_rows
from catalog_sync.sheets.detect import detect_format
from catalog_sync.sheets.encoding import detect_encoding
from catalog_sync.sheets.model import Sheet
from catalog_sync.sheets.workbook import read_workbook
from catalog_sync.sheets.write.pulled_ods import write_text_table
from catalog_sync.sheets.write.text_table import xlsx_text

OUTPUT_SUFFIXES = FIXED_SUFFIXES
_A1 = re.compile(r"^([A-Z]+)([0-9]+)$")


def split_cell(cell: str) -> tuple[int, int]:
    """``"C17"`` → (row 17, 0-based column 2)."""
    match = _A1.match(cell)
    if not match:
        raise ValueError(f"not an A1 cell address: {cell!r}")
    column = 0
    for ch in match[1]:
        column = column * 26 + ord(ch) - 64
    return int(match[2]), column - 1


def write_fixed(
    sheet: Sheet, changes: Mapping[str, str], out: str | Path, *, keep_encoding: bool = False
) -> Path:
    """Write ``sheet``'s file to ``out`` (.xlsx or .csv) with ``changes`` ({A1 cell: text}) applied."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise ConfigError(f"the fixed catalog must end in .xlsx, .ods or .csv, not {out.name!r}")
    source_format = detect_format(sheet.path).format
    if source_format == "xlsx" and suffix == ".xlsx":
        _atomic(out, lambda tmp: _edit_xlsx(sheet, changes, tmp))
        return out
    rows = grid_rows(sheet, source_format)
    for cell, text in changes.items():
        row, column = split_cell(cell)
        _set(rows, row - 1, column, text)
    if suffix == ".csv":
        form = _csv_form(sheet, source_format, keep_encoding)
        _atomic(out, lambda tmp: _write_csv(rows, tmp, form))
    elif suffix == ".ods":
        _atomic(out, lambda tmp: write_text_table(rows, tmp, sheet.sheet_name or "Products"))
    else:
        _atomic(out, lambda tmp: _write_text_xlsx(rows, tmp, sheet.sheet_name or "Products"))
    return out


def _edit_xlsx(sheet: Sheet, changes: Mapping[str, str], target: Path) -> None:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(sheet.path)
    except Exception as exc:  # openpyxl raises many types for files calamine could read
        raise InputError(f"cannot open the workbook to fix it: {exc}", file=str(sheet.path)) from None
    ws = wb[sheet.sheet_name] if sheet.sheet_name in wb.sheetnames else wb.active
    for cell, text in changes.items():
        target_cell = ws[cell]
        target_cell.value = xlsx_text(text)
        target_cell.data_type = "s"
        target_cell.number_format = "@"
    wb.save(target)


def grid_rows(sheet: Sheet, source_format: str) -> list[list[str]]:
    """Every row of the catalog's file as read (row 1 first), cells as text (also ``validate --annotate``)."""
    if source_format == "csv":
        parsed = read_csv_rows(sheet.path, encoding=sheet.encoding, delimiter=sheet.delimiter)
        lead: list[list[str]] = [[f"sep={parsed.delimiter}"]] if parsed.first_row > 1 else []
        return lead + [list(r) for r in parsed.rows]
    book = read_workbook(sheet.path, source_format, sheet.sheet_name)
    return book.grid.rows()


def _set(rows: list[list[str]], row: int, column: int, text: str) -> None:
    while len(rows) <= row:
        rows.append([])
    line = rows[row]
    if len(line) <= column:
        line.extend([""] * (column + 1 - len(line)))
    line[column] = text


#: The encodings :func:`detect_encoding` names by itself (any other was the user's ``--encoding``).
_DETECTED = ("UTF-8", "UTF-16", "UTF-32", "cp1252")


@dataclass(frozen=True)
class _CsvForm:
    delimiter: str = ","
    codec: str = "utf-8-sig"
    line_end: str = "\r\n"


def _csv_form(sheet: Sheet, source_format: str, keep_encoding: bool) -> _CsvForm:
    """How a CSV copy is written: UTF-8 with a BOM and CRLF, in the catalog's delimiter; with
    ``keep_encoding`` and a CSV catalog, its own codec (BOM or none) and line ends."""
    form = _CsvForm(delimiter=sheet.delimiter or ",")
    if not keep_encoding or source_format != "csv":
        return form
    requested = None if sheet.encoding in _DETECTED else sheet.encoding  # else the user's --encoding
    codec = detect_encoding(sheet.path, requested).codec
    with sheet.path.open("rb") as fh:
        head = fh.read(64 * 1024)
    crlf = b"\r\n" in head or b"\r\x00\n" in head or b"\n" not in head
    return _CsvForm(form.delimiter, codec, "\r\n" if crlf else "\n")


def _write_csv(rows: list[list[str]], target: Path, form: _CsvForm) -> None:
    with target.open("w", encoding=form.codec, newline="") as fh:
        writer = csv.writer(fh, delimiter=form.delimiter, lineterminator=form.line_end)
        writer.writerows(rows)


def _write_text_xlsx(rows: list[list[str]], target: Path, sheet_name: str) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name[:31]
    for i, line in enumerate(rows, 1):
        for j, value in enumerate(line, 1):
            if value == "":
                continue
            cell = ws.cell(row=i, column=j, value=xlsx_text(value))
            cell.data_type = "s"
            cell.number_format = "@"
    wb.save(target)


def _atomic(out: Path, write: Callable[[Path], None]) -> None:
    """Run ``write`` on a temporary file next to ``out``, then rename it to ``out``."""
    try:
        handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=out.suffix, dir=out.parent or ".")
    except OSError as exc:
        raise ConfigError(f"cannot write the fixed catalog {out}: {exc.strerror or exc}") from None
    os.close(handle)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, out)
    except OSError as exc:
        raise ConfigError(f"cannot write the fixed catalog {out}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
