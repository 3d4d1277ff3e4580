"""Merged cells: where a workbook's merged ranges are, and what is wrong with one over the data.

A merged range keeps its value in its first (top-left) cell only; the other cells of the range hold
nothing, though the user sees the first cell's value across all of them.  A reader takes them as
blank, so ``--blanks clear`` would clear what the user sees as filled, and a new row would be created
without it (C2:C4 merged showing ``Shirts``: rows 3–4 hold no label).

Guessing what such a cell means is wrong for a write tool (is the value meant for every row, or only
the first?), so catalog-sync does not read it as the top-left value: ``validate`` warns
``merged-cells`` naming the range, and ``plan``, ``apply`` and ``videos`` refuse the sheet until it is
unmerged and filled (``validation.gate``).  Ranges come from calamine for xlsx and xls
(``merged_cell_ranges``) and from ``content.xml`` for ods (``table:number-rows-spanned`` /
``number-columns-spanned``), as (first row, first column, last row, last column), 0-based from A1.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from catalog_sync.sheets.model import column_letter

__all__ = ["UNMERGE", "Merge", "covered_text", "ods_merged_ranges", "range_name"]

Merge = tuple[int, int, int, int]

#: How to fix a merged range over data rows (shown in the problem).
UNMERGE = (
    "unmerge it (Excel: Home › Merge & Center › Unmerge Cells; LibreOffice: Format › Merge and Unmerge "
    "Cells › Unmerge Cells), then fill the value into every row that means it (Excel: Ctrl+D fills down)"
)

_T = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_SPAN = (b"number-rows-spanned", b"number-columns-spanned")
_CHUNK = 1 << 16


def range_name(merge: Merge) -> str:
    """``C2:C4`` (1-based A1 notation)."""
    r1, c1, r2, c2 = merge
    return f"{column_letter(c1)}{r1 + 1}:{column_letter(c2)}{r2 + 1}"


def covered_text(merge: Merge, first_data: int) -> tuple[str, bool]:
    """The cells of ``merge`` that show its value but hold nothing, from grid row ``first_data`` down,
    and whether they are several: ``rows 3–4`` (one column), ``D2:E2`` (one row), else every cell but
    the first."""
    r1, c1, r2, c2 = merge
    if c1 == c2:
        top = max(first_data, r1 + 1)
        return (f"row {top + 1}", False) if top == r2 else (f"rows {top + 1}–{r2 + 1}", True)
    if r1 == r2:
        cells = f"{column_letter(c1 + 1)}{r1 + 1}"
        return (cells, False) if c1 + 1 == c2 else (f"{cells}:{column_letter(c2)}{r1 + 1}", True)
    return f"every cell of it but {column_letter(c1)}{r1 + 1}", True


def _mentions_spans(zf: zipfile.ZipFile) -> bool:
    """Whether content.xml holds a spanned cell at all (a byte scan: most sheets have none)."""
    tail = b""
    with zf.open("content.xml") as fh:
        while chunk := fh.read(_CHUNK):
            window = tail + chunk
            if any(needle in window for needle in _SPAN):
                return True
            tail = window[-32:]
    return False


def ods_merged_ranges(path: Path, sheet: str) -> list[Merge]:
    """The merged ranges of the table ``sheet`` of an ods (``[]`` when unreadable: calamine read it already)."""
    try:
        with zipfile.ZipFile(path) as zf:
            if not _mentions_spans(zf):
                return []
            with zf.open("content.xml") as fh:
                return list(_table_spans(fh, sheet))
    except (KeyError, ET.ParseError, zipfile.BadZipFile, zlib.error, OSError, ValueError):
        return []


def _table_spans(fh: IO[bytes], sheet: str) -> Iterator[Merge]:
    """Each spanned cell of the table named ``sheet``, streamed (rows and cells cleared as they end)."""
    events = cast("Iterator[tuple[str, ET.Element]]", ET.iterparse(fh, events=("start", "end")))
    inside, row, col = False, 0, 0
    for event, elem in events:
        tag = elem.tag
        if event == "start":
            if tag == f"{_T}table":
                inside, row = elem.get(f"{_T}name") == sheet, 0
            elif tag == f"{_T}table-row":
                col = 0
            continue
        if tag in (f"{_T}table-cell", f"{_T}covered-table-cell"):
            rows = int(elem.get(f"{_T}number-rows-spanned") or 1)
            cols = int(elem.get(f"{_T}number-columns-spanned") or 1)
            if inside and (rows > 1 or cols > 1):
                yield (row, col, row + rows - 1, col + cols - 1)
            col += int(elem.get(f"{_T}number-columns-repeated") or 1)
            elem.clear()
        elif tag == f"{_T}table-row":
            row += int(elem.get(f"{_T}number-rows-repeated") or 1)
            elem.clear()
        elif tag == f"{_T}table" and inside:
            return
