"""A catalog past memory in the apply report: the columns the report carries that the plan does not
read (the columns the loader ignored: unknown, mapped to nothing, an empty header over values), read
again chunk by chunk as the report's rows go by, so the report is the one the in-memory path writes
and no more than one chunk of the catalog is held (:class:`IgnoredCells`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from catalog_sync.sheets.model import Sheet

__all__ = ["IgnoredCells"]


class IgnoredCells:
    """Row number → {ignored column: cell} of a catalog read again by ``chunks`` (a fresh read each
    call, each chunk's ``ignored`` filled).  Rows asked for in rising order read the file once; a row
    before the chunk held reads from the start again; a row the catalog lacks (a mirror delete's) has
    none."""

    def __init__(self, chunks: Callable[[], Iterator[Sheet]]) -> None:
        self._chunks = chunks
        self._reading: Iterator[Sheet] | None = None
        self._held: dict[int, dict[str, str]] = {}
        self._first = self._last = -1

    def __call__(self, row: int | None) -> dict[str, str]:
        if row is None:
            return {}
        if not self._first <= row <= self._last:
            self._seek(row)
        return self._held.get(row, {})

    def _seek(self, row: int) -> None:
        if self._reading is None or row < self._first:
            self._reading = self._chunks()
        for chunk in self._reading:
            if not len(chunk.data):
                continue
            self._first, self._last = int(chunk.data.index[0]), int(chunk.data.index[-1])
            if row <= self._last:
                self._held = chunk.ignored_by_row()
                return
        self._reading, self._held, self._first, self._last = None, {}, -1, -1
