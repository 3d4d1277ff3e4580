"""``load_sheet``: any catalog file → a :class:`Sheet` of text with true row numbers.

Unreadable or hostile files raise :class:`InputError` (one message naming the file, and
the sheet or cell where known); problems in the user's data become ``Sheet.problems``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from catalog_sync.errors import InputError
from catalog_sync.problems import Problem
from catalog_sync.sheets.columnar import build_columnar_sheet, read_csv_table
from catalog_sync.sheets.csv_reader import CANDIDATES, delimiter_name, read_csv_rows, sniff_csv
from catalog_sync.sheets.detect import detect_format
from catalog_sync.sheets.guard import restore_column
from catalog_sync.sheets.mapping import resolve_mapping
from catalog_sync.sheets.memory import check_memory_budget
from catalog_sync.sheets.model import Sheet
from catalog_sync.sheets.table import Grid, build_sheet
from catalog_sync.sheets.workbook import read_workbook


def load_sheet(
    path: str | Path,
    *,
    sheet: str | None = None,
    mapping: Mapping[str, str] | str | Path | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    known_fields: Sequence[str] | None = None,
) -> Sheet:
    """Read a CSV / XLSX / XLSM / XLSB / XLS / ODS catalog as text.

    Args:
        path: the catalog file; its format is recognised by content, not by name.
        sheet: worksheet to read; needed when a workbook has several visible sheets with data.
        mapping: ``{your header: field}`` or a mapping file (YAML/JSON/CSV).
        encoding / delimiter: CSV only; detected when not given.
        known_fields: the provider's field names; when given, unknown columns are reported
            (``unknown-column``) and left out of ``data`` (their values are kept in
            ``Sheet.ignored`` for reports), and headers are spelled as the fields are (the file's
            own text stays in ``Sheet.source_headers``).
    """
    path = Path(path)
    lookup = resolve_mapping(mapping, known_fields)
    detected = detect_format(path)
    if detected.format == "csv":
        result = _load_csv(path, lookup, known_fields, encoding, delimiter, list(detected.problems))
        if result is None:
            raise InputError("the file is empty", file=str(path))
        hint_delimiter(result)
        return unguarded(result)
    book = read_workbook(path, detected.format, sheet)
    book.grid.problems[:0] = list(detected.problems)
    result = build_sheet(
        book.grid, path=path, sheet_name=book.name, mapping=lookup, known_fields=known_fields
    )
    if result is None:  # pragma: no cover - read_workbook only returns sheets with data
        raise InputError("the sheet is empty", file=str(path), sheet=book.name)
    result.date1904 = bool(book.date1904)
    return result


def _load_csv(
    path: Path,
    lookup: Mapping[str, str],
    known_fields: Sequence[str] | None,
    encoding: str | None,
    delimiter: str | None,
    problems: list[Problem],
) -> Sheet | None:
    """The columnar reader for the files pyarrow takes (the common, clean case), else the exact one."""
    check_memory_budget(path)
    dialect = sniff_csv(path, encoding=encoding, delimiter=delimiter)
    table = read_csv_table(path, dialect)
    if table is not None:
        return build_columnar_sheet(
            table,
            path=path,
            problems=[*problems, *dialect.problems],
            mapping=lookup,
            known_fields=known_fields,
            encoding=dialect.encoding.label,
            delimiter=dialect.delimiter,
            sep_line=dialect.sep_line,
        )
    parsed = read_csv_rows(path, dialect=dialect)
    grid = Grid(
        cells=parsed.rows,
        first_row=parsed.first_row,
        ragged_is_error=True,
        problems=[*problems, *parsed.problems],
    )
    return build_sheet(
        grid,
        path=path,
        sheet_name=None,
        mapping=lookup,
        known_fields=known_fields,
        encoding=parsed.encoding,
        delimiter=parsed.delimiter,
    )


def unguarded(sheet: Sheet) -> Sheet:
    """A CSV's cells without the formula guard catalog-sync writes into pulled sheets and reports
    (``'=SUM(1)`` is ``=SUM(1)``; :mod:`.guard`): a pulled CSV read back unchanged plans nothing.
    Workbooks keep their text as it is: their text cells never run, and a ``'`` there is the user's."""
    for frame in [f for f in (sheet.data, sheet.ignored) if f is not None]:
        for name in list(frame.columns):
            column = frame[name]
            restored = restore_column(column)
            if restored is not column:  # most columns hold no guard: left untouched
                frame[name] = restored
    return sheet


def hint_delimiter(sheet: Sheet) -> None:
    """One column whose header holds another delimiter: the file was probably split on the wrong one."""
    if len(sheet.headers) != 1 or sheet.delimiter is None:
        return
    header = sheet.headers[0]
    other = max((d for d in CANDIDATES if d != sheet.delimiter), key=header.count)
    if header.count(other) == 0:
        return
    sheet.problems.append(
        Problem(
            code="format-mismatch",
            severity="warning",
            sheet=sheet.display_name,
            cell=f"A{sheet.header_row}",
            row=sheet.header_row,
            value=header[:60],
            message=(
                f"the whole header is one column split on {delimiter_name(sheet.delimiter)}s, but it holds "
                f"{delimiter_name(other)}s: pass --delimiter {'tab' if other == chr(9) else repr(other)}"
            ),
        )
    )
