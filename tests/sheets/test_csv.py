"""CSV reading: encodings, delimiters, quoting, text fidelity and true row numbers."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from catalog_sync.errors import ConfigError, InputError
from catalog_sync.sheets import load_sheet

ROWS = 'upc,title,artist\n012345678905,Café Ünïcode,NA\n000000000017,"Hello, world",N/A\n'


def write(tmp_path: Path, data: bytes, name: str = "cat.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def assert_rows(sheet) -> None:
    assert sheet.columns == ["upc", "title", "artist"]
    assert sheet.data.loc[2].tolist() == ["012345678905", "Café Ünïcode", "NA"]
    assert sheet.data.loc[3].tolist() == ["000000000017", "Hello, world", "N/A"]
    assert sheet.kinds is None


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (ROWS.encode("utf-8"), "UTF-8"),
        (codecs.BOM_UTF8 + ROWS.encode("utf-8"), "UTF-8"),
        (ROWS.encode("utf-16"), "UTF-16"),  # little-endian with BOM
        (codecs.BOM_UTF16_BE + ROWS.encode("utf-16-be"), "UTF-16"),
        (ROWS.encode("utf-16-le"), "UTF-16"),  # no BOM: found by the NUL pattern
        (ROWS.encode("utf-32"), "UTF-32"),
    ],
    ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le-nobom", "utf32"],
)
def test_unicode_encodings_read_the_same_text(tmp_path, data, label):
    sheet = load_sheet(write(tmp_path, data))
    assert_rows(sheet)
    assert sheet.encoding == label
    assert sheet.problems == []


def test_cp1252_is_read_with_an_encoding_guessed_warning(tmp_path):
    sheet = load_sheet(write(tmp_path, (ROWS + "1,Œuvre – “quoted”,€\n").encode("cp1252")))
    assert_rows(sheet)
    assert sheet.data.loc[4, "title"] == "Œuvre – “quoted”"
    assert sheet.data.loc[4, "artist"] == "€"
    assert sheet.encoding == "cp1252"
    [problem] = sheet.problems
    assert (problem.code, problem.severity) == ("encoding-guessed", "warning")
    assert "line 2" in problem.message and "offset 33" in problem.message


def test_explicit_encoding_is_used_and_checked(tmp_path):
    path = write(tmp_path, ROWS.encode("latin-1"))
    sheet = load_sheet(path, encoding="latin-1")
    assert sheet.data.loc[2, "title"] == "Café Ünïcode"
    assert sheet.problems == []
    with pytest.raises(InputError, match=r"bad byte at offset 33 \(line 2\)"):
        load_sheet(path, encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown encoding"):
        load_sheet(path, encoding="klingon")


def test_invalid_utf8_that_is_not_cp1252_names_offset_and_line(tmp_path):
    path = write(tmp_path, b"upc,title\n1,ok\n2,caf\x81\x8d\n")
    with pytest.raises(InputError) as err:
        load_sheet(path)
    assert "offset 20 (line 3)" in str(err.value)
    assert "cat.csv" in str(err.value)


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed_with_quoted_delimiters_inside(tmp_path, delim):
    text = (
        f"upc{delim}title{delim}price\n"
        f'012345678905{delim}"a{delim}b, c; d | e"{delim}"1,5"\n'
        f"2{delim}plain{delim}3\n"
    )
    sheet = load_sheet(write(tmp_path, text.encode()))
    assert sheet.delimiter == delim
    assert sheet.columns == ["upc", "title", "price"]
    assert sheet.data.loc[2, "title"] == f"a{delim}b, c; d | e"
    assert sheet.data.loc[2, "price"] == "1,5"


def test_explicit_delimiter_and_tab_alias(tmp_path):
    path = write(tmp_path, b"a\tb\n1;2\t3\n")
    assert load_sheet(path, delimiter="tab").data.loc[2].tolist() == ["1;2", "3"]
    assert load_sheet(path, delimiter="\\t").delimiter == "\t"
    with pytest.raises(ConfigError):
        load_sheet(path, delimiter=";;")


def test_excel_sep_line_sets_delimiter_and_is_not_a_row(tmp_path):
    sheet = load_sheet(write(tmp_path, b"sep=;\na;b\n1,5;2\n"))
    assert sheet.delimiter == ";"
    assert sheet.data.loc[2].tolist() == ["1,5", "2"]


def test_quoted_newlines_count_as_one_row_and_blank_lines_keep_numbers(tmp_path):
    text = 'upc,description\n1,"line one\nline two\r\nline three"\n\n,\n2,after blanks\n'
    sheet = load_sheet(write(tmp_path, text.encode()))
    assert list(sheet.rows) == [2, 5]
    assert sheet.data.loc[2, "description"] == "line one\nline two\r\nline three"
    assert sheet.data.loc[5, "description"] == "after blanks"
    assert sheet.cell(5, "description") == "B5"


def test_na_null_and_formula_text_stay_text_and_values_are_trimmed(tmp_path):
    text = "a,b,c,d\n NA ,null,=1+2,  N/A\n#N/A,nan,None,-\n"
    sheet = load_sheet(write(tmp_path, text.encode()))
    assert sheet.data.loc[2].tolist() == ["NA", "null", "=1+2", "N/A"]
    assert sheet.data.loc[3].tolist() == ["#N/A", "nan", "None", "-"]
    assert all(isinstance(v, str) for v in sheet.data.to_numpy().ravel())


def test_header_after_leading_blank_lines_keeps_its_row_number(tmp_path):
    sheet = load_sheet(write(tmp_path, b"\n\nupc,title\n1,x\n"))
    assert list(sheet.rows) == [4]
    assert sheet.cell(4, "title") == "B4"


def test_short_rows_are_padded_with_empty_text(tmp_path):
    sheet = load_sheet(write(tmp_path, b"a,b,c\n1\n2,3\n"))
    assert sheet.data.loc[2].tolist() == ["1", "", ""]
    assert sheet.data.loc[3].tolist() == ["2", "3", ""]
    assert sheet.problems == []


def test_trailing_empty_cells_beyond_the_header_are_not_ragged(tmp_path):
    sheet = load_sheet(write(tmp_path, b"a,b\n1,2,,\n"))
    assert sheet.problems == []
    assert sheet.data.loc[2].tolist() == ["1", "2"]


def test_wrong_explicit_delimiter_gets_a_hint(tmp_path):
    path = write(tmp_path, b"upc;title\n1;a\n")
    sheet = load_sheet(path, delimiter=",")
    assert sheet.columns == ["upc;title"]
    [problem] = sheet.problems
    assert (problem.code, problem.cell) == ("format-mismatch", "A1")
    assert "pass --delimiter ';'" in problem.message
    assert load_sheet(path).problems == []


def test_header_row_is_recorded(tmp_path):
    assert load_sheet(write(tmp_path, b"\n\na,b\n1,2\n")).header_row == 3


# ---------------------------------------------- the formula guard of pulled CSVs and reports (issue 17 item 11)
GUARDED = {"'=SUM(1)": "=SUM(1)", "'-5 off": "-5 off", "''=x": "'=x", "'hello": "'hello", "'-42": "'-42"}


@pytest.mark.parametrize("ragged", [False, True], ids=["columnar", "row-by-row"])
def test_a_csv_cell_loses_the_formula_guard_and_nothing_else(tmp_path: Path, ragged: bool) -> None:
    """``'`` before formula-like text is the guard catalog-sync writes; any other ``'`` is the user's."""
    lines = ["title,notes"] + [f"{cell},{cell}" for cell in GUARDED]
    if ragged:  # a row wider than the header: read row by row, not by pyarrow
        lines.append("T,N,extra")
    sheet = load_sheet(write(tmp_path, "\n".join(lines).encode()), known_fields=["title"])
    titles = sheet.data["title"].tolist()[: len(GUARDED)]
    assert titles == list(GUARDED.values())
    assert sheet.ignored is not None and sheet.ignored["notes"].tolist()[: len(GUARDED)] == list(
        GUARDED.values()
    )


def test_a_workbook_keeps_every_apostrophe(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["title"])
    wb.active.append(["'=SUM(1)"])
    wb.save(tmp_path / "typed.xlsx")
    assert load_sheet(tmp_path / "typed.xlsx").data["title"].tolist() == ["'=SUM(1)"]
