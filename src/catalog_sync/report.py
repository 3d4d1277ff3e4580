"""Write tables (validation problems, apply results) as CSV, XLSX or JSON, and read them back.

Reports are opened in spreadsheet programs, so they are written defensively:

* CSV is UTF-8 with a BOM (Excel then reads accents right).
* Text that a spreadsheet would run as a formula (starting with ``= + - @``, tab or CR)
  gets a leading ``'``; plain numbers written as text (``-42``) and real numbers (Python
  ``int``/``float`` values) are left alone, so numbers stay numbers.  The guard is
  reversible: :func:`read_report` removes a ``'`` only where :func:`write_table` would
  have added one, so a report read back gives the original text.
* XLSX text cells are forced to the string type (never formulas), key columns are
  formatted as Text (``@``), statuses are coloured, and a ``summary`` sheet holds the
  run's counts.

A report is also an input (``apply --only failed --from REPORT``): :func:`read_report`
returns every cell as text, like a catalog sheet.

Reports are written atomically (a temporary file in the same folder, then ``os.replace``), so
a crash never leaves half a report.  :func:`check_output` refuses, before a run sends anything,
a report path that is a symbolic link or is one of the run's inputs (the catalog, plan, report
read back, mapping, schema files, state database) by file identity, so links count too.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pandas as pd

from catalog_sync.errors import ConfigError, InputError

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
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
SUFFIXES = (".csv", ".xlsx", ".json")


def _needs_guard(text: str) -> bool:
    bare = text.lstrip("'")
    return bare[:1] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.match(bare)


def neutralise(value: str) -> str:
    """``value`` made safe to open in a spreadsheet (a ``'`` before formula-like text)."""
    return "'" + value if _needs_guard(value) else value


def restore(value: str) -> str:
    """Undo :func:`neutralise`: drop a ``'`` only where one was added."""
    if value.startswith("'") and _needs_guard(value[1:]):
        return value[1:]
    return value


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
    rows: list[dict[str, Any]],
    path: str | Path,
    *,
    columns: list[str],
    text_columns: Iterable[str] = (),
    status_column: str | None = None,
    summary: dict[str, Any] | None = None,
    json_root: dict[str, Any] | None = None,
) -> Path:
    """Write ``rows`` (in ``columns`` order) to ``path``; the suffix picks CSV, XLSX or JSON."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ConfigError(f"report file {path} must end in .csv, .xlsx or .json")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_target(path) as temp:
            if suffix == ".json":
                root = json_root if json_root is not None else {"rows": rows, "summary": summary}
                text = json.dumps(root, ensure_ascii=False, indent=2, default=str) + "\n"
                temp.write_text(text, encoding="utf-8")
            elif suffix == ".csv":
                _write_csv(rows, temp, columns)
            else:
                _write_xlsx(rows, temp, columns, set(text_columns), status_column, summary)
    except OSError as exc:
        raise ConfigError(f"cannot write the report {path}: {exc.strerror or exc}") from None
    return path


def _write_csv(rows: Sequence[Mapping[str, Any]], path: Path, columns: list[str]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
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


def _write_xlsx(
    rows: Sequence[Mapping[str, Any]],
    path: Path,
    columns: list[str],
    text_columns: set[str],
    status_column: str | None,
    summary: Mapping[str, Any] | None,
) -> None:
    """Write the workbook's XML directly, streamed row by row.

    openpyxl spends ~12 µs per cell (a 200k-row apply report took ~35 s); the parts written
    here are the few a report needs: inline-string text cells (never formulas), numbers,
    a bold header, the Text format on key columns, status fills, a frozen header, widths.
    """
    table = [[_cell(row.get(name)) for name in columns] for row in rows]
    widths = []
    for j, name in enumerate(columns):
        longest = max((len(str(r[j])) for r in table if r[j] is not None), default=0)
        widths.append(max(len(name), min(longest, 60)) + 2)
    text = [name in text_columns for name in columns]
    status = columns.index(status_column) if status_column in columns else -1
    fills = list(STATUS_COLOURS)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        sheets = [REPORT_SHEET] + ([SUMMARY_SHEET] if summary is not None else [])
        for name, body in _package_parts(sheets).items():
            zf.writestr(name, body)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            out.write(_sheet_head(widths, freeze=True))
            out.write(_xml_row(1, [neutralise(c) for c in columns], lambda j, v: _STYLE_BOLD))

            def style(j: int, value: Any) -> int:
                fill = (
                    fills.index(value) + 1 if j == status and isinstance(value, str) and value in fills else 0
                )
                return _STYLE_BASE + 2 * fill + (1 if text[j] else 0)

            for i, values in enumerate(table, 2):
                out.write(_xml_row(i, values, style))
            out.write("</sheetData></worksheet>")
            out.flush()
            out.detach()
        if summary is not None:
            items = [(neutralise(k), _cell(v)) for k, v in _flatten(summary)]
            lines = [_xml_row(1, ["item", "value"], lambda j, v: _STYLE_BOLD)]
            lines += [_xml_row(i, list(item), lambda j, v: 0) for i, item in enumerate(items, 2)]
            zf.writestr(
                "xl/worksheets/sheet2.xml",
                _sheet_head([30, 30], freeze=False) + "".join(lines) + "</sheetData></worksheet>",
            )


_STYLE_BOLD = 1
_STYLE_BASE = 2  # then pairs (plain, text) per fill: none, then each STATUS_COLOURS entry
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def _col_letter(j: int) -> str:
    from catalog_sync.sheets.model import column_letter

    return column_letter(j)


def _xml_row(i: int, values: Sequence[Any], style: Callable[[int, Any], int]) -> str:
    from xml.sax.saxutils import escape

    from catalog_sync.sheets.writers import xlsx_text

    cells = []
    for j, value in enumerate(values):
        s = style(j, value)
        ref = f"{_col_letter(j)}{i}"
        attr = f' s="{s}"' if s else ""
        if value is None or value == "":
            if s:
                cells.append(f'<c r="{ref}"{attr}/>')
        elif isinstance(value, str):
            cells.append(
                f'<c r="{ref}"{attr} t="inlineStr"><is><t xml:space="preserve">{escape(xlsx_text(value))}</t></is></c>'
            )
        elif isinstance(value, float) and not math.isfinite(value):
            cells.append(f'<c r="{ref}"{attr} t="inlineStr"><is><t>{value!r}</t></is></c>')
        else:
            cells.append(f'<c r="{ref}"{attr}><v>{value!r}</v></c>')
    return f'<row r="{i}">{"".join(cells)}</row>'


def _sheet_head(widths: Sequence[float], *, freeze: bool) -> str:
    cols = "".join(f'<col min="{j}" max="{j}" width="{w}" customWidth="1"/>' for j, w in enumerate(widths, 1))
    pane = '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>' if freeze else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN}">'
        f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>'
        f"<cols>{cols}</cols><sheetData>"
    )


def _styles() -> str:
    fills = [
        '<fill><patternFill patternType="none"/></fill>',
        '<fill><patternFill patternType="gray125"/></fill>',
    ]
    fills += [
        f'<fill><patternFill patternType="solid"><fgColor rgb="FF{c}"/><bgColor rgb="FF{c}"/></patternFill></fill>'
        for c in STATUS_COLOURS.values()
    ]
    xfs = [
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>',
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" applyFont="1"/>',
    ]
    for fill in range(len(STATUS_COLOURS) + 1):
        fill_id = 0 if fill == 0 else fill + 1
        for num in (0, 49):  # 49 = '@' (Text)
            flags = (' applyNumberFormat="1"' if num else "") + (' applyFill="1"' if fill_id else "")
            xfs.append(f'<xf numFmtId="{num}" fontId="0" fillId="{fill_id}" borderId="0"{flags}/>')
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{_MAIN}">'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        f'<fills count="{len(fills)}">{"".join(fills)}</fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
    )


def _package_parts(sheets: list[str]) -> dict[str, str]:
    """The fixed parts of a workbook with the given sheet names (sheet1.xml, sheet2.xml, …)."""
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    sheet_types = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in range(1, len(sheets) + 1)
    )
    return {
        "[Content_Types].xml": head
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{sheet_types}</Types>",
        "_rels/.rels": head + f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": head
        + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        + "".join(f'<sheet name="{n}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(sheets, 1))
        + "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": head
        + f'<Relationships xmlns="{_PKG}">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        + f'<Relationship Id="rId{len(sheets) + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml": _styles(),
    }


def read_report(path: str | Path) -> pd.DataFrame:
    """A report written by :func:`write_table` as a DataFrame of text ('' for empty cells)."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8-sig")
        elif suffix == ".xlsx":
            df = _read_xlsx(path)
        elif suffix == ".json":
            df = _read_json(path)
        else:
            raise InputError("a report must be a .csv, .xlsx or .json file", file=str(path))
    except (OSError, ValueError, KeyError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"cannot read the report: {exc}", file=str(path)) from exc
    if suffix == ".json":  # JSON is never opened by a spreadsheet, so it is written as is
        return df
    df.columns = [restore(str(c)) for c in df.columns]
    return df.map(lambda v: restore(v) if isinstance(v, str) else v).astype(object)


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
    values = [[_text(v) for v in row] for row in raw]
    if not values:
        return pd.DataFrame()
    header = values[0]
    width = len(header)
    body = [r[:width] + [""] * (width - len(r)) for r in values[1:] if any(r)]
    return pd.DataFrame(body, columns=header, dtype=object)


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
