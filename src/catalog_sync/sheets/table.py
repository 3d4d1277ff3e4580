"""Turn a grid of cell texts into a :class:`Sheet`: header, columns, row numbers, problems.

Shared by the CSV and workbook readers so both behave the same way:

* the header is the first row with any value, or (when it names no known field) the first of the
  next rows that does; rows above it are ignored (``header-row`` warning when they hold text);
* fully empty rows are skipped but every kept row keeps its true row number;
* header texts are trimmed, mapped (``--mapping``), and matched to known field names
  ignoring case and spacing; each kept column's own header text is kept (``source_headers``), and
  columns read but not kept keep their values (``ignored``) so reports can give them back;
* structural trouble becomes :class:`Problem` records, never an exception: ``empty-header``,
  ``duplicate-column``, ``unknown-column``, ``ragged-row``, ``cell-too-large``, ``empty-catalog``, ``header-row``,
  ``merged-cells`` (a merged range over the data: a warning that plan and apply refuse).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from catalog_sync.problems import Problem, Severity
from catalog_sync.sheets import limits
from catalog_sync.sheets.merged import UNMERGE, covered_text, range_name
from catalog_sync.sheets.model import Sheet, column_letter

if TYPE_CHECKING:
    import pyarrow as pa


def header_key(text: str) -> str:
    """How headers are compared: case- and whitespace-insensitive."""
    return " ".join(text.split()).casefold()


def _squash(text: str) -> str:
    """A header with only its letters and digits, case-folded ('Release Date' ~ 'releaseDate')."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _edits(a: str, b: str, limit: int) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) from ``a`` to ``b``; ``limit + 1`` once past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] | None = None
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (ca != cb))
            if before is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return row[-1]


#: A header this many edits from exactly one field name is taken for a typo of it.
NEAR_EDITS = 2


def near_field(text: str, fields: list[str]) -> str | None:
    """The field a header most likely means: the same letters and digits ignoring case and
    spacing, else the one field within :data:`NEAR_EDITS` edits (``relaseDate``, ``tilte``)."""
    squashed = _squash(text)
    same = [f for f in fields if _squash(f) == squashed]
    if same:
        return same[0]
    if len(squashed) < 4:
        return None
    scored = [(_edits(squashed, _squash(f), NEAR_EDITS), f) for f in fields]
    best = min((d for d, _f in scored), default=NEAR_EDITS + 1)
    hits = [f for d, f in scored if d == best]
    return hits[0] if best <= NEAR_EDITS and len(hits) == 1 else None


def _preview(value: str, size: int = 60) -> str:
    return value if len(value) <= size else value[:size] + "…"


@dataclass
class Grid:
    """Cell texts as read; ``cells[i]`` is row ``first_row + i``; ``kinds`` parallel (workbooks)."""

    cells: list[list[str]]
    kinds: list[list[str]] | None = None
    first_row: int = 1
    ragged_is_error: bool = False  # CSV: cells beyond the header are a ragged row
    trimmed: bool = False  # workbooks: cells are already trimmed
    problems: list[Problem] = field(default_factory=list)
    valueless: list[tuple[int, int, str]] = field(default_factory=list)  # formulas without a saved result
    #: merged ranges (first row, first column, last row, last column; 0-based from A1): workbooks
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)


@dataclass
class ColumnGrid:
    """A worksheet read column by column (:mod:`.workbook`): each cell's trimmed text and its kind
    (as :class:`Grid`'s), one large-string column each; record *i* of both tables is row *i + 1*."""

    texts: pa.Table
    kinds: pa.Table
    problems: list[Problem] = field(default_factory=list)
    valueless: list[tuple[int, int, str]] = field(default_factory=list)  # formulas without a saved result
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # as Grid's

    def rows(self) -> list[list[str]]:
        """Every row's texts, row 1 first (as a :class:`Grid` holds them)."""
        columns = [column.to_pylist() for column in self.texts.columns]
        return [list(row) for row in zip(*columns, strict=True)]

    def text_at(self, row: int, column: int) -> str:
        """The text of one cell (0-based from A1), ``""`` outside the table."""
        if row >= self.texts.num_rows or column >= self.texts.num_columns:
            return ""
        return str(self.texts.column(column)[row].as_py())


@dataclass
class ReadProblems:
    """The problems found while reading one sheet (a whole one, or a chunk of a CSV past memory)."""

    sheet: str
    problems: list[Problem]

    def add(
        self,
        code: str,
        message: str,
        *,
        severity: Severity = "error",
        cell: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.problems.append(
            Problem(
                code=code,
                message=message,
                severity=severity,
                sheet=self.sheet,
                cell=cell,
                row=row,
                column=column,
                value=value,
                extra=extra or {},
            )
        )


def _first_nonempty(cells: list[list[str]]) -> int | None:
    for i, row in enumerate(cells):
        if any(c.strip() for c in row):
            return i
    return None


def clip_cell(ctx: ReadProblems, value: str, cell: str, row: int, column: str | None) -> str:
    """The first ``MAX_CELL_CHARS`` of an over-long cell, and a ``cell-too-large`` problem naming it."""
    limit = limits.MAX_CELL_CHARS
    ctx.add(
        "cell-too-large",
        f"cell {cell} holds {len(value):,} characters; spreadsheets allow at most {limit:,}. Only the first "
        f"{limit:,} were kept: shorten the value.",
        cell=cell,
        row=row,
        column=column,
        value=_preview(value),
    )
    return value[:limit]


def _resolve_name(header: str, mapping: Mapping[str, str], known: dict[str, str] | None) -> str | None:
    """The column name a header becomes ('' = dropped on purpose by the mapping)."""
    key = header_key(header)
    if key in mapping:
        return mapping[key]
    if known is not None and key in known:
        return known[key]
    return header


#: How many rows below the first row with values the header may be found (title rows, notes).
HEADER_SEARCH_ROWS = 20


def _header_index(
    cells: list[list[str]], top: int, mapping: Mapping[str, str], known: dict[str, str] | None
) -> int:
    """The row index of the header: the first row with values, unless it names no known field or
    mapped header and a row a little below does (a title like 'Catalog export 2024' above the table)."""
    if known is None and not mapping:
        return top

    def names(row: list[str]) -> int:
        keys = [header_key(c) for c in row if c.strip()]
        return sum(1 for k in keys if k in mapping or (known is not None and k in known))

    if names(cells[top]):
        return top
    for i in range(top + 1, min(len(cells), top + 1 + HEADER_SEARCH_ROWS)):
        if names(cells[i]):
            return i
    return top


def locate_header(
    ctx: ReadProblems,
    cells: list[list[str]],
    first_row: int,
    mapping: Mapping[str, str],
    known: dict[str, str] | None,
) -> tuple[int, int, list[str]] | None:
    """(index in ``cells``, row number, trimmed and clipped texts) of the header; ``None`` when no
    row has a value.  Rows above it that hold text get a ``header-row`` warning."""
    top = _first_nonempty(cells)
    if top is None:
        return None
    first = top
    top = _header_index(cells, top, mapping, known)
    header_row = first_row + top
    if top != first:
        above = first_row + first
        text = next(c.strip() for c in cells[first] if c.strip())
        ctx.add(
            "header-row",
            f"the header is on row {header_row}; the rows above it ({above}"
            + ("" if header_row - above == 1 else f"–{header_row - 1}")
            + f", starting {_preview(text, 40)!r}) hold no field names and are ignored",
            severity="warning",
            cell=f"A{header_row}",
            row=header_row,
        )
    header = [h.strip() for h in cells[top]]
    for j, text in enumerate(header):
        if len(text) > limits.MAX_CELL_CHARS:
            header[j] = clip_cell(ctx, text, f"{column_letter(j)}{header_row}", header_row, None)
    return top, header_row, header


def build_sheet(
    grid: Grid | ColumnGrid,
    *,
    path: Path,
    sheet_name: str | None,
    mapping: Mapping[str, str],
    known_fields: Sequence[str] | None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Sheet | None:
    """Build the sheet, or return ``None`` when the grid has no value at all."""
    if isinstance(grid, ColumnGrid):
        from catalog_sync.sheets.columnar import build_workbook_sheet  # columnar builds on this module

        return build_workbook_sheet(
            grid, path=path, sheet_name=sheet_name, mapping=mapping, known_fields=known_fields
        )
    display = sheet_name if sheet_name is not None else path.name
    ctx = ReadProblems(display, list(grid.problems))
    known = {header_key(f): f for f in known_fields} if known_fields is not None else None
    located = locate_header(ctx, grid.cells, grid.first_row, mapping, known)
    if located is None:
        return None
    top, header_row, header = located
    rows, kind_rows, numbers = _body(ctx, grid, top, header)
    used = [any(column) for column in zip(*rows, strict=True)] if rows else [False] * len(header)
    keep, names = choose_columns(
        ctx,
        header,
        header_row,
        used,
        lambda j: next(n for n, r in zip(numbers, rows, strict=True) if r[j]),
        mapping,
        known,
    )
    kept = dict(zip(keep, names, strict=True))
    note_valueless(ctx, grid.valueless, grid.first_row, top, kept)
    note_merged(ctx, grid.merged, _cell_text(grid.cells), grid.first_row, numbers, kept)
    index = pd.Index(numbers, dtype="int64")
    every = keep == list(range(len(header)))
    data = _text_frame(rows, keep, names, index, every)
    kinds_df = _text_frame(kind_rows, keep, names, index, every) if grid.kinds is not None else None
    carried = ignored_columns(header, used, keep)
    ignored = _carried_frame(rows, carried, index) if carried else None
    # what the ignored cells were (reports keep numbers as numbers)
    ignored_kinds = _carried_frame(kind_rows, carried, index) if carried and grid.kinds is not None else None
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
        kinds=kinds_df,
        ignored=ignored,
        ignored_kinds=ignored_kinds,
    )


def _body(
    ctx: ReadProblems, grid: Grid, top: int, header: list[str]
) -> tuple[list[list[str]], list[list[str]], list[int]]:
    """The rows under the header that hold a value, as wide as the header; their kinds; their numbers."""
    width = len(header)
    rows: list[list[str]] = []
    kind_rows: list[list[str]] = []
    numbers: list[int] = []
    strip = not grid.trimmed
    for i in range(top + 1, len(grid.cells)):
        raw = grid.cells[i]
        cells = [c.strip() for c in raw] if strip else raw
        if not any(cells):
            continue
        row_no = grid.first_row + i
        rows.append(_fitted(ctx, grid, cells, header, row_no))
        numbers.append(row_no)
        if grid.kinds is not None:
            kinds = grid.kinds[i][:width]
            kind_rows.append(kinds + [""] * (width - len(kinds)))
    return rows, kind_rows, numbers


def _fitted(ctx: ReadProblems, grid: Grid, cells: list[str], header: list[str], row_no: int) -> list[str]:
    """A row cut or padded to the header's width (a value past it is named), its long cells clipped."""
    width = len(header)
    if len(cells) > width:
        extra = [(j, c) for j, c in enumerate(cells[width:], start=width) if c]
        if extra and grid.ragged_is_error:
            j, value = extra[0]
            ctx.add(
                "ragged-row",
                f"row {row_no} has {len(cells)} cells but the header has {width}; the extra value in "
                f"{column_letter(j)}{row_no} has no column (a stray delimiter or unquoted text?)",
                cell=f"{column_letter(j)}{row_no}",
                row=row_no,
                value=_preview(value),
            )
        cells = cells[:width]
    elif len(cells) < width:
        cells = cells + [""] * (width - len(cells))
    if max(map(len, cells)) > limits.MAX_CELL_CHARS:
        cells = [
            clip_cell(ctx, c, f"{column_letter(j)}{row_no}", row_no, header[j] or None)
            if len(c) > limits.MAX_CELL_CHARS
            else c
            for j, c in enumerate(cells)
        ]
    return cells


def note_valueless(
    ctx: ReadProblems, valueless: list[tuple[int, int, str]], first_row: int, top: int, kept: dict[int, str]
) -> None:
    """A problem for each kept cell that holds a formula with no saved result (its value is unknown)."""
    for i, j, formula in valueless:
        if i > top and j in kept:
            cell = f"{column_letter(j)}{first_row + i}"
            ctx.add(
                "formula-no-value",
                f"cell {cell} holds the formula ={_preview(formula, 40)} but no saved result (the file was written "
                "by a program that does not calculate), so its value is unknown; open the file in Excel or "
                "LibreOffice and save it, or type the value",
                cell=cell,
                row=first_row + i,
                column=kept[j],
                value="",
            )


def _hides_data(merge: tuple[int, int, int, int], data: list[int], kept: dict[int, str]) -> list[int]:
    """The data rows (grid indices) where ``merge`` covers a kept cell other than its first."""
    r1, c1, r2, c2 = merge
    rows = data[bisect.bisect_left(data, r1) : bisect.bisect_right(data, r2)]
    columns = [j for j in range(c1, c2 + 1) if j in kept]
    return [r for r in rows if any((r, j) != (r1, c1) for j in columns)]


def _cell_text(cells: list[list[str]]) -> Callable[[int, int], str]:
    """(row, column) → the text of that cell of ``cells`` (0-based), ``""`` outside them."""
    return lambda r, c: cells[r][c] if r < len(cells) and c < len(cells[r]) else ""


def note_merged(
    ctx: ReadProblems,
    merged: list[tuple[int, int, int, int]],
    text_at: Callable[[int, int], str],
    first_row: int,
    numbers: Sequence[int],
    kept: dict[int, str],
) -> None:
    """A ``merged-cells`` warning for each merged range over the data: its cells in a kept column of a
    data row show the first cell's value but hold nothing (:mod:`.merged`; runs refuse it).
    ``text_at(row, column)`` is a cell's text (0-based grid indices)."""
    data = [n - first_row for n in numbers]  # sorted grid indices of the data rows
    for merge in merged:
        r1, c1, _r2, c2 = merge
        value = text_at(r1, c1)
        hidden = _hides_data(merge, data, kept) if value else []
        if not hidden:  # an empty merged range shows nothing: reading it blank is what the user sees
            continue
        covered, several = covered_text(merge, hidden[0])
        first = f"{column_letter(c1)}{first_row + r1}"
        columns = [kept[j] for j in range(c1, c2 + 1) if j in kept]
        ctx.add(
            "merged-cells",
            f"{range_name(merge)} is merged: {covered} {'show' if several else 'shows'} {_preview(value, 40)!r} but "
            f"{'hold' if several else 'holds'} nothing (a merged range keeps its value in {first} only); {UNMERGE}",
            severity="warning",
            cell=first,
            row=first_row + hidden[0],
            column=columns[0],
            value=_preview(value),
            extra={"range": range_name(merge)},
        )


def _text_frame(
    rows: list[list[str]], keep: list[int], names: list[str], index: pd.Index, every: bool
) -> pd.DataFrame:
    """The kept columns of ``rows`` as a text frame (every column kept: the rows as they are)."""
    if not rows:
        return pd.DataFrame({n: pd.Series([], dtype=str) for n in names}, index=index)
    return pd.DataFrame(
        rows if every else [[r[j] for j in keep] for r in rows], columns=names, index=index, dtype=str
    )


def _carried_frame(rows: list[list[str]], carried: list[tuple[int, str]], index: pd.Index) -> pd.DataFrame:
    """The ignored columns ``carried`` (position, name) of ``rows``, carried to the report."""
    return pd.DataFrame(
        [[r[j] for j, _ in carried] for r in rows],
        columns=[name for _, name in carried],
        index=index,
        dtype=str,
    )


def sheet_of_columns(
    ctx: ReadProblems,
    header: list[str],
    used: list[bool],
    keep: list[int],
    names: list[str],
    data: pd.DataFrame,
    *,
    header_row: int,
    path: Path,
    sheet_name: str | None,
    encoding: str | None,
    delimiter: str | None,
    ignored: pd.DataFrame | None,
    kinds: pd.DataFrame | None = None,
    ignored_kinds: pd.DataFrame | None = None,
) -> Sheet:
    """The :class:`Sheet` of ``data``, the ``keep`` columns of ``header`` named ``names``: its headers
    run to the last column with a header or a value (``used``), and no data row is a problem."""
    if not len(data):
        ctx.add(
            "empty-catalog", f"the sheet has a header (row {header_row}) but no data rows", row=header_row
        )
    last = max((j for j in range(len(header)) if header[j] or used[j]), default=-1)
    return Sheet(
        headers=header[: last + 1],
        columns=names,
        letters=[column_letter(j) for j in keep],
        data=data,
        problems=ctx.problems,
        header_row=header_row,
        kinds=kinds,
        encoding=encoding,
        delimiter=delimiter,
        source_headers={names[n]: header[j] for n, j in enumerate(keep)},
        ignored=ignored,
        ignored_kinds=ignored_kinds,
        path=path,
        sheet_name=sheet_name,
    )


def choose_columns(
    ctx: ReadProblems,
    header: list[str],
    header_row: int,
    used: list[bool],
    first_filled: Callable[[int], int],
    mapping: Mapping[str, str],
    known: dict[str, str] | None,
) -> tuple[list[int], list[str]]:
    """(file index, field name) of the columns kept; empty, unknown, duplicate and unused-mapping
    headers become problems.  ``first_filled(j)`` is the row number of column j's first value."""
    keep: list[int] = []
    names: list[str] = []
    seen: dict[str, int] = {}
    fields = list(dict.fromkeys((known or {}).values()))
    for j, text in enumerate(header):
        cell = f"{column_letter(j)}{header_row}"
        if not text:
            if used[j]:
                _empty_header(ctx, j, cell, header_row, first_filled(j))
            continue
        name = _resolve_name(text, mapping, known)
        if not name:
            continue  # mapped to nothing: ignored on purpose
        if known is not None and name not in known.values():
            _unknown_column(ctx, text, cell, header_row, fields)
        elif name.casefold() in seen:
            _duplicate_column(
                ctx, name, text, cell, header_row, f"{column_letter(seen[name.casefold()])}{header_row}"
            )
        else:
            seen[name.casefold()] = j
            keep.append(j)
            names.append(name)
    _unused_mapping(ctx, header, header_row, mapping)
    return keep, names


def _empty_header(ctx: ReadProblems, j: int, cell: str, header_row: int, first: int) -> None:
    letter = column_letter(j)
    ctx.add(
        "empty-header",
        f"column {letter} has data (first at {letter}{first}) but no header in {cell}; add the "
        "field name or delete the column",
        cell=cell,
        row=header_row,
    )


def _unknown_column(ctx: ReadProblems, text: str, cell: str, header_row: int, fields: list[str]) -> None:
    near = near_field(text, fields)
    fix = (
        f"did you mean {near!r}? Rename the header to {near} or map it with --mapping"
        if near
        else "use --mapping to map it onto one"
    )
    ctx.add(
        "unknown-column",
        f"column {text!r} ({cell}) is not a field of this provider; it is ignored ({fix})",
        severity="warning",
        cell=cell,
        row=header_row,
        column=text,
        value=text,
        extra={"near": near} if near else None,
    )


def _duplicate_column(
    ctx: ReadProblems, name: str, text: str, cell: str, header_row: int, other: str
) -> None:
    ctx.add(
        "duplicate-column",
        f"headers {other} and {cell} both give the column {name!r}; only {other} is read. Rename or "
        "delete one",
        cell=cell,
        row=header_row,
        column=name,
        value=text,
        extra={"cells": [other, cell]},
    )


def _unused_mapping(
    ctx: ReadProblems, header: list[str], header_row: int, mapping: Mapping[str, str]
) -> None:
    """A warning for each header the mapping names that the sheet does not have."""
    present = {header_key(text) for text in header if text}
    for key in [k for k in mapping if k not in present]:
        ctx.add(
            "mapping-unused",
            f"the mapping names the header {key!r} (→ {mapping[key] or 'ignored'}), but row {header_row} has no "
            "such header; check its spelling in the mapping file",
            severity="warning",
            row=header_row,
            value=key,
        )


def _ignored_name(text: str, letter: str, taken: set[str]) -> str:
    """The name an ignored column goes by: its header, or its A1 letter when the header is empty;
    ``'Notes (D)'`` when another kept or ignored column already goes by that name (ignoring case)."""
    name = text or letter
    if header_key(name) in taken:
        name = f"{name} ({letter})"
    taken.add(header_key(name))
    return name


def ignored_columns(header: list[str], used: list[bool], keep: list[int]) -> list[tuple[int, str]]:
    """(index, name) of the columns read but not kept that hold a header or a value, in file order."""
    kept = set(keep)
    taken = {header_key(header[j]) for j in keep}
    return [
        (j, _ignored_name(text, column_letter(j), taken))
        for j, text in enumerate(header)
        if j not in kept and (text or used[j])
    ]


def file_columns(sheet: Sheet) -> list[tuple[str, str]]:
    """The user's columns in file order: ``("field", field name)`` for a kept column and
    ``("ignored", name)`` for a column of ``sheet.ignored``.

    Ignored columns whose place cannot be told (a sheet not built by :func:`build_sheet`) follow
    the kept ones.
    """
    kept = dict(zip(sheet.letters, sheet.columns, strict=True))
    pending = list(sheet.ignored.columns) if sheet.ignored is not None else []
    order: list[tuple[str, str]] = []
    for j, text in enumerate(sheet.headers):
        letter = column_letter(j)
        if letter in kept:
            order.append(("field", kept.pop(letter)))
        elif pending and (text or pending[0] in (letter, f"{letter} ({letter})")):
            order.append(("ignored", str(pending.pop(0))))
    order += [("field", name) for name in kept.values()]
    order += [("ignored", str(name)) for name in pending]
    return order
