"""The workbook's date system (1900 or Mac 1904) is read from the file, or reported unknown."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from catalog_sync.sheets.workbook import read_workbook, workbook_date1904


def _xlsx(path: Path, *, mac: bool) -> Path:
    wb = Workbook()
    if mac:
        wb.epoch = CALENDAR_MAC_1904
    wb.active.append(["title", "releaseDate"])
    wb.active.append(["A", 45458])
    wb.save(path)
    return path


@pytest.mark.parametrize("mac", [False, True])
def test_xlsx_date_system_comes_from_workbook_pr(tmp_path, mac: bool) -> None:
    path = _xlsx(tmp_path / "book.xlsx", mac=mac)
    assert workbook_date1904(path) is mac
    assert read_workbook(path, "xlsx", None).date1904 is mac


def test_unknown_for_csv_missing_files_and_a_hand_edited_workbook_part(tmp_path) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text("title\nA\n", encoding="utf-8")
    assert workbook_date1904(csv) is None
    assert workbook_date1904(tmp_path / "missing.xlsx") is None
    # a workbook.xml that is not XML: unknown, not "1900"
    src = _xlsx(tmp_path / "ok.xlsx", mac=True)
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(broken, "w") as zout:
        for info in zin.infolist():
            data = b"<workbook" if info.filename == "xl/workbook.xml" else zin.read(info)
            zout.writestr(info, data)
    assert workbook_date1904(broken) is None


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.parametrize("mac", [False, True])
def test_libreoffice_ods_keeps_the_date_system_and_xls_is_unknown(tmp_path, convert, mac: bool) -> None:
    src = _xlsx(tmp_path / f"book{int(mac)}.xlsx", mac=mac)
    ods = convert(src, "ods")
    assert workbook_date1904(ods) is mac
    assert read_workbook(ods, "ods", None).date1904 is mac
    xls = convert(src, "xls")
    assert workbook_date1904(xls) is None
    assert read_workbook(xls, "xls", None).date1904 is None
