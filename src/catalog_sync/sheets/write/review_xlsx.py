"""A review workbook: a table a person edits a few columns of (dropdowns), a summary, and a hidden
sheet of text the tool reads back exactly (``plan -o PLAN.xlsx`` is its one user).

Every text cell is a *string* cell with the Text format (a leading ``=`` is never a formula,
``00123`` keeps its zeros); integers stay numbers.  The table's header is bold and frozen with
its first columns, filtered, and the cells a row marks are filled.  The XML is written directly
and the table's rows streamed (:mod:`xlsx_xml`): a row is written as it comes and not kept, so a
100,000-row table takes a few seconds and little memory (openpyxl took ~55 s).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from catalog_sync.sheets.write import xlsx_xml
from catalog_sync.sheets.write.xlsx_xml import ListValidation, Styles

__all__ = ["Dropdown", "ReviewRow", "ReviewTable", "write_review_workbook"]


@dataclass
class Dropdown:
    """A list of choices offered in one column, on the rows that ask for it (:attr:`ReviewRow.dropdowns`)."""

    column: int
    choices: tuple[str, ...]
    #: the message Excel and LibreOffice show for a value not in the list
    error: str = ""


@dataclass
class ReviewRow:
    """One table row: text (or integers), its marks (column index, 0-based → fill colour RRGGBB) and
    the dropdowns it offers (indexes into :attr:`ReviewTable.dropdowns`)."""

    values: Sequence[str | int]
    marks: Mapping[int, str] = field(default_factory=dict)
    dropdowns: Collection[int] = ()


@dataclass
class ReviewTable:
    """The sheet a person reviews; ``rows`` may be a generator: they are written as they come."""

    name: str
    header: list[str]
    rows: Iterable[ReviewRow]
    dropdowns: list[Dropdown] = field(default_factory=list)
    freeze_columns: int = 0
    widths: list[int] = field(default_factory=list)


_PAIR_WIDTHS = [24, 60]


def write_review_workbook(
    path: Path,
    table: ReviewTable,
    summary: Sequence[tuple[str, str | int]],
    hidden: tuple[str, Sequence[Sequence[str]]],
) -> None:
    """Write the table's sheet (first, active), a ``Summary`` sheet and the hidden sheet."""
    hidden_name, hidden_rows = hidden
    sheets = [table.name, "Summary", hidden_name]
    styles = Styles()
    with xlsx_xml.package(path) as book:
        for name, body in xlsx_xml.package_parts(len(sheets)).items():
            book.writestr(name, body)
        with xlsx_xml.text_part(book, "xl/worksheets/sheet1.xml") as out:
            area = _write_table(out, table, styles)
        book.writestr("xl/worksheets/sheet2.xml", _pairs_sheet([("item", "value"), *summary], styles, bold=1))
        book.writestr("xl/worksheets/sheet3.xml", _pairs_sheet(hidden_rows, styles, bold=0))
        book.writestr(
            "xl/workbook.xml", xlsx_xml.workbook_part(sheets, filter_area=area, hidden={hidden_name})
        )
        book.writestr("xl/styles.xml", styles.xml())


def _write_table(out: IO[str], table: ReviewTable, styles: Styles) -> str:
    """Stream the table's sheet to ``out``; its filtered area (``A1:M101``)."""
    out.write(xlsx_xml.sheet_head(table.widths, freeze_rows=1, freeze_columns=table.freeze_columns))
    out.write(xlsx_xml.xml_row(1, table.header, lambda j, v: styles.get(text=True, bold=True)))
    validations = [ListValidation(d.column, d.choices, error=d.error) for d in table.dropdowns]
    last = 1
    for last, row in enumerate(table.rows, 2):
        out.write(xlsx_xml.xml_row(last, row.values, _cell_style(row.marks, styles)))
        for k in row.dropdowns:
            validations[k].rows.add(last)
    area = xlsx_xml.area(len(table.header), last)
    out.write(xlsx_xml.sheet_tail(filter_area=area, validations=validations))
    return area


def _cell_style(marks: Mapping[int, str], styles: Styles) -> Callable[[int, Any], int]:
    """A row's cell formats: text cells Text, integers General, a marked cell filled."""
    text = styles.get(text=True)

    def style(j: int, value: Any) -> int:
        if j in marks:
            return styles.get(text=not isinstance(value, int), fill=marks[j])
        return 0 if isinstance(value, int) else text

    return style


def _pairs_sheet(rows: Sequence[Sequence[str | int]], styles: Styles, *, bold: int) -> str:
    """A two-column sheet's XML (its first ``bold`` rows bold): text cells Text, integers numbers."""
    lines = [xlsx_xml.xml_row(i, values, _pair_style(styles, i <= bold)) for i, values in enumerate(rows, 1)]
    return xlsx_xml.sheet_head(_PAIR_WIDTHS, freeze_rows=0) + "".join(lines) + xlsx_xml.sheet_tail()


def _pair_style(styles: Styles, bold: bool) -> Callable[[int, Any], int]:
    return lambda j, value: styles.get(text=not isinstance(value, int), bold=bold)
