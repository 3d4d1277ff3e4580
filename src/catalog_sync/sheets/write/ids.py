"""``apply --write-ids``: a copy of the catalog with the provider's id column filled.

``write_ids(sheet, ids, field=…, header=…, out=…)`` takes the loaded :class:`Sheet`, the ids to
write (``{original row number: id}``) and the id field; it writes the id cells only, through
:func:`~catalog_sync.sheets.write.fixed.write_fixed` (an xlsx copy of an xlsx catalog is the
workbook edited in place: other sheets, formats and cells are kept; a CSV copy of a CSV keeps its
delimiter, encoding and line ends).  A catalog without the id column gets one after its last
column, headed ``header`` on the header row.  A cell that already holds the id is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from catalog_sync.sheets.detect import detect_format
from catalog_sync.sheets.model import Sheet, column_letter
from catalog_sync.sheets.write.fixed import grid_rows, write_fixed

__all__ = ["IdsCopy", "write_ids"]


@dataclass(frozen=True)
class IdsCopy:
    """The copy written: where, the id column's header, how many id cells were filled, whether the
    column was added."""

    path: Path
    header: str
    filled: int
    added: bool


def write_ids(sheet: Sheet, ids: Mapping[int, str], *, field: str, header: str, out: Path) -> IdsCopy:
    """Write ``sheet``'s file to ``out`` with ``ids`` in the ``field`` column (added when missing)."""
    changes: dict[str, str] = {}
    if field in sheet.columns:
        letter, header = sheet.letter(field), sheet.source_headers.get(field, header)
        held = sheet.data[field]
        ids = {row: rid for row, rid in ids.items() if str(held.get(row, "")).strip() != rid}
        added = False
    else:
        letter, added = column_letter(_width(sheet)), True
        changes[f"{letter}{sheet.header_row}"] = header
    changes.update({f"{letter}{row}": rid for row, rid in sorted(ids.items())})
    write_fixed(sheet, changes, out, keep_encoding=True)
    return IdsCopy(Path(out), header, len(ids), added)


def _width(sheet: Sheet) -> int:
    """Columns the catalog's file uses up to its last filled cell (on any row): the added id column
    comes after them."""
    rows = grid_rows(sheet, detect_format(sheet.path).format)
    return max(
        (max((i + 1 for i, cell in enumerate(row) if cell != ""), default=0) for row in rows), default=0
    )
