"""Write a table of text as CSV or XLSX so that any reader gets the same text back.

``write_csv``: UTF-8 with a BOM by default (Excel then opens accents correctly).
``write_xlsx``: every value a *string* cell — a leading ``=`` is not a formula, ``#N/A``
is not an error, ``00123`` keeps its zeros — and ``text_columns`` also get the ``@``
(Text) number format so values typed later in Excel/LibreOffice stay text too.  Text is
escaped the OOXML way (:func:`xlsx_text`) so ``_x0041_`` and carriage returns survive.
Empty values ('' / None / NaN) become empty cells.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

# openpyxl is imported by the functions that write xlsx: reading and validating a catalog need not
# pay for it.  The characters XML cannot hold, as openpyxl's own ILLEGAL_CHARACTERS_RE has them.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _text(value: Any) -> str:
    if type(value) is str:
        return value
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_csv(df: pd.DataFrame, path: str | Path, *, bom: bool = True, delimiter: str = ",") -> None:
    """Write ``df`` (columns as header, index dropped) as CSV text."""
    path = Path(path)
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow([_text(c) for c in df.columns])
        for row in df.itertuples(index=False, name=None):
            writer.writerow([_text(v) for v in row])


_OOXML_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def xlsx_text(value: str) -> str:
    """Text as it must be stored in an xlsx string so Excel (and calamine) read back the same text.

    OOXML reads ``_xHHHH_`` as an escaped character, so a literal one is written ``_x005F_xHHHH_``;
    a carriage return (which XML parsing would turn into a line feed) is written ``_x000D_``;
    control characters XML cannot hold at all are dropped.
    """
    if value.isprintable():  # no control character (nor CR, LF, tab): only a literal _xHHHH_ to escape
        return _OOXML_ESCAPE.sub(r"_x005F_\1", value) if "_x" in value else value
    if "_x" in value:
        value = _OOXML_ESCAPE.sub(r"_x005F_\1", value)
    if "\r" in value:
        value = value.replace("\r", "_x000D_")
    return ILLEGAL_CHARACTERS_RE.sub("", value)


_NEEDS_CELL = ("=", "#")  # text openpyxl would otherwise store as a formula or an error value


def _string_cell(ws: Any, value: str, *, text_format: bool, bold: bool = False) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(ws, value=xlsx_text(value) if value else None)
    if value:
        cell.data_type = "s"  # never a formula, error or number
    if text_format:
        cell.number_format = "@"
    if bold:
        cell.font = Font(bold=True)
    return cell


def _row(ws: Any, values: tuple[Any, ...], flags: list[bool]) -> list[Any]:
    """One data row: plain strings where openpyxl keeps them as strings, cells where it must be told."""
    out: list[Any] = []
    for value, text_format in zip(values, flags, strict=True):
        text = _text(value)
        if text_format or text.startswith(_NEEDS_CELL):
            out.append(_string_cell(ws, text, text_format=text_format))
        else:
            out.append(xlsx_text(text) if text else None)
    return out


def write_xlsx(
    df: pd.DataFrame,
    path: str | Path,
    *,
    sheet_name: str = "Sheet1",
    text_columns: Iterable[str] = (),
    notes: Mapping[str, str] | None = None,
    freeze_header: bool = True,
    column_width: float | None = None,
) -> None:
    """Write ``df`` as a one-sheet xlsx of string cells (header in row 1, bold).

    Args:
        text_columns: columns whose cells (and column style) get the ``@`` Text format.
        notes: header comments, ``{column: note text}``.
        freeze_header: keep the header row visible when scrolling.
        column_width: width for every column (default: fitted to the header, 10–50).
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter

    text = set(text_columns)
    notes = dict(notes or {})
    columns = [_text(c) for c in df.columns]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_name)
    for j, name in enumerate(columns, start=1):
        dim = ws.column_dimensions[get_column_letter(j)]
        dim.width = column_width or min(max(len(name) + 4, 10), 50)
        if name in text:
            dim.number_format = "@"
    if freeze_header:
        ws.freeze_panes = "A2"
    header = []
    for name in columns:
        cell = _string_cell(ws, name, text_format=False, bold=True)
        if name in notes:
            cell.comment = Comment(notes[name], "catalog-sync")
        header.append(cell)
    ws.append(header)
    flags = [name in text for name in columns]
    for row in df.itertuples(index=False, name=None):
        ws.append(_row(ws, row, flags))
    wb.save(Path(path))
