"""The workbook's date system (1900 or Mac 1904) is read from the file, or reported unknown."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from catalog_sync.sheets.workbook import read_workbook, workbook_date1904
from catalog_sync.sheets.xls_datemode import _datemode, xls_date1904


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
def test_libreoffice_ods_and_xls_keep_the_date_system(tmp_path, convert, mac: bool) -> None:
    src = _xlsx(tmp_path / f"book{int(mac)}.xlsx", mac=mac)
    ods = convert(src, "ods")
    assert workbook_date1904(ods) is mac
    assert read_workbook(ods, "ods", None).date1904 is mac
    xls = convert(src, "xls")  # a small Workbook stream: it lives in the CFB mini stream
    assert xls_date1904(xls) is mac
    assert read_workbook(xls, "xls", None).date1904 is mac
    # damaged compound files are "unknown", never a guess
    data = xls.read_bytes()
    for name, broken in {
        "truncated": data[:1024],
        "bad-signature": b"\0" * 8 + data[8:],
        "no-workbook-stream": data.replace("Workbook".encode("utf-16-le"), "Workbooq".encode("utf-16-le")),
    }.items():
        path = tmp_path / f"{name}.xls"
        path.write_bytes(broken)
        assert xls_date1904(path) is None, name


@pytest.mark.slow
@pytest.mark.libreoffice
def test_a_big_xls_reads_its_date_system_through_the_difat(tmp_path, convert) -> None:
    wb = Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.append(["title", "releaseDate", "description"])
    for i in range(40_000):  # > 109 FAT sectors: the DIFAT chain is followed
        ws.append([f"Title {i} " * 4, 45458, f"description {i} " * 12])
    wb.save(tmp_path / "big.xlsx")
    xls = convert(tmp_path / "big.xlsx", "xls")
    assert xls.stat().st_size > 109 * 128 * 512
    assert xls_date1904(xls) is True


def test_the_datemode_record_is_read_from_the_workbook_globals_only() -> None:
    def record(kind: int, payload: bytes = b"") -> bytes:
        return struct.pack("<HH", kind, len(payload)) + payload

    bof = record(0x0809, b"\x00\x06\x05\x00" + b"\x00" * 12)
    codepage = record(0x0042, b"\xb0\x04")
    assert _datemode(bof + codepage + record(0x0022, b"\x01\x00") + record(0x000A)) is True
    assert _datemode(bof + record(0x0022, b"\x00\x00") + record(0x000A)) is False
    # no DATEMODE before the globals' EOF: the 1900 system (a later sheet's bytes are not looked at)
    assert _datemode(bof + record(0x000A) + record(0x0022, b"\x01\x00")) is False
    assert _datemode(codepage + record(0x0022, b"\x01\x00")) is None  # not a BIFF stream
    assert _datemode(bof + record(0x0022, b"\x07\x00")) is None  # a value that is neither system
    assert _datemode(bof + codepage) is None  # cut short before its EOF
