"""The loaded table: every cell as text, with its original row number and A1 address.

Everything downstream (validation, plan, reports) works on a :class:`Sheet`.  Readers in
this package produce one; nothing else constructs cell addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from catalog_sync.problems import Problem


def column_letter(index: int) -> str:
    """0-based column index → spreadsheet letters (0 → A, 25 → Z, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass
class Sheet:
    """A catalog sheet read as text.

    Attributes:
        path: the file read.
        sheet_name: the worksheet read (``None`` for CSV).
        headers: header texts as they appear in the file, in file order.
        columns: the field name of each kept column after ``--mapping`` (unique).
        letters: the A1 column letter of each kept column (same order as ``columns``).
        data: one row per data row; columns = ``columns``; every value a ``str`` ('' when
            empty); the index holds the original 1-based row number in the file (the header
            is row 1 for a header in the first row).
        kinds: same shape as ``data`` for workbooks: what the cell was in the file —
            ``s`` text, ``n`` number, ``d`` date/datetime, ``b`` boolean, ``e`` error,
            ``""`` empty.  ``None`` for CSV (everything is text there).
        problems: structural problems found while reading (duplicate or empty headers,
            ragged rows, unknown columns, guessed encoding); validation adds them to its report.
        encoding / delimiter: what was detected for CSV.
        header_row: the row number of the header (the first row with any value).
        source_headers: for each kept column (field name), the header text as it is in the file
            (differs from the field name under ``--mapping`` or a case-insensitive match).
        ignored: the values of columns that were read but not kept (unknown columns, empty or
            duplicate headers), same index as ``data``, columns = their header text (A1 letter
            for an empty header); reports carry them so a report still holds the user's columns.
        ignored_kinds: the kinds (as ``kinds``) of the ``ignored`` columns' cells, same shape as
            ``ignored``; ``None`` for CSV or when the reader did not keep them (the cells are then
            taken for text).
        date1904: the workbook counts dates in the Mac 1904 system (number cells holding date
            serials convert with this epoch); False for CSV and 1900-system workbooks.
    """

    path: Path
    sheet_name: str | None
    headers: list[str]
    columns: list[str]
    letters: list[str]
    data: pd.DataFrame
    kinds: pd.DataFrame | None = None
    problems: list[Problem] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int = 1
    source_headers: dict[str, str] = field(default_factory=dict)
    ignored: pd.DataFrame | None = None
    ignored_kinds: pd.DataFrame | None = None
    date1904: bool = False

    @property
    def display_name(self) -> str:
        """What reports call this sheet: the worksheet name, or the file name for CSV."""
        return self.sheet_name if self.sheet_name is not None else self.path.name

    def letter(self, column: str) -> str:
        """A1 column letter of a kept column."""
        return self.letters[self.columns.index(column)]

    def cell(self, row: int, column: str) -> str:
        """A1 address of the value of ``column`` on original row ``row`` (e.g. ``C17``)."""
        return f"{self.letter(column)}{row}"

    @property
    def rows(self) -> pd.Index:
        """Original row numbers, in order."""
        return self.data.index

    def ignored_by_row(self) -> dict[int, dict[str, str]]:
        """Original row number → {ignored column: its cell} (what a report carries; {} without any)."""
        ignored = self.ignored
        if ignored is None or not len(ignored.columns):
            return {}
        names = [str(c) for c in ignored.columns]
        return {
            int(row): dict(zip(names, map(str, cells), strict=True))
            for row, cells in zip(
                ignored.index.tolist(), ignored.to_numpy(dtype=object).tolist(), strict=True
            )
        }
