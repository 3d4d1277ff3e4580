"""The fast CSV path: pyarrow parses the file into columns of text, no Python object per cell.

Workbooks are built here too (:func:`build_workbook_sheet`): :mod:`.workbook` turns calamine's
rows into columns of texts and kinds (a :class:`~.table.ColumnGrid`), and the sheet is made from
them as from a CSV's columns, with the kinds, merged ranges and formulas without a value added.

The dialect (encoding, delimiter, ``sep=`` line) is sniffed on a sample by :mod:`.csv_reader`;
pyarrow then reads every column as a string, quoted newlines allowed, blank lines kept (a blank
line is a record of empty cells, so record *i* of the table is row *i + 1* of the file, the
numbering :func:`~catalog_sync.sheets.csv_reader.read_csv_rows` uses).  Row numbers are
positions, not stored per cell.  Only the few cells that need a message (huge cells, the
header, the first value of a column without a header) become Python strings.

:func:`read_csv_table` returns ``None`` when the file needs the exact reader: pyarrow refuses it
(a row with more or fewer cells than the first, a value larger than a parse block) or its last
record holds a line break (perhaps a quote never closed, which the exact reader explains).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from catalog_sync.errors import InputError
from catalog_sync.problems import Problem
from catalog_sync.sheets import limits
from catalog_sync.sheets.csv_reader import CsvDialect
from catalog_sync.sheets.model import Sheet, column_letter
from catalog_sync.sheets.table import (
    HEADER_SEARCH_ROWS,
    ColumnGrid,
    ReadProblems,
    choose_columns,
    clip_cell,
    header_key,
    ignored_columns,
    locate_header,
    note_merged,
    note_valueless,
    sheet_of_columns,
)

#: What Python's ``str.strip()`` removes (``str.isspace``), so both paths trim alike.
PY_WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())

#: The dtype of every column of ``Sheet.data`` (pandas' default string dtype, Arrow-backed).
TEXT = pd.Series([""], dtype=str).dtype


def read_csv_table(path: Path, dialect: CsvDialect) -> pa.Table | None:
    """Every record of the file as a table of trimmed strings, or ``None`` (see module docs)."""
    width = dialect.width
    if width is None or width > limits.MAX_COLUMNS:
        return None
    try:
        table = pacsv.read_csv(path, *csv_options(dialect, width))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeError):
        return None
    if table.num_columns != width or any(not pa.types.is_string(t) for t in table.schema.types):
        return None
    if table.num_rows and last_record_has_newline(table):
        return None
    return trimmed(table)


def csv_options(
    dialect: CsvDialect, width: int, block_size: int | None = None
) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions]:
    """How pyarrow reads the file: ``width`` columns of text named ``f0``, ``f1``, …, quoted newlines
    allowed, blank lines kept (the streaming reader of the out-of-core engine reads alike, by blocks)."""
    read = pacsv.ReadOptions(
        autogenerate_column_names=True,
        skip_rows=1 if dialect.sep_line else 0,
        encoding="utf8" if dialect.encoding.codec.startswith("utf-8") else dialect.encoding.codec,
    )
    if block_size is not None:
        read.block_size = block_size
    return (
        read,
        pacsv.ParseOptions(delimiter=dialect.delimiter, newlines_in_values=True, ignore_empty_lines=False),
        pacsv.ConvertOptions(
            column_types={f"f{j}": pa.string() for j in range(width)},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def trimmed(table: pa.Table) -> pa.Table:
    """The table's values trimmed (:func:`_trim`), each column one large-string chunk."""
    return pa.table(
        [_one_chunk(_trim(table.column(j))) for j in range(table.num_columns)], names=table.column_names
    )


def text_column(values: pa.Array) -> pa.ChunkedArray:
    """A string array as one trimmed large-string column (as :func:`read_csv_table` makes them)."""
    return _one_chunk(_trim(pa.chunked_array([values])))


def _one_chunk(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The column as one large-string chunk (pandas' own text storage): every later Arrow pass
    over it is one kernel call, and handing it to pandas or to a check copies nothing."""
    return pa.chunked_array([column.cast(pa.large_string()).combine_chunks()], type=pa.large_string())


#: First or last bytes of a value that may be whitespace: ASCII whitespace, or any byte of a
#: multi-byte character (U+0085, U+00A0, U+3000, ... are whitespace too).
_MAY_BE_SPACE = np.zeros(256, dtype=bool)
_MAY_BE_SPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_MAY_BE_SPACE[0x80:] = True


def _trim(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The values without leading and trailing whitespace (Python's ``str.strip``); a column whose
    values all start and end with something else (checked on the bytes) is returned as it is."""
    if not any(_may_need_trim(chunk) for chunk in column.chunks):
        return column
    return pc.utf8_trim(column, PY_WHITESPACE)


def _may_need_trim(chunk: pa.Array) -> bool:
    offsets_buffer, data_buffer = chunk.buffers()[1], chunk.buffers()[2]
    if data_buffer is None or len(chunk) == 0:
        return False
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    filled = offsets[1:] > offsets[:-1]
    starts, ends = offsets[:-1][filled], offsets[1:][filled] - 1
    return bool(_MAY_BE_SPACE[data[starts]].any() or _MAY_BE_SPACE[data[ends]].any())


def last_record_has_newline(table: pa.Table) -> bool:
    last = table.slice(table.num_rows - 1)
    return any(pc.any(pc.match_substring_regex(col, r"[\r\n]")).as_py() for col in last.columns)


def cell_lengths(table: pa.Table) -> list[np.ndarray]:
    """Byte length of every cell, per column (0 = empty)."""
    return [pc.binary_length(col).to_numpy(zero_copy_only=False) for col in table.columns]


def check_filled_budget(
    lengths: list[np.ndarray], sep_line: bool, path: Path, *, start: int = 0, before: int = 0
) -> int:
    """``limits.MAX_FILLED_CELLS`` when a deployment sets one (off by default).  ``start``: the record
    index of the first row (a chunk of the file); ``before``: the cells with values above it.  Returns
    the cells with values up to the last row."""
    limit = limits.MAX_FILLED_CELLS
    if limit is None or not lengths:
        return before
    per_row = np.sum([lens > 0 for lens in lengths], axis=0)
    running = np.cumsum(per_row) + before
    if not len(running) or running[-1] <= limit:
        return int(running[-1]) if len(running) else before
    line = int(np.argmax(running > limit)) + 1 + start + int(sep_line)
    raise InputError(
        f"refused: more than {limit:,} cells with values (at line {line}); split the catalog", file=str(path)
    )


def build_columnar_sheet(
    table: pa.Table,
    *,
    path: Path,
    problems: list[Problem],
    mapping: Mapping[str, str],
    known_fields: Sequence[str] | None,
    encoding: str,
    delimiter: str,
    sep_line: bool = False,
) -> Sheet | None:
    """The :class:`Sheet` of a parsed CSV table (as ``build_sheet`` makes from rows), or ``None``
    when no cell holds a value."""
    lengths = cell_lengths(table)
    check_filled_budget(lengths, sep_line, path)
    return _sheet_of_table(
        table,
        lengths,
        None,
        path=path,
        problems=problems,
        mapping=mapping,
        known_fields=known_fields,
        sheet_name=None,
        encoding=encoding,
        delimiter=delimiter,
    )


def build_workbook_sheet(
    grid: ColumnGrid,
    *,
    path: Path,
    sheet_name: str | None,
    mapping: Mapping[str, str],
    known_fields: Sequence[str] | None,
) -> Sheet | None:
    """The :class:`Sheet` of a worksheet read column by column (what ``build_sheet`` makes of the
    same cells as rows: kinds, formulas without a value and merged ranges included)."""
    return _sheet_of_table(
        grid.texts,
        cell_lengths(grid.texts),
        grid,
        path=path,
        problems=grid.problems,
        mapping=mapping,
        known_fields=known_fields,
        sheet_name=sheet_name,
        encoding=None,
        delimiter=None,
    )


def _sheet_of_table(
    table: pa.Table,
    lengths: list[np.ndarray],
    grid: ColumnGrid | None,
    *,
    path: Path,
    problems: list[Problem],
    mapping: Mapping[str, str],
    known_fields: Sequence[str] | None,
    sheet_name: str | None,
    encoding: str | None,
    delimiter: str | None,
) -> Sheet | None:
    """The sheet of ``table`` (record *i* is row *i + 1*); ``grid`` gives a workbook's kinds and notes."""
    filled = np.zeros(table.num_rows, dtype=bool)
    for lens in lengths:
        filled |= lens > 0
    if not filled.any():
        return None
    first = int(np.argmax(filled))
    ctx = ReadProblems(sheet_name if sheet_name is not None else path.name, list(problems))
    known = {header_key(f): f for f in known_fields} if known_fields is not None else None
    head = table_rows(table.slice(first, HEADER_SEARCH_ROWS + 1))
    top, header_row, header = locate_header(ctx, head, first + 1, mapping, known)  # type: ignore[misc]
    top += first
    body = np.flatnonzero(filled[top + 1 :]) + top + 1
    numbers = body + 1
    index = pd.Index(numbers, dtype="int64")
    body_lengths = [lens[body] for lens in lengths]
    used = [bool((lens > 0).any()) for lens in body_lengths]
    every_row = len(body) == table.num_rows - top - 1
    rows = table.slice(top + 1) if every_row else table.take(pa.array(body))
    too_long = long_cells(rows, body_lengths, numbers)
    for row, j, value in too_long:
        clip_cell(ctx, value, f"{column_letter(j)}{row}", row, header[j] or None)

    def first_filled(j: int) -> int:
        return int(numbers[np.argmax(body_lengths[j] > 0)])

    keep, names = choose_columns(ctx, header, header_row, used, first_filled, mapping, known)
    data = text_frame(rows, keep, names, index, too_long)
    carried = ignored_columns(header, used, keep)
    ignored = None
    if carried:
        ignored = text_frame(rows, [j for j, _ in carried], [name for _, name in carried], index, too_long)
    kinds = ignored_kinds = None
    if grid is not None:
        kept = dict(zip(keep, names, strict=True))
        note_valueless(ctx, grid.valueless, 1, top, kept)
        note_merged(ctx, grid.merged, grid.text_at, 1, numbers.tolist(), kept)
        kind_rows = grid.kinds.slice(top + 1) if every_row else grid.kinds.take(pa.array(body))
        kinds = text_frame(kind_rows, keep, names, index, [])
        if carried:
            ignored_kinds = text_frame(
                kind_rows, [j for j, _ in carried], [name for _, name in carried], index, []
            )
    return sheet_of_columns(
        ctx,
        header,
        used,
        keep,
        names,
        data,
        header_row=header_row,
        path=path,
        sheet_name=sheet_name,
        encoding=encoding,
        delimiter=delimiter,
        ignored=ignored,
        kinds=kinds,
        ignored_kinds=ignored_kinds,
    )


def table_rows(table: pa.Table) -> list[list[str]]:
    columns = [col.to_pylist() for col in table.columns]
    return [list(row) for row in zip(*columns, strict=True)]


def long_cells(rows: pa.Table, lengths: list[np.ndarray], numbers: np.ndarray) -> list[tuple[int, int, str]]:
    """(row number, column index, value) of the cells longer than a spreadsheet allows, in row order."""
    limit = limits.MAX_CELL_CHARS
    found: list[tuple[int, int, str]] = []
    for j, lens in enumerate(lengths):
        for position in np.flatnonzero(lens > limit).tolist():  # bytes >= characters: a cheap pre-filter
            value = rows.column(j)[position].as_py()
            if len(value) > limit:
                found.append((int(numbers[position]), j, value))
    return sorted(found, key=lambda cell: (cell[0], cell[1]))


def text_frame(
    rows: pa.Table,
    columns: list[int],
    names: list[str],
    index: pd.Index,
    too_long: list[tuple[int, int, str]],
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            name: pd.Series(rows.column(j), dtype=TEXT, index=index)
            for j, name in zip(columns, names, strict=True)
        },
        index=index,
    )
    wanted = dict(zip(columns, names, strict=True))
    for row, j, value in too_long:
        if j in wanted:
            frame.at[row, wanted[j]] = value[: limits.MAX_CELL_CHARS]
    return frame
