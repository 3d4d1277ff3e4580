"""Hostile and broken files: one clear message each, no traceback, in small memory (how fast is `make bench`'s to say).

Big or dangerous files are generated here at test time, never committed.
"""

from __future__ import annotations

import base64
import os
import struct
import zipfile
from pathlib import Path

import openpyxl
import pytest

from catalog_sync.errors import InputError
from catalog_sync.sheets import limits, load_sheet

FIELDS = ["upc", "title"]


def small_xlsx(path: Path, rows: int = 3) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["upc", "title"])
    for n in range(rows):
        ws.append([f"{n:012d}", f"title {n}"])
    wb.save(path)
    return path


def rewrite_member(src: Path, dst: Path, member: str, data: bytes | None = None, *, chunks=None) -> Path:
    """Copy an xlsx replacing one member (by bytes, or by an iterable of chunks streamed in)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != member:
                zout.writestr(info, zin.read(info))
        if chunks is None:
            zout.writestr(member, data or b"")
        else:
            with zout.open(member, "w", force_zip64=True) as fh:
                for chunk in chunks:
                    fh.write(chunk)
    return dst


def load_error(path: Path, **kwargs) -> str:
    with pytest.raises(InputError) as err:
        load_sheet(path, **kwargs)
    assert err.value.exit_code == 1
    return str(err.value)


@pytest.mark.parametrize("content", [b"", b"   \r\n\t\n", b"\xef\xbb\xbf\n\n"], ids=["zero", "blank", "bom"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    assert load_error(path).endswith("the file is empty")


def test_empty_xlsx_named_file(tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    assert "the file is empty" in load_error(path)


def test_workbook_with_no_values(tmp_path):
    path = tmp_path / "blank.xlsx"
    openpyxl.Workbook().save(path)
    assert "the file is empty (no sheet holds any value)" in load_error(path)


def test_missing_file(tmp_path):
    assert "no such file" in load_error(tmp_path / "nope.csv")


def test_truncated_xlsx(tmp_path):
    good = small_xlsx(tmp_path / "good.xlsx", rows=200).read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(good[: len(good) // 2])
    assert "not a readable xlsx (truncated or damaged)" in load_error(path)


def test_corrupted_member_is_damaged(tmp_path):
    good = small_xlsx(tmp_path / "good.xlsx", rows=200)
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 10
    data[start : start + 40] = os.urandom(40)
    path = tmp_path / "flipped.xlsx"
    path.write_bytes(bytes(data))
    assert "not a readable xlsx (truncated or damaged)" in load_error(path)


def test_csv_renamed_xlsx_is_read_by_content_with_a_warning(tmp_path):
    path = tmp_path / "really-a.xlsx"
    path.write_text("upc,title\n012345678905,Song\n")
    sheet = load_sheet(path, known_fields=FIELDS)
    assert sheet.data.loc[2, "upc"] == "012345678905"
    [problem] = sheet.problems
    assert (problem.code, problem.severity) == ("format-mismatch", "warning")
    assert "named .xlsx but holds CSV text; it was read by its content as csv" in problem.message


def test_xlsx_renamed_xls_is_read_by_content(tmp_path):
    path = small_xlsx(tmp_path / "a.xlsx").rename(tmp_path / "old.xls")
    sheet = load_sheet(path)
    assert sheet.data.loc[2, "upc"] == "000000000000"
    assert [p.code for p in sheet.problems] == ["format-mismatch"]


@pytest.mark.parametrize("name", ["noise.csv", "noise.bin"])
def test_random_bytes(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(bytes(range(256)) * 4 + os.urandom(4096))
    message = load_error(path)
    assert "this is not a CSV text file" in message or "not valid UTF-8 text" in message


@pytest.mark.parametrize(
    ("name", "container"),
    [
        ("noise.xlsx", "a zip archive"),
        ("noise.xlsm", "a zip archive"),
        ("noise.ods", "a zip archive"),
        ("noise.xls", "an OLE2 compound file"),
    ],
)
def test_random_bytes_named_as_a_workbook_are_an_unreadable_workbook(tmp_path, name, container):
    path = tmp_path / name
    path.write_bytes(os.urandom(2048) + bytes(range(256)))
    message = load_error(path)
    kind = name.split(".")[1]
    assert f"not a readable {kind} (it is not {container}" in message
    assert "UTF-8" not in message and "CSV" not in message


def test_validate_names_random_bytes_called_xlsx_an_unreadable_xlsx(tmp_path):
    from tests.support.sync import run_cli

    path = tmp_path / "catalog.xlsx"
    path.write_bytes(os.urandom(4096))
    done = run_cli(["validate", str(path), "-p", "royalti"], {})
    assert done.exit_code == 1 and "not a readable xlsx (it is not a zip archive" in done.stderr


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    assert "a Word document, not a spreadsheet" in load_error(path)


def test_html_saved_as_xls(tmp_path):
    path = tmp_path / "export.xls"
    path.write_text("<html><body><table><tr><td>upc</td></tr></table></body></html>")
    assert "an HTML page, not a CSV or workbook" in load_error(path)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>
"""


@pytest.mark.parametrize(
    "member", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml", "[Content_Types].xml"]
)
def test_billion_laughs_is_refused_in_small_memory(tmp_path, load_in_child, member):
    path = rewrite_member(small_xlsx(tmp_path / "ok.xlsx"), tmp_path / "lol.xlsx", member, BILLION_LAUGHS)
    result = load_in_child(path)
    assert "refused: the workbook contains XML entity declarations" in result["error"]
    assert member in result["error"]
    assert result["rss_growth_mb"] < 50


def _spaces(total: int, chunk: int = 1 << 20):
    block = b" " * chunk
    for _ in range(total // chunk):
        yield block


@pytest.mark.slow
def test_zip_bomb_by_declared_total_is_refused_before_inflating(tmp_path, load_in_child):
    path = rewrite_member(
        small_xlsx(tmp_path / "ok.xlsx"),
        tmp_path / "bomb.xlsx",
        "xl/media/pad.xml",
        chunks=_spaces(260 << 20),
    )
    assert path.stat().st_size < 2 << 20
    result = load_in_child(path)
    assert "refused: the workbook would inflate to 260 MB" in result["error"]
    assert result["rss_growth_mb"] < 50


def test_zip_bomb_by_ratio_is_refused(tmp_path, load_in_child):
    path = rewrite_member(
        small_xlsx(tmp_path / "ok.xlsx"),
        tmp_path / "ratio.xlsx",
        "xl/worksheets/sheet1.xml",
        chunks=_spaces(40 << 20),
    )
    result = load_in_child(path)
    assert "xl/worksheets/sheet1.xml inflates" in result["error"] and "zip bomb" in result["error"]
    assert result["rss_growth_mb"] < 50


def _patch_sizes(path: Path, member: str, fake: int) -> None:
    """Make a member lie: declare a tiny uncompressed size in both zip headers."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    struct.pack_into("<I", data, info.header_offset + 22, fake)  # local header
    pos = data.find(b"PK\x01\x02")
    while pos != -1:  # central directory entries
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46 : pos + 46 + name_len].decode() == member:
            struct.pack_into("<I", data, pos + 24, fake)
        pos = data.find(b"PK\x01\x02", pos + 4)
    path.write_bytes(bytes(data))


def test_member_inflating_beyond_its_declared_size_is_stopped(tmp_path, load_in_child):
    path = tmp_path / "liar.xlsx"
    with (
        zipfile.ZipFile(small_xlsx(tmp_path / "ok.xlsx")) as zin,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        zout.writestr("xl/media/pad.xml", b" " * (8 << 20))
    _patch_sizes(path, "xl/media/pad.xml", 1000)
    result = load_in_child(path)
    assert "not a readable xlsx (truncated or damaged)" in result["error"]
    assert result["rss_growth_mb"] < 50


def test_stray_cell_far_away_is_refused_before_allocating_the_range(tmp_path, load_in_child):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["upc", "title"])
    ws["XFD1048576"] = "x"
    path = tmp_path / "sparse.xlsx"
    wb.save(path)
    result = load_in_child(path)
    assert "sheet 'Sheet'" in result["error"]
    assert "refused: the used range spans 17,179,869,184 cells" in result["error"]
    assert result["rss_growth_mb"] < 50


def _big_text(n: int) -> str:
    return base64.b64encode(os.urandom(n * 3 // 4 + 3)).decode()[:n]


@pytest.mark.slow
def test_twenty_megabyte_cell_in_csv_is_truncated_and_reported(tmp_path, load_in_child):
    big = _big_text(20 << 20)
    path = tmp_path / "huge-cell.csv"
    path.write_text(f"upc,title\n1,ok\n2,{big}\n")
    sheet = load_sheet(path)
    [problem] = sheet.problems
    assert (problem.code, problem.cell, problem.row) == ("cell-too-large", "B3", 3)
    assert "20,971,520 characters" in problem.message
    assert sheet.data.loc[3, "title"] == big[: limits.MAX_CELL_CHARS]
    result = load_in_child(path)
    assert result["peak_rss_mb"] < 1024  # memory, not time: timing belongs to make bench


@pytest.mark.slow
def test_twenty_megabyte_cell_in_xlsx_is_truncated_and_reported(tmp_path, load_in_child):
    big = _big_text(20 << 20)
    sst = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        f"<si><t>{big}</t></si></sst>"
    ).encode()
    sheet_xml = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>upc</t></is></c><c r="B1" t="inlineStr"><is><t>title</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>1</t></is></c><c r="B2" t="s"><v>0</v></c></row>'
        b"</sheetData></worksheet>"
    )
    base = small_xlsx(tmp_path / "ok.xlsx")
    step = rewrite_member(base, tmp_path / "step.xlsx", "xl/worksheets/sheet1.xml", sheet_xml)
    path = rewrite_member(step, tmp_path / "huge-cell.xlsx", "xl/sharedStrings.xml", sst)
    result = load_in_child(path)
    assert result.get("error") is None, result
    [problem] = result["problems"]
    assert (problem["code"], problem["cell"], problem["row"]) == ("cell-too-large", "B2", 2)
    assert result["peak_rss_mb"] < 1024  # memory, not time: timing belongs to make bench


def test_file_over_the_size_limit_is_refused_without_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text("upc,title\n" + "1,x\n" * 1000)
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1000)
    assert "refused: the file is 0 MB; the limit is 0 MB" in load_error(path)


def test_nul_bytes_in_utf8_text(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"upc,title\n1,a\x00b\n")
    assert "holds NUL bytes (first at offset 13)" in load_error(path)


def test_unclosed_quote_swallowing_the_file_is_reported_not_crashed(tmp_path):
    # Python's csv reader closes the quote at the end of the file, silently turning rows 3-4 into
    # part of one cell; that must be refused, naming the line where the quote opens.
    path = tmp_path / "quote.csv"
    path.write_text('upc,title\n1,"open quote\n2,b\n3,c\n')
    with pytest.raises(InputError, match="starts on line 2 is never closed"):
        load_sheet(path)
    fine = tmp_path / "fine.csv"
    fine.write_text('upc,title\n1,"two\nlines"\n2,b\n')
    assert load_sheet(fine).data.loc[2, "title"] == "two\nlines"


def test_styled_but_empty_cells_far_away_are_not_refused(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["upc", "title"])
    ws.append(["1", "a"])
    ws["XFD1048576"].font = openpyxl.styles.Font(bold=True)  # a row and a cell element, but no value
    ws.row_dimensions[1048000].height = 30
    path = tmp_path / "styled.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        assert b'r="XFD1048576"' in zf.read("xl/worksheets/sheet1.xml")
    sheet = load_sheet(path)
    assert sheet.data.loc[2].tolist() == ["1", "a"]


def test_used_range_limit_counts_from_a1(tmp_path, monkeypatch):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["upc", "title"])
    ws["D50"] = "stray"
    path = tmp_path / "wide.xlsx"
    wb.save(path)
    monkeypatch.setattr(limits, "MAX_SHEET_CELLS", 199)
    assert "refused: the used range spans 200 cells (limit 199)" in load_error(path)
    monkeypatch.setattr(limits, "MAX_SHEET_CELLS", 200)
    assert load_sheet(path).problems[0].code == "empty-header"


def test_entity_declaration_in_an_ods_is_refused(tmp_path):
    path = tmp_path / "lol.ods"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED
        )
        zf.writestr("content.xml", BILLION_LAUGHS)
    assert "refused: the workbook contains XML entity declarations (<!DOCTYPE/<!ENTITY in content.xml)" in (
        load_error(path)
    )


def test_csv_with_too_many_cells_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "wide.csv"
    path.write_text("a,b\n" + ",".join(["x"] * 500) + "\n")
    monkeypatch.setattr(limits, "MAX_SHEET_CELLS", 400)
    assert "refused: more than 400 cells (at line 2)" in load_error(path)


def test_used_range_bound_finds_a_wider_cell_in_a_later_window(tmp_path, monkeypatch):
    # the cheap bound looks only for cells wider than those seen so far: a stray cell far to the
    # right, many small windows after the first, still widens it (and a bound that is too
    # low would let an oversized sheet through)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["upc", "title"])
    for i in range(300):
        ws.append([f"{i:012d}", f"Release {i}"])
    ws["M150"] = "stray"
    ws["AB290"] = "stray"
    path = tmp_path / "stray.xlsx"
    wb.save(path)
    monkeypatch.setattr(limits, "CHUNK_BYTES", 512)
    monkeypatch.setattr(limits, "MAX_SHEET_CELLS", 301 * 28 - 1)
    assert f"refused: the used range spans {301 * 28:,} cells" in load_error(path)


def test_used_range_bound_counts_namespaced_rows():
    from catalog_sync.sheets.zipguard import _Extent

    extent = _Extent(exact=False)
    extent.feed(b'<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="K1"/></x:row>')
    extent.feed(b'<x:row r="7" spans="1:2"><x:c r="B7"/><x:c r="AA7"/></x:row>')
    extent.feed(b'<row r="9"><c r="C9"/></row>')
    assert (extent.last_row, extent.width) == (9, 27)
