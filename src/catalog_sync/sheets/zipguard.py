"""Check a zip-based workbook (xlsx, xlsm, ods) before any parser touches it.

Refused, each with one message: a damaged or truncated zip; encrypted members; declared
sizes beyond :data:`limits.MAX_UNCOMPRESSED_BYTES` or a big member inflating more than
:data:`limits.MAX_COMPRESSION_RATIO` times (zip bombs); members that inflate beyond what
they declare; any XML member with a ``<!DOCTYPE`` or ``<!ENTITY`` declaration (billion
laughs, external entities); an xlsx worksheet whose used range spans more than
:data:`limits.MAX_SHEET_CELLS` cells (a stray value in XFD1048576 would otherwise make the
parser allocate billions of cells).  Every member is streamed in chunks, so the check
itself never holds a whole member in memory.

The same pass notes which worksheet parts hold error cells (``t="e"``), which the
workbook reader then recovers (calamine returns them as empty).
"""

from __future__ import annotations

import functools
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path, PurePosixPath

from catalog_sync.errors import InputError
from catalog_sync.sheets import limits
from catalog_sync.sheets.detect import damaged

_XML_SUFFIXES = (".xml", ".rels", ".vml")
_DECLARATION = re.compile(rb"<!\s*(?:doctype|entity)", re.IGNORECASE)
# Cheap upper bound of a worksheet's extent: row numbers and the column letters of any cell.
# ``row`` is matched without its ``<`` or namespace prefix: a superset of the row elements (text
# that looks like one only raises the bound) found 5x faster (the literal starts the search).
_ROW = re.compile(rb'row\s[^>]*?\br="([0-9]{1,7})"')
_COLUMN = re.compile(rb' r="([A-Z]{1,3})[0-9]')
# Exact: a cell with a value (not self-closing) and its A1 reference; namespace prefix allowed.
_CELL = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*(?<!/)>')
_ERROR_CELL = re.compile(rb'<(?:\w+:)?c\s[^>]*\bt="e"')
# A formula with no saved result (written by a program that does not calculate, e.g. openpyxl).
_EMPTY_FORMULA = re.compile(
    rb"(?:</(?:\w+:)?f>|<(?:\w+:)?f\b[^>]*/>)\s*(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>|</(?:\w+:)?c>)"
)
_TAIL = 256


def _may_hold_formula(window: bytes) -> bool:
    """False only when ``window`` has no formula element (``</f>``, ``<f/>``, ``<f …``): the formula
    scan is skipped on the windows of a sheet without formulas (a second per 100k rows)."""
    return b"f>" in window or b"f/>" in window or b"f " in window


@dataclass
class ZipReport:
    """What the scan found that the reader needs."""

    error_parts: set[str] = field(default_factory=set)
    formula_parts: set[str] = field(default_factory=set)  # worksheet parts with formulas lacking a value
    used_cells: dict[str, int] = field(
        default_factory=dict
    )  # worksheet part -> cells from A1 to the last value


def column_index(letters: bytes) -> int:
    """Spreadsheet letters → 0-based column index (b"A" → 0, b"AA" → 26)."""
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


def _stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int], path: Path) -> Iterator[bytes]:
    """Yield a member's bytes in chunks, enforcing its declared size and the total budget."""
    seen = 0
    with zf.open(info) as fh:
        while chunk := fh.read(limits.CHUNK_BYTES):
            seen += len(chunk)
            budget[0] -= len(chunk)
            if seen > info.file_size or budget[0] < 0:
                raise InputError(
                    f"refused: {info.filename} inflates beyond its declared size or the "
                    f"{limits.MAX_UNCOMPRESSED_BYTES / 2**20:,.0f} MB limit (a zip bomb?)",
                    file=str(path),
                )
            yield chunk


def _check_declared(infos: list[zipfile.ZipInfo], path: Path) -> None:
    total = sum(i.file_size for i in infos)
    if total > limits.MAX_UNCOMPRESSED_BYTES:
        raise InputError(
            f"refused: the workbook would inflate to {total / 2**20:,.0f} MB (limit "
            f"{limits.MAX_UNCOMPRESSED_BYTES / 2**20:,.0f} MB); a zip bomb or an oversized workbook",
            file=str(path),
        )
    for info in infos:
        if info.flag_bits & 0x1:
            raise InputError(
                "the workbook is encrypted (password-protected); save a copy without a password",
                file=str(path),
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.RATIO_CHECK_MIN_BYTES and ratio > limits.MAX_COMPRESSION_RATIO:
            raise InputError(
                f"refused: {info.filename} inflates {ratio:,.0f} times ({info.file_size / 2**20:,.0f} MB); "
                "a zip bomb?",
                file=str(path),
            )


class _Extent:
    """Running (last row, column letters) of a worksheet part, fed chunk by chunk."""

    def __init__(self, exact: bool) -> None:
        self.exact = exact
        self.last_row = 0
        self.width = 0  # columns from A to the widest seen

    def feed(self, window: bytes) -> None:
        if self.exact:
            found = _CELL.findall(window)
            if found:
                self._widen(map(itemgetter(0), found))
                self.last_row = max(self.last_row, max(map(int, map(itemgetter(1), found))))
            return
        self._widen(_beyond(self.width).findall(window))
        rows = _ROW.findall(window)
        if rows:
            self.last_row = max(self.last_row, max(map(int, rows)))

    def _widen(self, letters: Iterable[bytes]) -> None:
        self.width = max(self.width, max((column_index(c) + 1 for c in set(letters)), default=0))

    @property
    def cells(self) -> int:
        """Cells from A1 to the last row and column (what a padded grid would hold)."""
        return self.last_row * self.width


@functools.lru_cache(maxsize=64)
def _beyond(width: int) -> re.Pattern[bytes]:
    """The column letters of cell references wider than ``width`` columns (all of them for 0):
    a sheet's cells, once its width is known, are scanned for wider ones only (2x faster than
    collecting every cell's letters); from two letters on, every multi-letter reference."""
    if width == 0:
        return _COLUMN
    if width >= 26:
        return re.compile(rb' r="([A-Z]{2,3})[0-9]')
    return re.compile(rb' r="([' + bytes([65 + width]) + rb"-Z]|[A-Z]{2,3})[0-9]")


def _scan_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int], path: Path, report: ZipReport
) -> None:
    is_sheet = PurePosixPath(info.filename).parent.as_posix() == "xl/worksheets"
    extent = _Extent(exact=False)
    tail = b""
    for chunk in _stream(zf, info, budget, path):
        window = tail + chunk
        if b"<!" in window and _DECLARATION.search(window):
            raise InputError(
                f"refused: the workbook contains XML entity declarations (<!DOCTYPE/<!ENTITY in "
                f"{info.filename}); no spreadsheet program writes them. Open and re-save the file in Excel or "
                "LibreOffice",
                file=str(path),
            )
        if is_sheet:
            if b't="e"' in window and _ERROR_CELL.search(window):
                report.error_parts.add(info.filename)
            if _may_hold_formula(window) and _EMPTY_FORMULA.search(window):
                report.formula_parts.add(info.filename)
            extent.feed(window)
        tail = window[-_TAIL:]
    if not is_sheet:
        return
    if extent.cells > limits.MAX_SHEET_CELLS:
        # The cheap bound counts rows and cells that are only styled; count cells with values.
        budget[0] += info.file_size
        extent = _Extent(exact=True)
        tail = b""
        for chunk in _stream(zf, info, budget, path):
            extent.feed(tail + chunk)
            tail = (tail + chunk)[-_TAIL:]
    report.used_cells[info.filename] = extent.cells


def inspect_zip(path: Path, kind: str) -> ZipReport:
    """Run every check above; raise :class:`InputError` on the first failure."""
    report = ZipReport()
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > 10_000:
                raise InputError(f"refused: the workbook has {len(infos):,} parts", file=str(path))
            _check_declared(infos, path)
            budget = [limits.MAX_UNCOMPRESSED_BYTES]
            for info in infos:
                if info.filename.lower().endswith(_XML_SUFFIXES):
                    _scan_member(zf, info, budget, path, report)
    except InputError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise damaged(path, kind, str(exc) or type(exc).__name__) from None
    return report
