"""A plan's unchanged rows past memory: the text columns of :class:`~catalog_sync.planning.changes.UnchangedRows`
(keys, remote ids, fingerprints) written to an Arrow file as the batches are planned and read back a
batch at a time (never the whole file: 10M rows are ~1.6 GB of it); only the row numbers and the rows'
places in the catalog stay in memory, as they are planned (16 bytes a row).  A row's cells are read again from the catalog when asked for (:class:`CatalogCells`: in
order, one chunk held at a time: ``plan --json`` lists every row with its cells)."""

from __future__ import annotations

import shutil
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import pyarrow as pa

from catalog_sync.engine.spill import work_directory
from catalog_sync.planning.changes import SheetCells, UnchangedRows
from catalog_sync.sheets.model import Sheet

__all__ = ["CatalogCells", "UnchangedFile"]

_SCHEMA = pa.schema(
    [
        ("key", pa.large_string()),
        ("remote_id", pa.large_string()),
        ("fingerprint", pa.large_string()),
    ]
)


class UnchangedFile:
    """The unchanged rows of a plan's batches, in row order, written to a file of their own."""

    def __init__(self) -> None:
        self.dir = work_directory("catalog-sync-unchanged-")
        self.path = self.dir / "unchanged.arrow"
        self._writer: pa.ipc.RecordBatchFileWriter | None = pa.ipc.new_file(str(self.path), _SCHEMA)
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.dir, True)
        self._rows: list[np.ndarray] = []
        self._positions: list[np.ndarray] = []

    def add(self, rows: UnchangedRows | None, start: int) -> None:
        """One batch's unchanged rows; ``start``: the place of the batch's first row in the catalog."""
        if rows is None or not len(rows) or self._writer is None:
            return
        assert rows.positions is not None
        self._rows.append(np.asarray(rows.rows, dtype=np.int64))
        self._positions.append(np.asarray(rows.positions + start, dtype=np.int64))
        self._writer.write_batch(pa.record_batch(list(rows.texts()), schema=_SCHEMA))

    def rows(self, cells: SheetCells | None) -> UnchangedRows | None:
        """Every unchanged row written (None when there is none); the file goes with the rows."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if not self._rows:
            return None
        sizes = [len(rows) for rows in self._rows]
        rows, positions = np.concatenate(self._rows), np.concatenate(self._positions)
        self._rows, self._positions = [], []
        batches = _Batches(self.path, self._finalizer, sizes)
        return DiskUnchangedRows(batches, rows, positions if cells is not None else None, cells)


class _Batches:
    """The file's batches, read on demand (the last one read is kept)."""

    def __init__(self, path: Path, finalizer: weakref.finalize, sizes: list[int]) -> None:  # type: ignore[type-arg]
        self.path, self._finalizer = path, finalizer  # the file lives as long as this does
        self._reader = pa.ipc.open_file(str(path))
        self.starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self._cached: tuple[int, dict[str, list[Any]]] | None = None

    def __len__(self) -> int:
        return int(self.starts[-1])

    def batch(self, i: int) -> dict[str, list[Any]]:
        if self._cached is None or self._cached[0] != i:
            batch = self._reader.get_batch(i)
            self._cached = (
                i,
                {name: batch.column(name).to_pylist() for name in ("key", "remote_id", "fingerprint")},
            )
        return self._cached[1]

    def value(self, name: str, k: int) -> Any:
        i = int(np.searchsorted(self.starts, k, side="right")) - 1
        return self.batch(i)[name][k - int(self.starts[i])]

    def texts(self, name: str) -> pa.Array:
        """A whole text column, as Arrow (each batch's copied out of it: a batch read holds every
        column of its rows)."""
        parts = [
            pa.concat_arrays([self._reader.get_batch(i).column(name)]) for i in range(len(self.starts) - 1)
        ]
        return pa.concat_arrays(parts) if parts else pa.array([], type=pa.large_string())


#: UnchangedRows' text columns → the file's column names.
_NAMES = {"keys": "key", "remote_ids": "remote_id", "fingerprints": "fingerprint"}


class DiskUnchangedRows(UnchangedRows):
    """:class:`UnchangedRows` whose text columns are read from the file (see the module's docs)."""

    __slots__ = ("_batches",)

    def __init__(
        self, batches: _Batches, rows: np.ndarray, positions: np.ndarray | None, cells: SheetCells | None
    ) -> None:
        self._batches = batches
        self.rows, self.positions, self.cells = rows, positions, cells

    def text(self, name: str, k: int) -> str | None:
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(k)
        return cast("str | None", self._batches.value(_NAMES[name], k))

    def column(self, name: str, start: int, stop: int) -> list[Any]:
        return [self.text(name, k) for k in range(start, min(stop, len(self)))]

    def texts(self) -> tuple[pa.Array, pa.Array, pa.Array]:
        keys, ids, prints = (self._batches.texts(_NAMES[name]) for name in _NAMES)
        return keys, ids, prints


class CatalogCells(SheetCells):
    """A catalog's cells by their place in it, read again chunk by chunk (``chunks`` makes a fresh
    read): a row after the chunk held reads on; a row before it reads from the start again."""

    def __init__(self, anchor: Sheet, chunks: Callable[[], Iterator[Sheet]]) -> None:
        super().__init__(anchor.data)
        self._chunks = chunks
        self._reading: Iterator[Sheet] | None = None
        self._held: SheetCells | None = None
        self._start = self._stop = 0

    def value(self, name: str, position: int) -> str:
        if self._held is None or not self._start <= position < self._stop:
            self._seek(position)
        assert self._held is not None
        return self._held.value(name, position - self._start)

    def _seek(self, position: int) -> None:
        if self._reading is None or position < self._start:
            self._reading, self._stop = self._chunks(), 0
        for chunk in self._reading:
            self._start, self._stop = self._stop, self._stop + len(chunk.data)
            if position < self._stop:
                self._held = SheetCells(chunk.data)
                return
        raise IndexError(position)
