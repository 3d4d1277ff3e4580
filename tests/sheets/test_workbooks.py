"""Workbooks (xlsx, xlsm, xls, ods) read as text, with kinds, true row numbers and sheet choice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from catalog_sync.errors import InputError
from catalog_sync.sheets import load_sheet


def typed_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Catalog"
    ws.append(["upc", "price", "big", "released", "stamp", "midnight", "at", "flag", "err", "text"])
    ws.append(
        [
            12345678905,
            1.5,
            123456789012345678,
            dt.date(2024, 1, 31),
            dt.datetime(2024, 1, 31, 8, 30, 5),
            dt.datetime(2024, 2, 1),
            dt.time(8, 30),
            True,
            "#N/A",
            "  012345678905  ",
        ]
    )
    ws.append([17.0, 0.1, 1e20, None, None, None, None, False, "#DIV/0!", "NA"])
    ws["C3"].value = 1e20
    wb.save(path)
    return path


def test_xlsx_cells_come_back_as_the_text_a_user_sees(tmp_path):
    sheet = load_sheet(typed_workbook(tmp_path / "typed.xlsx"))
    assert sheet.sheet_name == "Catalog"
    assert sheet.data.loc[2].tolist() == [
        "12345678905",
        "1.5",
        "123456789012345700",
        "2024-01-31",
        "2024-01-31T08:30:05",
        "2024-02-01",
        "08:30:00",
        "TRUE",
        "#N/A",
        "012345678905",
    ]
    assert sheet.data.loc[3].tolist() == [
        "17",
        "0.1",
        "100000000000000000000",
        "",
        "",
        "",
        "",
        "FALSE",
        "#DIV/0!",
        "NA",
    ]
    assert sheet.kinds is not None
    assert sheet.kinds.loc[2].tolist() == ["n", "n", "n", "d", "d", "d", "d", "b", "e", "s"]
    assert sheet.kinds.loc[3].tolist() == ["n", "n", "n", "", "", "", "", "b", "e", "s"]
    assert all(isinstance(v, str) for v in sheet.data.to_numpy().ravel())
    assert sheet.problems == []


def test_xlsm_is_read_like_xlsx(tmp_path):
    path = typed_workbook(tmp_path / "typed.xlsx")
    macro = path.rename(tmp_path / "typed.xlsm")
    assert load_sheet(macro).data.loc[2, "upc"] == "12345678905"


def test_header_below_blank_rows_and_right_of_blank_columns_keeps_true_addresses(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["C3"], ws["D3"] = "upc", "title"
    ws["C4"], ws["D4"] = "001", "first"
    ws["C6"], ws["D6"] = "002", "after a blank row"
    ws["D9"].font = openpyxl.styles.Font(bold=True)  # styled but empty: not data
    ws["Z2"].number_format = "@"
    path = tmp_path / "offset.xlsx"
    wb.save(path)
    sheet = load_sheet(path)
    assert list(sheet.rows) == [4, 6]
    assert sheet.letters == ["C", "D"]
    assert sheet.cell(6, "title") == "D6"
    assert sheet.data.loc[6, "upc"] == "002"
    assert sheet.headers == ["", "", "upc", "title"]


def _two_sheets(path: Path, *, hidden_second: bool = False, second_empty: bool = False) -> Path:
    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "Products"
    first.append(["upc", "title"])
    first.append(["1", "one"])
    second = wb.create_sheet("Lists")
    if not second_empty:
        second.append(["status"])
        second.append(["active"])
    if hidden_second:
        second.sheet_state = "hidden"
    wb.create_sheet("Empty")
    wb.save(path)
    return path


def test_several_sheets_with_data_need_sheet_and_the_error_lists_them(tmp_path):
    path = _two_sheets(tmp_path / "two.xlsx")
    with pytest.raises(InputError, match=r"2 sheets with data \('Products', 'Lists'\); pass --sheet"):
        load_sheet(path)
    assert load_sheet(path, sheet="Lists").data.loc[2, "status"] == "active"
    assert load_sheet(path, sheet="products").sheet_name == "Products"  # case-insensitive when unique


def test_unknown_sheet_name_lists_the_sheets(tmp_path):
    path = _two_sheets(tmp_path / "two.xlsx")
    with pytest.raises(
        InputError, match=r"no sheet named 'Nope'; the workbook has: 'Products', 'Lists', 'Empty'"
    ):
        load_sheet(path, sheet="Nope")
    with pytest.raises(InputError, match=r"sheet 'Empty'.*the sheet is empty"):
        load_sheet(path, sheet="Empty")


def test_one_sheet_with_data_is_used_and_hidden_sheets_are_ignored(tmp_path):
    assert load_sheet(_two_sheets(tmp_path / "a.xlsx", second_empty=True)).sheet_name == "Products"
    assert load_sheet(_two_sheets(tmp_path / "b.xlsx", hidden_second=True)).sheet_name == "Products"


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.parametrize("target", ["xls", "ods"])
def test_xls_and_ods_written_by_libreoffice(tmp_path, convert, target):
    out = convert(typed_workbook(tmp_path / "typed.xlsx"), target)
    sheet = load_sheet(out)
    assert sheet.sheet_name == "Catalog"
    row = sheet.data.loc[2]
    assert row["upc"] == "12345678905" and sheet.kinds.loc[2, "upc"] == "n"
    assert row["price"] == "1.5"
    assert row["released"] == "2024-01-31" and sheet.kinds.loc[2, "released"] == "d"
    assert row["stamp"] == "2024-01-31T08:30:05"
    if target == "xls":
        assert row["flag"] == "TRUE" and sheet.kinds.loc[2, "flag"] == "b"
        assert sheet.data.loc[2, "big"] == "123456789012345700"
    else:  # LibreOffice stores an imported Excel boolean as the formula =TRUE() with the number 1
        assert row["flag"] == "1" and sheet.kinds.loc[2, "flag"] == "n"
        assert sheet.data.loc[2, "big"] == "123456789012346000"  # ODS keeps 15 significant digits
    # calamine returns error cells of xls/ods as empty; only xlsx error cells are recovered
    assert row["err"] == "" and sheet.kinds.loc[2, "err"] == ""
    assert row["text"] == "012345678905" and sheet.kinds.loc[2, "text"] == "s"
    assert sheet.data.loc[3, "big"] == "100000000000000000000"
    assert sheet.data.loc[3, "text"] == "NA"


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_mangles_a_csv_and_the_loader_reports_the_facts(tmp_path, convert):
    src = tmp_path / "catalog.csv"
    src.write_text("upc,released,title\n012345678905,2024-01-31,Song\n000000000017,2023-12-01,NA\n")
    sheet = load_sheet(convert(src, "xlsx", infilter="CSV:44,34,76,1"))
    assert sheet.data.loc[2, "upc"] == "12345678905"  # the leading zero is gone: LibreOffice made it a number
    assert sheet.kinds.loc[2, "upc"] == "n"
    assert sheet.data.loc[3, "upc"] == "17"
    assert sheet.data["released"].tolist() == ["2024-01-31", "2023-12-01"]
    assert sheet.kinds["released"].tolist() == ["d", "d"]
    assert sheet.data.loc[3, "title"] == "NA"


def test_only_hidden_sheets_with_data_are_named_in_the_error(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Visible"
    hidden = wb.create_sheet("Secret")
    hidden.append(["upc"])
    hidden.append(["1"])
    hidden.sheet_state = "hidden"
    path = tmp_path / "hidden.xlsx"
    wb.save(path)
    with pytest.raises(InputError, match=r"no visible sheet holds data; hidden sheets with data: 'Secret'"):
        load_sheet(path)
    assert load_sheet(path, sheet="Secret").data.loc[2, "upc"] == "1"


def test_mac_1904_date_system_gives_the_right_dates(tmp_path):
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    wb = openpyxl.Workbook()
    wb.epoch = CALENDAR_MAC_1904
    wb.active.append(["released"])
    wb.active.append([dt.date(2024, 1, 31)])
    path = tmp_path / "mac.xlsx"
    wb.save(path)
    sheet = load_sheet(path)
    assert sheet.data.loc[2, "released"] == "2024-01-31"
    assert sheet.kinds.loc[2, "released"] == "d"


def test_cached_formula_errors_and_values_read_as_shown(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["upc", "calc"])
    wb.active.append(["1", "x"])
    path = tmp_path / "formula.xlsx"
    wb.save(path)
    # Excel stores the last computed result next to each formula; write two such cells by hand.
    import zipfile

    with zipfile.ZipFile(path) as zin:
        parts = {i.filename: zin.read(i) for i in zin.infolist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    start = xml.index('<c r="B2"')
    end = xml.index("</c>", start) + 4
    xml = (
        xml[:start]
        + '<c r="B2" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="C2"><f>2*3</f><v>6</v></c>'
        + xml[end:]
    )
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)
    sheet = load_sheet(path)
    assert sheet.data.loc[2, "calc"] == "#DIV/0!"
    assert sheet.kinds.loc[2, "calc"] == "e"
    assert [p.code for p in sheet.problems] == ["empty-header"]  # C2 has a value but no header
