"""A CSV read chunk by chunk: the same dialect, header and columns as the in-memory reader
(:mod:`catalog_sync.sheets.columnar`), in :class:`Sheet` chunks whose index holds the rows' true
numbers, so every cell address a check gives is the one of the whole file.

pyarrow's streaming reader parses one block (:data:`settings.BLOCK_BYTES`, or the size asked for) at a time with the options
:func:`~catalog_sync.sheets.columnar.csv_options` gives the in-memory reader; the values are trimmed
alike, long cells clipped alike, the formula guard undone alike.  The header is found in the first
rows (:func:`~catalog_sync.sheets.table.locate_header`); what the in-memory reader tells from whole
columns (which columns hold a value, and the first of each: ``empty-header``) is gathered as the
chunks go by and told at the end (:meth:`ChunkedCsv.structure_problems`).

A file the in-memory reader leaves to its exact, row-by-row reader (a row with more or fewer cells
than the first, a line break in the last record) is refused here: that reader holds every row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from catalog_sync.engine import settings
from catalog_sync.errors import InputError
from catalog_sync.problems import Problem
from catalog_sync.sheets import limits
from catalog_sync.sheets.columnar import (
    cell_lengths,
    check_filled_budget,
    csv_options,
    last_record_has_newline,
    long_cells,
    table_rows,
    text_frame,
    trimmed,
)
from catalog_sync.sheets.csv_reader import CsvDialect
from catalog_sync.sheets.loader import hint_delimiter, unguarded
from catalog_sync.sheets.model import Sheet, column_letter
from catalog_sync.sheets.table import (
    HEADER_SEARCH_ROWS,
    ReadProblems,
    choose_columns,
    clip_cell,
    header_key,
    ignored_columns,
    locate_header,
    sheet_of_columns,
)

_IRREGULAR = (
    "the out-of-core engine reads only CSVs whose rows all have as many cells as the first and whose "
    "last row holds no line break"
)


class ChunkedCsv:
    """The chunks of one CSV (see the module's docs); iterate :meth:`chunks` once."""

    def __init__(
        self,
        path: Path,
        dialect: CsvDialect,
        mapping: Mapping[str, str],
        known_fields: Sequence[str] | None,
        block_bytes: int | None = None,
        carried: Sequence[tuple[int, str]] = (),
    ) -> None:
        if dialect.width is None or dialect.width > limits.MAX_COLUMNS:
            raise InputError(f"refused: {_IRREGULAR} (the first record could not be told)", file=str(path))
        self.path, self.dialect, self.mapping = path, dialect, mapping
        self.block_bytes = block_bytes
        #: (file column, name) of the columns read but not kept that each chunk carries in ``ignored``
        #: (for the report: see :func:`carried_columns`)
        self.carried = list(carried)
        self.known = {header_key(f): f for f in known_fields} if known_fields is not None else None
        self.width = dialect.width
        self._head: list[Problem] = []
        self.header: list[str] = []
        self.header_row = 0
        self._top = 0
        self.keep: list[int] = []
        self.names: list[str] = []
        self.used = [False] * self.width
        self.first_filled = [0] * self.width
        self.body_rows = 0
        self._filled_cells = 0

    def chunks(self) -> Iterator[Sheet]:
        """The data rows, one chunk per block parsed, in row order (at least one chunk, maybe empty)."""
        blocks = self._blocks()
        pending: list[pa.Table] = []
        first: int | None = None
        seen = 0
        for table in blocks:
            if first is None:
                filled = _filled(cell_lengths(table))
                if filled.any():
                    first = seen + int(np.argmax(filled))
            pending.append(table)
            seen += table.num_rows
            if first is not None and seen - first > HEADER_SEARCH_ROWS:
                break
        if first is None:
            raise InputError("the file is empty", file=str(self.path))
        head = pa.concat_tables(pending)
        self._locate_header(head, first)
        yield self._chunk(head, 0)
        start = head.num_rows
        for table in blocks:
            yield self._chunk(table, start)
            start += table.num_rows

    def _blocks(self) -> Iterator[pa.Table]:
        """The file's records as trimmed tables of text, block by block."""
        try:
            reader = pacsv.open_csv(
                self.path, *csv_options(self.dialect, self.width, self.block_bytes or settings.BLOCK_BYTES)
            )
            last: pa.Table | None = None
            for batch in reader:
                table = pa.Table.from_batches([batch])
                if table.num_columns != self.width:
                    raise InputError(f"refused: {_IRREGULAR}", file=str(self.path))
                if table.num_rows:
                    last = table
                    yield trimmed(table)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeError) as exc:
            raise InputError(f"refused: {_IRREGULAR} ({exc})", file=str(self.path)) from None
        if last is not None and last_record_has_newline(last):
            raise InputError(f"refused: {_IRREGULAR}", file=str(self.path))

    def _locate_header(self, head: pa.Table, first: int) -> None:
        ctx = ReadProblems(self.path.name, self._head)
        rows = table_rows(head.slice(first, HEADER_SEARCH_ROWS + 1))
        top, self.header_row, self.header = locate_header(ctx, rows, first + 1, self.mapping, self.known)  # type: ignore[misc]
        self._top = top + first
        # the columns kept depend on the header only; their problems are told at the end
        self.keep, self.names = choose_columns(
            ReadProblems(self.path.name, []),
            self.header,
            self.header_row,
            [True] * len(self.header),
            lambda j: 0,
            self.mapping,
            self.known,
        )

    def _chunk(self, table: pa.Table, start: int) -> Sheet:
        """The data rows of ``table`` (records ``start``, ``start + 1``, … of the file) as a Sheet."""
        lengths = cell_lengths(table)
        self._filled_cells = check_filled_budget(
            lengths, self.dialect.sep_line, self.path, start=start, before=self._filled_cells
        )
        positions = np.flatnonzero(_filled(lengths))
        positions = positions[positions + start > self._top]
        numbers = positions + start + 1
        body_lengths = [lens[positions] for lens in lengths]
        self._note_used(body_lengths, numbers)
        self.body_rows += len(positions)
        rows = table.take(pa.array(positions, type=pa.int64()))
        ctx = ReadProblems(self.path.name, [])
        too_long = long_cells(rows, body_lengths, numbers)
        for row, j, value in too_long:
            clip_cell(ctx, value, f"{column_letter(j)}{row}", row, self.header[j] or None)
        index = pd.Index(numbers, dtype="int64")
        data = text_frame(rows, self.keep, self.names, index, too_long)
        ignored = None
        if self.carried:
            carried = [j for j, _ in self.carried]
            ignored = text_frame(rows, carried, [name for _, name in self.carried], index, too_long)
        sheet = Sheet(
            path=self.path,
            sheet_name=None,
            headers=list(self.header),
            columns=list(self.names),
            letters=[column_letter(j) for j in self.keep],
            data=data,
            problems=ctx.problems,
            encoding=self.dialect.encoding.label,
            delimiter=self.dialect.delimiter,
            header_row=self.header_row,
            source_headers={self.names[n]: self.header[j] for n, j in enumerate(self.keep)},
            ignored=ignored,
        )
        return unguarded(sheet)

    def _note_used(self, body_lengths: list[np.ndarray], numbers: np.ndarray) -> None:
        for j, lens in enumerate(body_lengths):
            if not self.used[j]:
                filled = lens > 0
                if filled.any():
                    self.used[j] = True
                    self.first_filled[j] = int(numbers[np.argmax(filled)])

    def carried_columns(self) -> list[tuple[int, str]]:
        """(file column, name) of the columns read but not kept that hold a header or a value somewhere,
        as the in-memory reader carries them to the report (after every chunk was read)."""
        return ignored_columns(self.header, self.used, self.keep)

    def structure_problems(self, problems: Sequence[Problem]) -> list[Problem]:
        """The problems of the file's structure (after every chunk was read), as the in-memory reader
        gives them: ``problems`` (the format's and the dialect's), the header's, the columns'."""
        ctx = ReadProblems(self.path.name, [*problems, *self._head])
        keep, names = choose_columns(
            ctx,
            self.header,
            self.header_row,
            self.used,
            lambda j: self.first_filled[j],
            self.mapping,
            self.known,
        )
        rows = pd.DataFrame(index=pd.RangeIndex(self.body_rows))  # only its length is read
        sheet = sheet_of_columns(
            ctx,
            self.header,
            self.used,
            keep,
            names,
            rows,
            header_row=self.header_row,
            path=self.path,
            sheet_name=None,
            encoding=self.dialect.encoding.label,
            delimiter=self.dialect.delimiter,
            ignored=None,
        )
        hint_delimiter(sheet)
        return sheet.problems


def _filled(lengths: list[np.ndarray]) -> np.ndarray:
    filled = np.zeros(len(lengths[0]) if lengths else 0, dtype=bool)
    for lens in lengths:
        filled |= lens > 0
    return filled
