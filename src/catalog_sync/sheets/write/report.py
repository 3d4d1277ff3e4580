"""Write tables (validation problems, apply results) as CSV, XLSX or JSON, and read them back.

Reports are opened in spreadsheet programs, so they are written defensively:

* CSV is UTF-8 with a BOM (Excel then reads accents right), ``,``-separated unless the caller
  passes the delimiter of the catalog (``;``: a German Excel reads a ``,`` file as one column).
* Text that a spreadsheet would run as a formula (starting with ``= + - @``, tab or CR)
  gets a leading ``'``; plain numbers written as text (``-42``) and real numbers (Python
  ``int``/``float`` values) are left alone, so numbers stay numbers.  The guard is
  reversible (:mod:`catalog_sync.sheets.guard`, shared with pulled CSV sheets):
  :func:`read_report` removes a ``'`` only where :func:`write_table` would have added one,
  so a report read back gives the original text.
* XLSX text cells are forced to the string type (never formulas), key columns are
  formatted as Text (``@``), statuses are coloured, the header row (and the first columns the
  caller names) is frozen, an autofilter covers the table, the tool's own columns have a shaded
  header and a border where they start, cells the catalog held as numbers or booleans are
  numbers and booleans again (:func:`typed_value`), and a ``summary`` sheet holds the run's counts.

A report is also an input (``apply --only failed --from REPORT``): :func:`read_report`
returns every cell as text, like a catalog sheet (the CSV delimiter sniffed, number and boolean
cells as the loader reads them: ``2024``, ``TRUE``).

Reports are written atomically (a temporary file in the same folder, then ``os.replace``), so
a crash never leaves half a report.  :func:`check_output` refuses, before a run sends anything,
a report path that is a symbolic link or is one of the run's inputs (the catalog, plan, report
read back, mapping, schema files, state database) by file identity, so links count too.
:func:`check_report` adds: an existing file that is not a report catalog-sync wrote (a pulled
workbook, a plan workbook holding approvals, any file of the user's) is never overwritten.
Our own reports are known cheaply (:func:`is_our_report`), so writing a report again to the same
name still works.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from catalog_sync.config.defaults import REPORT_SUFFIXES
from catalog_sync.errors import ConfigError, InputError, OutputRefusedError
from catalog_sync.sheets.guard import PLAIN_NUMBER, neutralise, restore
from catalog_sync.sheets.write import xlsx_xml
from catalog_sync.sheets.write.xlsx_xml import Styles

REPORT_SHEET = "report"
SUMMARY_SHEET = "summary"
#: Fill colours of status (and severity) cells in XLSX reports.
STATUS_COLOURS = {
    "ok": "C6EFCE",  # green
    "failed": "FFC7CE",  # red
    "error": "FFC7CE",
    "skipped": "D9D9D9",  # grey
    "conflict": "F8CBAD",  # orange
    "unknown": "FFEB9C",  # yellow
    "warning": "FFEB9C",
}
SUFFIXES = REPORT_SUFFIXES


def _cell(value: Any) -> Any:
    """A Python value as a report cell: numbers stay numbers, everything else text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value if value == value else None  # NaN -> empty
    if isinstance(value, list | tuple | set):
        return neutralise(", ".join(str(v) for v in value))
    if isinstance(value, dict):
        return neutralise(json.dumps(value, ensure_ascii=False, sort_keys=True))
    return neutralise(str(value))


def same_file(a: str | Path, b: str | Path) -> bool:
    """True when ``a`` and ``b`` are one file (device and inode when both exist, else real paths)."""
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def check_output(
    target: str | Path, inputs: Iterable[tuple[str, str | Path | None]], *, what: str = "report"
) -> None:
    """ConfigError (nothing sent) when ``target`` is a symlink or one of the run's ``inputs``.

    ``inputs``: (what it is, path) pairs, e.g. ``("catalog", "cat.csv")``; None paths are skipped.
    """
    target = Path(target)
    if target.is_symlink():
        raise ConfigError(
            f"the {what} path {target} is a symbolic link; catalog-sync does not write through links "
            f"(it could overwrite the file it points to): name the real file or another path. Nothing was sent."
        )
    for label, source in inputs:
        if source is not None and str(source) != "" and same_file(target, source):
            raise ConfigError(
                f"the {what} {target} is the {label} this run reads ({source}): writing it would overwrite "
                f"the {label}; choose another path. Nothing was sent."
            )


@dataclass(frozen=True)
class ReportShape:
    """How one kind of report is known again: the columns its table ends with, its JSON's keys."""

    columns: tuple[str, ...]
    json_keys: tuple[str, ...] = ("summary", "rows")


#: The first bytes of a page to review (``review_page.html``) that name catalog-sync.
PAGE_MARK = "<title>catalog-sync "
_HEAD_BYTES = 4096


def check_report(
    target: str | Path,
    inputs: Iterable[tuple[str, str | Path | None]],
    shape: ReportShape,
    *,
    what: str = "report",
) -> None:
    """:func:`check_output`, then OutputRefusedError (exit 2, nothing read or sent) when ``target``
    exists, is not empty and is not a report of ``shape`` (or a page to review) catalog-sync wrote."""
    check_output(target, inputs, what=what)
    target = Path(target)
    if target.is_file() and target.stat().st_size and not is_our_report(target, shape):
        raise OutputRefusedError(
            f"the {what} {target} exists and is not a report catalog-sync wrote (it may be your work): "
            "choose another name, or delete it. Nothing was read or sent."
        )


def is_our_report(path: Path, shape: ReportShape) -> bool:
    """True when ``path`` looks like a report of ``shape`` (or a page to review), from its first
    bytes: an xlsx with a ``summary`` sheet whose first sheet's header ends with the columns, a CSV
    whose header ends with them, a JSON object with the shape's keys, a page whose title is ours."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            return _xlsx_header_ends(path, shape.columns)
        if suffix == ".csv":
            return _csv_header_ends(path, shape.columns)
        if suffix == ".json":
            return _json_has(path, shape.json_keys)
        with path.open("rb") as fh:
            return PAGE_MARK.encode() in fh.read(_HEAD_BYTES)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, csv.Error):
        return False


def _ends_with(header: Sequence[Any], columns: Sequence[str]) -> bool:
    cells = [restore(str(c)).strip() for c in header]
    while cells and not cells[-1]:
        cells.pop()
    return len(cells) >= len(columns) and cells[len(cells) - len(columns) :] == list(columns)


def _csv_header_ends(path: Path, columns: Sequence[str]) -> bool:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        line = fh.readline(1 << 20)
    return _ends_with(next(csv.reader([line], delimiter=csv_delimiter(path)), []), columns)


def _json_has(path: Path, keys: Sequence[str]) -> bool:
    with path.open("rb") as fh:
        data = json.load(fh)
    return isinstance(data, dict) and all(k in data for k in keys)


def _xlsx_header_ends(path: Path, columns: Sequence[str]) -> bool:
    """The workbook has our ``summary`` sheet and its first sheet's first row ends with ``columns``
    (read with openpyxl's streaming reader: only the first row is parsed)."""
    import openpyxl

    with zipfile.ZipFile(path) as zf:
        if f'name="{SUMMARY_SHEET}"' not in zf.read("xl/workbook.xml").decode("utf-8", "replace"):
            return False
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        first = next(book.worksheets[0].iter_rows(max_row=1, values_only=True), ())
    finally:
        book.close()
    return _ends_with(["" if v is None else v for v in first], columns)


def check_new_file(target: str | Path, *, force: bool, what: str) -> None:
    """OutputRefusedError (exit 2, nothing read or sent) when ``target`` exists and ``force`` is not
    given: a file the user may have edited (a pulled sheet, a fixed catalog) is never overwritten."""
    target = Path(target)
    if not force and (target.exists() or target.is_symlink()):
        raise OutputRefusedError(
            f"the {what} {target} exists and may hold your edits; pass --force to overwrite it, or name a new "
            "file. Nothing was read or sent."
        )


def _new_file_mode(path: Path) -> int:
    """The mode a plain ``open(path, "w")`` would give: the existing file's, else 0666 less the umask."""
    with suppress(OSError):
        return path.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_target(path: str | Path) -> Iterator[Path]:
    """A temporary path next to ``path``; on success it replaces ``path`` in one step (never half a file)."""
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    temp = Path(name)
    try:
        os.chmod(temp, _new_file_mode(path))
        yield temp
        os.replace(temp, path)
    except BaseException:
        with suppress(OSError):
            temp.unlink()
        raise


def write_table(
    rows: Iterable[Mapping[str, Any]],
    path: str | Path,
    *,
    columns: list[str],
    text_columns: Iterable[str] = (),
    status_column: str | None = None,
    summary: dict[str, Any] | None = None,
    json_root: dict[str, Any] | None = None,
    json_writer: Callable[[TextIO], None] | None = None,
    delimiter: str = ",",
    kinds: Sequence[Mapping[str, str]] | None = None,
    tool_columns: Iterable[str] = (),
    freeze_columns: int = 0,
) -> Path:
    """Write ``rows`` (in ``columns`` order) to ``path``; the suffix picks CSV, XLSX or JSON.

    ``rows`` are read once, in order: a CSV is written a row at a time as they come.  JSON only:
    ``json_root`` is the document (else rows and summary), or ``json_writer`` writes it itself, a
    part at a time.  CSV only: ``delimiter`` (``;`` for a catalog a German Excel wrote).  XLSX only: ``kinds``, per
    row, ``{column: kind}`` of the catalog cell a value came from (``n`` number, ``b`` boolean;
    see :func:`typed_value`); ``tool_columns`` get a shaded header and a thin border where they
    start; ``freeze_columns`` columns stay in view with the header row.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ConfigError(f"report file {path} must end in .csv, .xlsx or .json")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_target(path) as temp:
            if suffix == ".json" and json_writer is not None:
                with temp.open("w", encoding="utf-8") as out:
                    json_writer(out)
            elif suffix == ".json":
                root = json_root if json_root is not None else {"rows": list(rows), "summary": summary}
                _write_json(root, temp)
            elif suffix == ".csv":
                _write_csv(rows, temp, columns, delimiter)
            else:
                layout = _XlsxLayout(
                    columns=columns,
                    text=set(text_columns),
                    tools=[c for c in columns if c in set(tool_columns)],
                    status=status_column,
                    freeze_columns=max(0, min(freeze_columns, len(columns))),
                )
                _write_xlsx(rows, temp, layout, kinds, summary)
    except OSError as exc:
        raise ConfigError(f"cannot write the report {path}: {exc.strerror or exc}") from None
    return path


def _write_json(root: Any, path: Path) -> None:
    """``json.dumps(root, indent=2)`` and a line end, written as it is encoded: the text of a big
    report is never held whole (a million rows made a string of gigabytes)."""
    encoder = json.JSONEncoder(ensure_ascii=False, indent=2, default=str)
    with path.open("w", encoding="utf-8") as out:
        buffered: list[str] = []
        for part in encoder.iterencode(root):
            buffered.append(part)
            if len(buffered) >= 8192:
                out.write("".join(buffered))
                buffered.clear()
        out.write("".join(buffered) + "\n")


def _write_csv(
    rows: Iterable[Mapping[str, Any]], path: Path, columns: list[str], delimiter: str = ","
) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow([neutralise(c) for c in columns])
        for row in rows:
            writer.writerow(["" if (v := _cell(row.get(c))) is None else v for c in columns])


def _flatten(summary: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            items.extend(_flatten(value, f"{name}."))
        else:
            items.append((name, value))
    return items


_SAFE_INTEGER = 2**53  # larger integers do not survive a spreadsheet's float cells
_INTEGER = re.compile(r"^-?[0-9]+$")


def typed_value(value: Any, kind: str) -> Any:
    """A report cell's text as the catalog cell it came from was: a number for a number cell
    (``n``) whose text reads back the same, ``True``/``False`` for a boolean cell (``b``, text
    ``TRUE``/``FALSE``); anything else (text, dates, edited values) is left as it is."""
    if not isinstance(value, str) or not value:
        return value
    if kind == "b":
        return {"TRUE": True, "FALSE": False}.get(value.upper(), value)
    if kind != "n" or not PLAIN_NUMBER.match(value):
        return value
    from catalog_sync.sheets.cells import number_text

    if _INTEGER.match(value):
        number = int(value)
        return number if abs(number) < _SAFE_INTEGER and str(number) == value else value
    real = float(value)
    return real if math.isfinite(real) and number_text(real) == value else value


@dataclass
class _XlsxLayout:
    """How the report sheet is laid out: columns, which are text / the tool's own, what is frozen."""

    columns: list[str]
    text: set[str]
    tools: list[str]
    status: str | None
    freeze_columns: int

    @property
    def first_tool(self) -> int:
        return self.columns.index(self.tools[0]) if self.tools else -1


#: Header fill of the tool's own columns (row, action, status, …); a border marks where they start.
TOOL_HEADER_FILL = "DDEBF7"


def _widths(table: Sequence[Sequence[Any]], columns: list[str]) -> list[int]:
    widths = []
    for j, name in enumerate(columns):
        longest = max((len(str(r[j])) for r in table if r[j] is not None), default=0)
        widths.append(max(len(name), min(longest, 60)) + 2)
    return widths


def _report_table(
    rows: Iterable[Mapping[str, Any]], columns: list[str], kinds: Sequence[Mapping[str, str]] | None
) -> list[list[Any]]:
    """The report's cells: :func:`_cell` values, typed back where the catalog cell was a number/boolean."""
    table = [[_cell(row.get(name)) for name in columns] for row in rows]
    if kinds is None:
        return table
    where = {name: j for j, name in enumerate(columns)}
    for values, row_kinds in zip(table, kinds, strict=False):
        for name, kind in row_kinds.items():
            j = where.get(name)
            if j is not None:
                values[j] = typed_value(values[j], kind)
    return table


def _write_xlsx(
    rows: Iterable[Mapping[str, Any]],
    path: Path,
    layout: _XlsxLayout,
    kinds: Sequence[Mapping[str, str]] | None,
    summary: Mapping[str, Any] | None,
) -> None:
    """Write the workbook's XML directly, streamed row by row (:mod:`xlsx_xml`: openpyxl took ~35 s
    for a 200k-row apply report).  The parts a report needs: inline-string text cells (never
    formulas), numbers and booleans, a bold header (the tool's columns shaded, a border where they
    start), the Text format on key columns, status fills, frozen panes, an autofilter, widths.
    """
    columns = layout.columns
    table = _report_table(rows, columns, kinds)
    styles = Styles()
    area = xlsx_xml.area(len(columns), len(table) + 1) if columns else None
    sheets = [REPORT_SHEET] + ([SUMMARY_SHEET] if summary is not None else [])
    with xlsx_xml.package(path) as zf:
        for name, body in xlsx_xml.package_parts(len(sheets)).items():
            zf.writestr(name, body)
        zf.writestr("xl/workbook.xml", xlsx_xml.workbook_part(sheets, filter_area=area))
        with xlsx_xml.text_part(zf, "xl/worksheets/sheet1.xml") as out:
            out.write(
                xlsx_xml.sheet_head(
                    _widths(table, columns), freeze_rows=1, freeze_columns=layout.freeze_columns
                )
            )
            out.write(xlsx_xml.xml_row(1, [neutralise(c) for c in columns], _header_style(layout, styles)))
            style = _body_style(layout, styles)
            for i, values in enumerate(table, 2):
                out.write(xlsx_xml.xml_row(i, values, style))
            out.write(xlsx_xml.sheet_tail(filter_area=area))
        if summary is not None:
            zf.writestr("xl/worksheets/sheet2.xml", _summary_sheet(summary, styles))
        zf.writestr("xl/styles.xml", styles.xml())


def _summary_sheet(summary: Mapping[str, Any], styles: Styles) -> str:
    """The summary sheet's XML: item / value rows, the header bold."""
    bold = styles.get(bold=True)
    items = [(neutralise(k), _cell(v)) for k, v in _flatten(summary)]
    lines = [xlsx_xml.xml_row(1, ["item", "value"], lambda j, v: bold)]
    lines += [xlsx_xml.xml_row(i, list(item), lambda j, v: 0) for i, item in enumerate(items, 2)]
    width = max((len(str(v)) for _, v in items if v is not None), default=0)
    head = xlsx_xml.sheet_head([30, max(30, min(width + 2, 100))], freeze_rows=0)
    return head + "".join(lines) + xlsx_xml.sheet_tail()


def _header_style(layout: _XlsxLayout, styles: Styles) -> Callable[[int, Any], int]:
    """Header cells: bold; the tool's columns shaded, with a border where they start."""
    tools = {layout.columns.index(c) for c in layout.tools}
    first = layout.first_tool
    ids = [
        styles.get(bold=True, fill=TOOL_HEADER_FILL if j in tools else "", left=j == first)
        for j in range(len(layout.columns))
    ]
    return lambda j, value: ids[j]


def _body_style(layout: _XlsxLayout, styles: Styles) -> Callable[[int, Any], int]:
    """Data cells: Text format on key columns, a status fill, the border where the tool's columns start."""
    status = layout.columns.index(layout.status) if layout.status in layout.columns else -1
    text = [name in layout.text for name in layout.columns]
    first = layout.first_tool
    plain = [styles.get(text=text[j], left=j == first) for j in range(len(layout.columns))]
    coloured = {
        value: styles.get(text=text[status], fill=colour, left=status == first)
        for value, colour in STATUS_COLOURS.items()
    }

    def style(j: int, value: Any) -> int:
        if j == status and isinstance(value, str) and value in coloured:
            return coloured[value]
        return plain[j]

    return style


def read_report(path: str | Path) -> pd.DataFrame:
    """A report written by :func:`write_table` as a DataFrame of text ('' for empty cells)."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            df = pd.read_csv(
                path,
                sep=csv_delimiter(path),
                dtype=str,
                keep_default_na=False,
                na_values=[],
                encoding="utf-8-sig",
            )
        elif suffix == ".xlsx":
            df = _read_xlsx(path)
        elif suffix == ".json":
            df = _read_json(path)
        else:
            raise InputError(
                "a report read back must be a .csv, .xlsx or .json file (an .html report is a page for "
                "people; write the run's report as one of those to retry from it)",
                file=str(path),
            )
    except (OSError, ValueError, KeyError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"cannot read the report: {exc}", file=str(path)) from exc
    if suffix == ".json":  # JSON is never opened by a spreadsheet, so it is written as is
        return df
    df.columns = [restore(str(c)) for c in df.columns]
    return df.map(lambda v: restore(v) if isinstance(v, str) else v).astype(object)


def csv_delimiter(path: Path) -> str:
    """The delimiter of a CSV report: sniffed as the catalog loader does (``;`` reports are written for
    catalogs a German Excel saved; a report edited and saved again in Excel keeps that Excel's)."""
    from catalog_sync.sheets import limits
    from catalog_sync.sheets.csv_reader import sniff_delimiter

    with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
        sample = fh.read(limits.SNIFF_CHARS)
        truncated = bool(fh.read(1))
    return sniff_delimiter(sample, truncated)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _read_xlsx(path: Path) -> pd.DataFrame:
    """The report sheet as text, read with calamine (fast; undoes OOXML _xHHHH_ escapes)."""
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_path(str(path))
        name = REPORT_SHEET if REPORT_SHEET in wb.sheet_names else wb.sheet_names[0]
        raw = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        wb.close()
    except Exception as exc:  # calamine raises several types for damaged files
        raise InputError(f"cannot read the report: {str(exc)[:200]}", file=str(path)) from None
    values = [[_xlsx_text(v) for v in row] for row in raw]
    if not values:
        return pd.DataFrame()
    header = values[0]
    width = len(header)
    body = [r[:width] + [""] * (width - len(r)) for r in values[1:] if any(r)]
    return pd.DataFrame(body, columns=header, dtype=object)


def _xlsx_text(value: Any) -> str:
    """A report cell as text: text as written, numbers and booleans as the catalog loader reads them
    (``2024``, ``0.5``, ``TRUE``), so a typed report reads back like its catalog."""
    if isinstance(value, str):
        return value
    from catalog_sync.sheets.cells import cell_text

    return cell_text(value)[0]


def _read_json(path: Path) -> pd.DataFrame:
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("rows", data.get("problems", []))
    if not isinstance(data, list):
        raise ValueError("expected a list of rows (or an object with 'rows')")
    columns: list[str] = []
    for row in data:
        columns.extend(k for k in row if k not in columns)
    body = [[_json_text(row.get(c)) for c in columns] for row in data]
    return pd.DataFrame(body, columns=columns, dtype=object)


def _json_text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return _text(value)
