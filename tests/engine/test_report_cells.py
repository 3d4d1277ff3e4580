"""The ignored columns of a catalog past memory, read again chunk by chunk for the apply report."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pandas as pd

from catalog_sync.engine.report_cells import IgnoredCells
from catalog_sync.sheets.model import Sheet
from tests.support.sync import make_sheet


def _chunks(reads: list[int]) -> Iterator[Sheet]:
    """Rows 2-4 and 6-7 (row 5 was blank) in two chunks, each with its ``Notes``; a read counted."""
    reads.append(1)
    for rows in ((2, 3, 4), (6, 7)):
        sheet = make_sheet([{"title": f"t{r}"} for r in rows])
        index = pd.Index(rows, dtype="int64")
        sheet.data.index = index
        yield replace(sheet, ignored=pd.DataFrame({"Notes": [f"n{r}" for r in rows]}, index=index))


def test_rows_in_order_read_the_catalog_once_and_a_row_before_reads_it_again() -> None:
    reads: list[int] = []
    cells = IgnoredCells(lambda: _chunks(reads))
    assert [cells(r) for r in (2, 3, 6, 7)] == [{"Notes": f"n{r}"} for r in (2, 3, 6, 7)]
    assert len(reads) == 1
    assert cells(4) == {"Notes": "n4"} and len(reads) == 2


def test_a_row_the_catalog_lacks_has_no_cells() -> None:
    cells = IgnoredCells(lambda: _chunks([]))
    assert cells(None) == {}  # a mirror delete
    assert cells(5) == {}  # a blank row the reader skipped
    assert cells(99) == {} and cells(2) == {"Notes": "n2"}
