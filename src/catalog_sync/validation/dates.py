"""Excel date serials: the calendar arithmetic, and converting the certain ones in workbooks.

A workbook whose date column lost its date format shows ``45458`` where the user typed
2024-06-15.  When the serial is stored in a *number cell* of a ``type: date`` column and the
workbook's date system is known (1900 or Mac 1904, read from the file), the date is
certain: :func:`convert_date_serials` rewrites the cell to the ISO date (kind ``d``) before
any check runs, so validation, plan and apply all see the date, and leaves an
``excel-damage`` warning on the cell saying so.

Not converted (``excel_damage`` then reports them as errors, with the date suggested where
there is one): serials in text cells or CSV (the date system is unknown there), workbooks
whose date system cannot be read (xlsb, a damaged file), years (1900–2100), the fictitious 1900-02-29
(serial 60), serials before 1900-03-01 in the 1900 system (Excel and LibreOffice count those
days differently) and serials beyond 9999-12-31.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from catalog_sync.problems import Problem
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import FieldSpec, ProviderSpec

NUMBER = r"\d+(\.\d+)?"  # a non-negative decimal as number cells are rendered (cells.number_text)
YEARS = (1900, 2100)  # a number cell in this range in a date column is a year, not a serial
_MAX_DAY = date(9999, 12, 31)
_EPOCH_1904 = date(1904, 1, 1)
_FIRST_CERTAIN_1900 = 61  # 1900-03-01: from here on Excel and LibreOffice agree on the 1900 serials


def excel_serial_to_date(serial: float, date1904: bool = False) -> date | None:
    """Calendar date of an Excel serial (its day part).

    1900 system: serial 1 = 1900-01-01, and 60 (the fictitious 1900-02-29) and anything
    below 1 give ``None``.  1904 system: serial 0 = 1904-01-01, no leap-year bug.
    ``None`` too beyond 9999-12-31.
    """
    day = int(serial)
    if date1904:
        if day < 0 or day > (_MAX_DAY - _EPOCH_1904).days:
            return None
        return _EPOCH_1904 + timedelta(days=day)
    if day < 1 or day == 60 or day > (_MAX_DAY - date(1899, 12, 30)).days:
        return None
    # Excel counts 1900-02-29, which never existed: serials after it are one day ahead.
    base = date(1899, 12, 31) if day < 60 else date(1899, 12, 30)
    return base + timedelta(days=day)


def sheet_date1904(sheet: Sheet) -> bool | None:
    """The date system of a workbook sheet (True 1904, False 1900); ``None`` for CSV or unknown."""
    if sheet.kinds is None:
        return None
    if sheet.date1904:
        return True
    from catalog_sync.sheets.workbook import workbook_date1904  # the reader pulls in calamine

    return workbook_date1904(sheet.path)


def _time_of_day(serial: float) -> str:
    seconds = round((serial - int(serial)) * 86400)
    hours, rest = divmod(min(seconds, 86399), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _candidates(sheet: Sheet, field: FieldSpec) -> pd.Series:
    """Numbers of the number cells of a date column that are not years (others are NaN)."""
    assert sheet.kinds is not None
    values = sheet.data[field.name].astype(str)
    kinds = sheet.kinds[field.name].astype(str).reindex(values.index, fill_value="")
    numeric = values.str.fullmatch(NUMBER).fillna(False).astype(bool) & (kinds == "n")
    if not numeric.any():
        return pd.Series(np.nan, index=values.index)
    numbers = pd.to_numeric(values.where(numeric, None), errors="coerce")
    return numbers.where(~numbers.between(*YEARS))


def convert_date_serials(sheet: Sheet, spec: ProviderSpec) -> list[Problem]:
    """Rewrite the certain date serials of ``sheet``'s date columns in place; one warning per cell.

    Changes ``sheet.data`` (ISO date) and ``sheet.kinds`` (``d``) of each converted cell, so
    running it again finds nothing more; ``sheet.date1904`` is set from the file when read.
    """
    if sheet.kinds is None:
        return []
    fields = [
        f for f in spec.fields if f.type == "date" and not f.identifier and f.name in sheet.data.columns
    ]
    found: list[Problem] = []
    system: bool | str | None = "unread"  # read from the file only when a candidate shows up
    for field in fields:
        if field.name not in sheet.kinds.columns:
            continue
        numbers = _candidates(sheet, field).dropna()
        if numbers.empty:
            continue
        if system == "unread":
            system = sheet_date1904(sheet)
        if system is None:
            return []
        sheet.date1904 = bool(system)
        days: dict[int, date | None] = {}
        rows: list[int] = []
        isos: list[str] = []
        values = sheet.data[field.name]
        for label, serial in numbers.items():
            row = int(label)  # the index holds row numbers
            whole = int(serial)
            if whole not in days:
                days[whole] = excel_serial_to_date(whole, bool(system))
            day = days[whole]
            if day is None or (not system and whole < _FIRST_CERTAIN_1900):
                continue
            found.append(_converted(sheet, field, row, str(values[row]), float(serial), day, bool(system)))
            rows.append(row)
            isos.append(day.isoformat())
        if rows:
            sheet.data.loc[rows, field.name] = isos
            sheet.kinds.loc[rows, field.name] = "d"
    return found


def _converted(
    sheet: Sheet, field: FieldSpec, row: int, value: str, serial: float, day: date, date1904: bool
) -> Problem:
    iso = day.isoformat()
    epoch = " (1904 date system)" if date1904 else ""
    if serial.is_integer():
        what = f"{field.name} {value} was an Excel date serial{epoch}; read as {iso}"
    else:
        what = (
            f"{field.name} {value} was an Excel date-and-time serial{epoch}; read as {iso} (the time of day, "
            f"{_time_of_day(serial)}, is dropped: {field.name} holds a date)"
        )
    return Problem(
        code="excel-damage",
        message=f"{what} — format the column as Date (or Text) in the sheet to silence this",
        severity="warning",
        sheet=sheet.display_name,
        cell=sheet.cell(row, field.name),
        row=row,
        column=field.name,
        value=value,
        extra={"converted": iso},
    )
