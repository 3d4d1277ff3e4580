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
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping, Sequence
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
        if suffix == ".json":
            root = json_root if json_root is not None else {"rows": rows, "summary": summary}
            text = json.dumps(root, ensure_ascii=False, indent=2, default=str) + "\n"
            path.write_text(text, encoding="utf-8")
        elif suffix == ".csv":
            _write_csv(rows, path, columns)
        else:
            _write_xlsx(rows, path, columns, set(text_columns), status_column, summary)
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
    """A streamed (write-only) workbook: big reports stay fast and small in memory."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(REPORT_SHEET)
    bold = Font(bold=True)
    fills = {k: PatternFill("solid", start_color=v, end_color=v) for k, v in STATUS_COLOURS.items()}
    table = [[_cell(row.get(name)) for name in columns] for row in rows]
    for j, name in enumerate(columns):
        longest = max((len(str(r[j])) for r in table if r[j] is not None), default=0)
        width = max(len(name), min(longest, 60)) + 2
        ws.column_dimensions[get_column_letter(j + 1)].width = width
    ws.freeze_panes = "A2"
    ws.append([_put(ws, neutralise(name), font=bold) for name in columns])
    text = [name in text_columns for name in columns]
    status = columns.index(status_column) if status_column in columns else -1
    for values in table:
        out = []
        for j, value in enumerate(values):
            fill = fills.get(value) if j == status and isinstance(value, str) else None
            if text[j] or fill is not None or isinstance(value, str):
                out.append(_put(ws, value, text=text[j], fill=fill))
            else:
                out.append(value)
        ws.append(out)
    if summary is not None:
        ss = wb.create_sheet(SUMMARY_SHEET)
        ss.column_dimensions["A"].width = 30
        ss.column_dimensions["B"].width = 30
        ss.append([_put(ss, "item", font=bold), _put(ss, "value", font=bold)])
        for key, value in _flatten(summary):
            ss.append([_put(ss, neutralise(key)), _put(ss, _cell(value))])
    wb.save(path)


def _put(ws: Any, value: Any, *, text: bool = False, fill: Any = None, font: Any = None) -> Any:
    """A write-only cell; text is stored as a string cell (never a formula or an error value)."""
    from openpyxl.cell import WriteOnlyCell

    from catalog_sync.sheets.writers import xlsx_text

    if isinstance(value, str):
        cell = WriteOnlyCell(ws, value=xlsx_text(value) or None)
        if value:
            cell.data_type = "s"
    else:
        cell = WriteOnlyCell(ws, value=value)
    if text:
        cell.number_format = "@"
    if fill is not None:
        cell.fill = fill
    if font is not None:
        cell.font = font
    return cell


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
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb[REPORT_SHEET] if REPORT_SHEET in wb.sheetnames else wb.worksheets[0]
        values = [[_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    if not values:
        return pd.DataFrame()
    header = values[0]
    width = len(header)
    # a streamed workbook leaves trailing empty cells out of a row: pad every row to the header
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
