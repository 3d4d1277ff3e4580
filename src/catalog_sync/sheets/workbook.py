"""Read xlsx/xlsm/xlsb, xls and ods workbooks with python-calamine, every cell as text.

Zip-based files are checked by :mod:`zipguard` first.  Sheet choice: ``--sheet NAME``
(exact, else the one name equal ignoring case); without it, the one visible worksheet
holding data — hidden sheets (dropdown lists, metadata) are ignored unless named.

The workbook's date system (:func:`workbook_date1904`) is read too, so number cells holding
date serials can be converted with the right epoch: xlsx/xlsm from ``<workbookPr date1904>``,
ods from ``<table:null-date>``, xls from its ``DATEMODE`` record (:mod:`.xls_datemode`); xlsb
is "unknown" (``None``): its serials are never converted.

The chosen sheet's cells become columns (:func:`sheet_columns`): a column of text cells, the common
case, goes to Arrow in one call; others take each cell through :func:`~.cells.cell_text`.
"""

from __future__ import annotations

import gc
import posixpath
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pyarrow as pa
import pyarrow.compute as pac
import python_calamine as pc

from catalog_sync.errors import InputError
from catalog_sync.problems import Problem
from catalog_sync.sheets import limits
from catalog_sync.sheets.cells import cell_text
from catalog_sync.sheets.columnar import text_column
from catalog_sync.sheets.detect import damaged
from catalog_sync.sheets.merged import Merge, ods_merged_ranges
from catalog_sync.sheets.table import ColumnGrid
from catalog_sync.sheets.xls_datemode import xls_date1904
from catalog_sync.sheets.zipguard import ZipReport, column_index, inspect_zip

_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_ATTR = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_TABLE_NS = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_TRUE = ("1", "true", "on")
_SETTINGS_BYTES = 16 * 1024 * 1024  # workbook.xml larger than this is not read for the date system


@dataclass
class WorkbookSheet:
    """The chosen worksheet as columns of texts and kinds."""

    name: str
    grid: ColumnGrid
    problems: list[Problem] = field(default_factory=list)
    date1904: bool | None = False  # the date system: True 1904, False 1900, None unknown (xlsb)


def _names(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names) or "(none)"


def xlsx_sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name → worksheet part (``xl/worksheets/sheet1.xml``), from workbook.xml and its rels.

    Only called after :func:`inspect_zip` has refused any DOCTYPE/ENTITY, so ElementTree is safe.
    """
    with zipfile.ZipFile(path) as zf:
        try:
            book = ET.fromstring(zf.read("xl/workbook.xml"))
            rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        except (KeyError, ET.ParseError):
            return {}
    targets = {}
    for rel in rels:
        target = rel.get("Target", "")
        part = (
            target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        )
        targets[rel.get("Id")] = part
    parts = {}
    for sheet in book.iter(f"{_MAIN_NS}sheet"):
        rid = sheet.get(_REL_ATTR)
        if sheet.get("name") is not None and rid in targets:
            parts[sheet.get("name", "")] = targets[rid]
    return parts


def _xlsx_date1904(zf: zipfile.ZipFile) -> bool | None:
    """``<workbookPr date1904="1">`` of xl/workbook.xml; ``None`` when the part is unreadable."""
    try:
        info = zf.getinfo("xl/workbook.xml")
        if info.file_size > _SETTINGS_BYTES:
            return None
        raw = zf.read(info)
        if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
            return None
        book = ET.fromstring(raw)
    except (KeyError, ET.ParseError, zipfile.BadZipFile, zlib.error, OSError, ValueError):
        return None
    props = next(book.iter(f"{_MAIN_NS}workbookPr"), None)
    return props is not None and (props.get("date1904") or "").strip().lower() in _TRUE


def _ods_date1904(zf: zipfile.ZipFile) -> bool | None:
    """From content.xml's ``<table:null-date>`` (default 1899-12-30): 1904-01-01 → True; others ``None``.

    Streamed and stopped at the first table: the calculation settings come before the tables.
    """
    null_date = "1899-12-30"
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start",))
    budget = _SETTINGS_BYTES * 4
    try:
        with zf.open("content.xml") as fh:
            while budget > 0 and (chunk := fh.read(64 * 1024)):
                budget -= len(chunk)
                if b"<!DOCTYPE" in chunk.upper() or b"<!ENTITY" in chunk.upper():
                    return None
                parser.feed(chunk)
                for _event, elem in cast("Iterator[tuple[str, ET.Element]]", parser.read_events()):
                    if elem.tag == f"{_TABLE_NS}null-date":
                        null_date = elem.get(f"{_TABLE_NS}date-value", null_date)
                    elif elem.tag == f"{_TABLE_NS}table":
                        return _null_date_system(null_date)
    except (KeyError, ET.ParseError, zipfile.BadZipFile, zlib.error, OSError, ValueError):
        return None
    return _null_date_system(null_date) if budget > 0 else None


def _null_date_system(null_date: str) -> bool | None:
    """ODS day 0 → the Excel system with the same serials (1899-12-30 is LibreOffice's default)."""
    return {"1899-12-30": False, "1904-01-01": True}.get(null_date.strip()[:10])


def workbook_date1904(path: Path) -> bool | None:
    """The date system of a workbook: True 1904, False 1900, ``None`` when unknown.

    xlsx/xlsm (``xl/workbook.xml``), ods (``content.xml``) and xls (``DATEMODE``) are read;
    xlsb, a missing or unreadable file give ``None`` — their date serials must not be converted.
    """
    try:
        if not zipfile.is_zipfile(path):
            return xls_date1904(path)
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" in names:
                return _xlsx_date1904(zf)
            if "content.xml" in names:
                return _ods_date1904(zf)
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError):
        return None
    return None


def _error_cells(path: Path, part: str) -> dict[tuple[int, int], str]:
    """(row, col) → error text (``#N/A``) of a worksheet part, streamed."""
    found: dict[tuple[int, int], str] = {}
    with zipfile.ZipFile(path) as zf, zf.open(part) as fh:
        for _event, elem in ET.iterparse(fh, events=("end",)):
            if elem.tag.endswith("}c") or elem.tag == "c":
                if elem.get("t") == "e":
                    ref = elem.get("r", "")
                    letters = "".join(ch for ch in ref if ch.isalpha())
                    digits = "".join(ch for ch in ref if ch.isdigit())
                    value = next((child.text or "" for child in elem if child.tag.endswith("v")), "")
                    if letters and digits:
                        found[(int(digits) - 1, column_index(letters.encode()))] = value.strip()
                elem.clear()
            elif elem.tag.endswith("}row"):
                elem.clear()
    return found


def _valueless_formulas(path: Path, part: str) -> list[tuple[int, int, str]]:
    """(row, col, formula) of each formula cell without a saved result, streamed."""
    found: list[tuple[int, int, str]] = []
    with zipfile.ZipFile(path) as zf, zf.open(part) as fh:
        for _event, elem in ET.iterparse(fh, events=("end",)):
            tag = elem.tag.rsplit("}", 1)[-1]
            if tag == "c":
                formula = next((ch for ch in elem if ch.tag.rsplit("}", 1)[-1] == "f"), None)
                value = next((ch for ch in elem if ch.tag.rsplit("}", 1)[-1] in ("v", "is")), None)
                empty = value is None or not "".join(value.itertext()).strip()
                # t="str" with an empty value is a calculated empty text (=IF(A2="","",A2)), not a gap
                if formula is not None and empty and elem.get("t") != "str":
                    ref = elem.get("r", "")
                    letters = "".join(ch for ch in ref if ch.isalpha())
                    digits = "".join(ch for ch in ref if ch.isdigit())
                    if letters and digits:
                        found.append((int(digits) - 1, column_index(letters.encode()), formula.text or ""))
                elem.clear()
            elif tag == "row":
                elem.clear()
    return found


def _has_data(rows: list[list[object]]) -> bool:
    return any(v != "" and not (isinstance(v, str) and not v.strip()) for row in rows for v in row)


_SUFFIXES = {
    "xlsx": (".xlsx", ".xlsm", ".xltx", ".xltm"),
    "xlsb": (".xlsb",),
    "xls": (".xls",),
    "ods": (".ods",),
}


def _open(path: Path, kind: str) -> pc.CalamineWorkbook:
    try:
        if path.suffix.lower() in _SUFFIXES.get(kind, ()):
            return pc.CalamineWorkbook.from_path(str(path))
        with path.open("rb") as fh:  # misnamed file: calamine sniffs the content of a file object
            return pc.CalamineWorkbook.from_filelike(fh)
    except pc.PasswordError:
        raise InputError(
            "the workbook is password-protected; save a copy without a password", file=str(path)
        ) from None
    except Exception as exc:  # calamine raises several types (ZipError, XmlError, CalamineError, ValueError)
        raise damaged(
            path, kind, str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        ) from None


@dataclass
class _Loaded:
    """One worksheet as calamine read it: its rows from A1, and its merged ranges (xlsx, xls)."""

    rows: list[list[object]]
    merged: list[Merge] = field(default_factory=list)


def _load_rows(book: pc.CalamineWorkbook, name: str, path: Path, kind: str) -> _Loaded:
    try:
        sheet = book.get_sheet_by_name(name)
        if sheet.start is None:
            return _Loaded([])
        rows = sheet.to_python(skip_empty_area=False)
        ranges = getattr(sheet, "merged_cell_ranges", None) or []  # None: ods, xlsb (read apart)
    except Exception as exc:
        raise damaged(path, kind, f"sheet {name!r}: {str(exc)[:200]}") from None
    return _Loaded(rows, [(r1, c1, r2, c2) for (r1, c1), (r2, c2) in ranges])  # type: ignore[arg-type]


def _pick(path: Path, book: pc.CalamineWorkbook, requested: str | None, kind: str) -> tuple[str, _Loaded]:
    metas = [m for m in book.sheets_metadata if m.typ == pc.SheetTypeEnum.WorkSheet]
    names = [m.name for m in metas]
    if requested is not None:
        chosen = requested if requested in names else None
        if chosen is None:
            folded = [n for n in names if n.casefold() == requested.casefold()]
            chosen = folded[0] if len(folded) == 1 else None
        if chosen is None:
            raise InputError(
                f"no sheet named {requested!r}; the workbook has: {_names(names)}", file=str(path)
            )
        loaded = _load_rows(book, chosen, path, kind)
        if not _has_data(loaded.rows):
            raise InputError("the sheet is empty", file=str(path), sheet=chosen)
        return chosen, loaded
    with_data: list[tuple[str, _Loaded]] = []
    for meta in metas:
        if meta.visible != pc.SheetVisibleEnum.Visible:
            continue
        loaded = _load_rows(book, meta.name, path, kind)
        if _has_data(loaded.rows):
            with_data.append((meta.name, loaded))
    if not with_data:
        hidden = [
            m.name
            for m in metas
            if m.visible != pc.SheetVisibleEnum.Visible
            and _has_data(_load_rows(book, m.name, path, kind).rows)
        ]
        if hidden:
            raise InputError(
                f"no visible sheet holds data; hidden sheets with data: {_names(hidden)} (pass --sheet NAME)",
                file=str(path),
            )
        raise InputError("the file is empty (no sheet holds any value)", file=str(path))
    if len(with_data) > 1:
        raise InputError(
            f"the workbook has {len(with_data)} sheets with data ({_names([n for n, _ in with_data])}); pass "
            "--sheet NAME to say which one is the catalog",
            file=str(path),
        )
    return with_data[0]


_TEXT_KIND = pa.scalar("s", pa.large_string())
_NO_KIND = pa.scalar("", pa.large_string())


def sheet_columns(rows: list[list[object]], errors: dict[tuple[int, int], str]) -> tuple[pa.Table, pa.Table]:
    """Calamine's rows as columns of texts and of kinds (:func:`~.cells.cell_text`); ``errors`` (row,
    column) → text are error cells (``#REF!``, kind ``e``), which calamine reads as empty."""
    width = max(map(len, rows), default=0)
    if any(len(row) != width for row in rows):
        rows = [row + [""] * (width - len(row)) for row in rows]
    errors_by_column: dict[int, dict[int, str]] = {}
    for (r, c), text in errors.items():
        if r < len(rows) and c < width:
            errors_by_column.setdefault(c, {})[r] = text
    texts: list[pa.ChunkedArray] = []
    kinds: list[pa.ChunkedArray] = []
    for j, values in enumerate(zip(*rows, strict=True)):
        column_texts, column_kinds = _column(values, errors_by_column.get(j, {}))
        texts.append(column_texts)
        kinds.append(column_kinds)
    names = [f"f{j}" for j in range(width)]
    return pa.table(texts, names=names), pa.table(kinds, names=names)


def _column(values: tuple[object, ...], errors: dict[int, str]) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """One column's texts and kinds: a column of text cells (the common case) without a Python
    object per cell; any other, cell by cell."""
    texts = None if errors else _text_cells(values)
    if texts is not None:
        filled = pac.greater(pac.binary_length(texts), 0)
        return texts, pac.if_else(filled, _TEXT_KIND, _NO_KIND)
    pairs = [cell_text(value) for value in values]
    cell_texts = [text for text, _ in pairs]
    cell_kinds = [kind for _, kind in pairs]
    for r, text in errors.items():
        cell_texts[r], cell_kinds[r] = text, "e"
    return (
        pa.chunked_array([pa.array(cell_texts, type=pa.large_string())]),
        pa.chunked_array([pa.array(cell_kinds, type=pa.large_string())]),
    )


def _text_cells(values: tuple[object, ...]) -> pa.ChunkedArray | None:
    """The trimmed texts of a column of text cells only; ``None`` when any cell is something else
    (pyarrow refuses a number, a date or a boolean as text; ``None`` would become a null)."""
    try:
        array = pa.array(values, type=pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return None
    return text_column(array) if array.null_count == 0 else None


@contextmanager
def _without_gc() -> Iterator[None]:
    """The cyclic garbage collector paused: calamine's rows are a million new objects without cycles,
    and the collections their allocation triggers scan them again and again (half the time of
    ``to_python`` and of turning the rows into columns)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_workbook(path: Path, kind: str, sheet: str | None) -> WorkbookSheet:
    """Check, open and read one worksheet of a workbook into a text grid."""
    report = inspect_zip(path, kind) if kind in ("xlsx", "ods", "xlsb") else ZipReport()
    parts = xlsx_sheet_parts(path) if kind == "xlsx" else {}
    for name, part in parts.items():
        used = report.used_cells.get(part, 0)
        if used > limits.MAX_SHEET_CELLS:
            raise InputError(
                f"refused: the used range spans {used:,} cells (limit {limits.MAX_SHEET_CELLS:,}); delete the "
                "stray values far outside the table",
                file=str(path),
                sheet=name,
            )
    book = _open(path, kind)
    with _without_gc():
        try:
            name, loaded = _pick(path, book, sheet, kind)
        finally:
            book.close()
        sheet_part = parts.get(name)
        errors = _error_cells(path, sheet_part) if sheet_part and sheet_part in report.error_parts else {}
        texts, kinds = sheet_columns(loaded.rows, errors)
        loaded.rows.clear()  # the Python objects are no longer needed: free them before the frames are made
    grid = ColumnGrid(texts=texts, kinds=kinds)
    grid.merged = ods_merged_ranges(path, name) if kind == "ods" else loaded.merged
    if sheet_part and sheet_part in report.formula_parts:
        grid.valueless = _valueless_formulas(path, sheet_part)
    date1904 = workbook_date1904(path) if kind in ("xlsx", "ods", "xls") else None
    return WorkbookSheet(name=name, grid=grid, date1904=date1904)
