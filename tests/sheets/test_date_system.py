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


def _cfb_v4(stream: bytes) -> bytes:
    """A minimal version-4 compound file (4096-byte sectors) holding one ``Workbook`` stream."""
    size, end, free = 4096, 0xFFFFFFFE, 0xFFFFFFFF
    n = -(-len(stream) // size)  # the stream's sectors: 2 .. n + 1 (0 is the FAT, 1 the directory)
    fat = [0xFFFFFFFD, end] + [s + 1 for s in range(2, n + 1)] + [end]
    fat += [free] * (size // 4 - len(fat))
    header = bytearray(size)
    header[:8] = bytes.fromhex("d0cf11e0a1b11ae1")
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 4, 0xFFFE, 12, 6)
    struct.pack_into("<IIIIIIIII", header, 0x28, 1, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([free] * 108))

    def entry(name: str, kind: int, start: int, length: int) -> bytes:
        raw = bytearray(128)
        encoded = (name + "\0").encode("utf-16-le")
        raw[: len(encoded)] = encoded
        struct.pack_into("<HB", raw, 64, len(encoded), kind)
        struct.pack_into("<III", raw, 68, free, free, free)
        struct.pack_into("<II", raw, 116, start, length)
        return bytes(raw)

    directory = entry("Root Entry", 5, end, 0) + entry("Workbook", 2, 2, len(stream))
    body = struct.pack(f"<{size // 4}I", *fat) + directory.ljust(size, b"\0") + stream.ljust(n * size, b"\0")
    return bytes(header) + body


@pytest.mark.parametrize("mode", [0, 1])
def test_a_version_4_compound_file_with_4096_byte_sectors(tmp_path, mode: int) -> None:
    def record(kind: int, payload: bytes = b"") -> bytes:
        return struct.pack("<HH", kind, len(payload)) + payload

    padding = record(0x0293, b"\0" * 3000) * 2  # DATEMODE lands in the stream's second sector
    stream = (
        record(0x0809, b"\x00\x06\x05\x00" + b"\0" * 12) + padding + record(0x0022, struct.pack("<H", mode))
    )
    path = tmp_path / "v4.xls"
    path.write_bytes(_cfb_v4(stream + record(0x000A)))
    assert xls_date1904(path) is bool(mode)
