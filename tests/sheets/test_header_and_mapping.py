"""Review round 2: a title above the header, mapping files with repeated headers, broken quotes."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from catalog_sync.errors import ConfigError, InputError
from catalog_sync.sheets import load_mapping, load_sheet

FIELDS = ["upc", "title", "displayArtist"]


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def test_a_title_row_above_the_header_is_skipped_with_a_warning(tmp_path) -> None:
    path = _xlsx(
        tmp_path / "t.xlsx",
        [["Catalog export 2024-06"], [], ["Title", "UPC"], ["Summer", "012345678905"]],
    )
    sheet = load_sheet(path, known_fields=FIELDS)
    assert sheet.header_row == 3 and sheet.columns == ["title", "upc"]
    assert sheet.data.loc[4].tolist() == ["Summer", "012345678905"]
    assert sheet.cell(4, "upc") == "B4"
    [problem] = sheet.problems
    assert (problem.code, problem.severity, problem.cell) == ("header-row", "warning", "A3")
    assert "'Catalog export 2024-06'" in problem.message and "1–2" in problem.message


def test_a_mapped_header_below_a_title_is_found_too(tmp_path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("Report\nBarcode,Name\n012345678905,A\n", encoding="utf-8")
    sheet = load_sheet(path, known_fields=FIELDS, mapping={"Barcode": "upc", "Name": "title"})
    assert sheet.header_row == 2 and sheet.columns == ["upc", "title"]


def test_without_any_known_header_the_first_row_stays_the_header(tmp_path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("foo,bar\n1,2\n", encoding="utf-8")
    sheet = load_sheet(path, known_fields=FIELDS)
    assert sheet.header_row == 1
    assert [p.code for p in sheet.problems] == ["unknown-column", "unknown-column"]


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("m.csv", "your header,field\nTitel,title\n\nTitel,upc\n", "m.csv, line 4"),
        ("m.yaml", "Titel: title\nBarcode: upc\nTitel: upc\n", "(line 3)"),
        ("m.json", '{"Titel": "title", "Titel": "upc"}', "m.json"),
    ],
)
def test_a_header_listed_twice_in_a_mapping_file_is_refused(
    tmp_path, name: str, text: str, where: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="'Titel' is listed twice") as caught:
        load_mapping(path)
    assert where in caught.value.message


def test_mapping_csv_errors_name_the_real_line(tmp_path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("header,field\n\nTitel,title,extra\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 3: expected two columns"):
        load_mapping(path)


def test_unclosed_quote_after_a_sep_line_names_the_file_line(tmp_path) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes(b'sep=;\r\ntitle;upc\r\nA;1\r\n"B;2\r\nC;3\r\n')
    with pytest.raises(InputError, match="starts on line 4 is never closed"):
        load_sheet(path, known_fields=FIELDS)


def test_a_csv_wider_than_a_spreadsheet_is_refused_quickly(tmp_path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(20_000)) + "\n" + ",".join("x" * 20_000) + "\n")
    with pytest.raises(InputError, match="20,000 columns; spreadsheets allow at most 16,384"):
        load_sheet(path, known_fields=FIELDS)


def test_a_near_miss_header_gets_the_field_name_suggested(tmp_path) -> None:
    path = tmp_path / "n.csv"
    path.write_text("Title,Display Artist,Comments\nA,B,C\n", encoding="utf-8")
    sheet = load_sheet(path, known_fields=FIELDS)
    near, other = sheet.problems
    assert near.code == "unknown-column" and "did you mean 'displayArtist'?" in near.message
    assert "did you mean" not in other.message and "--mapping" in other.message


def test_formulas_without_a_saved_result_are_reported_on_their_cell(tmp_path) -> None:
    # openpyxl (like other writers that do not calculate) stores formulas with an empty value
    path = _xlsx(
        tmp_path / "f.xlsx",
        [
            ["title", "upc", "note"],
            ["A", '="0"&"12345678905"', "=1+1"],  # 'note' is not a field: its formula does not matter
            ["B", "012345678905", "x"],
        ],
    )
    sheet = load_sheet(path, known_fields=FIELDS)
    [problem] = sheet.problems[1:]  # after the unknown-column warning for 'note'
    assert (problem.code, problem.cell, problem.column, problem.severity) == (
        "formula-no-value",
        "B2",
        "upc",
        "error",
    )
    assert '="0"&"12345678905"' in problem.message and "save it" in problem.message


@pytest.mark.slow
@pytest.mark.libreoffice
def test_a_calculated_empty_text_is_not_a_missing_result(tmp_path, convert) -> None:
    source = _xlsx(tmp_path / "src.xlsx", [["title", "upc"], ['=IF(1=1,"","x")', '=CONCATENATE("0","12")']])
    saved = convert(source, "xlsx")
    sheet = load_sheet(saved, known_fields=FIELDS)
    assert [p.code for p in sheet.problems] == []
    assert sheet.data.loc[2].tolist() == ["", "012"]


def test_a_semicolon_csv_with_a_title_line_is_still_split_on_semicolons(tmp_path) -> None:
    path = tmp_path / "fr.csv"
    path.write_bytes(
        "Export du catalogue\r\ntitle;upc;displayArtist\r\nCafé;012345678905;X\r\n".encode("cp1252")
    )
    sheet = load_sheet(path, known_fields=FIELDS)
    assert sheet.delimiter == ";" and sheet.header_row == 2
    assert sheet.data.loc[3].tolist() == ["Café", "012345678905", "X"]
    assert [p.code for p in sheet.problems] == ["encoding-guessed", "header-row"]


def test_a_mapping_entry_matching_no_header_is_a_warning(tmp_path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("Title,Barcode\nA,012345678905\n", encoding="utf-8")
    sheet = load_sheet(path, known_fields=FIELDS, mapping={"Barcod": "upc", "Title": "title"})
    codes = [(p.code, p.severity, p.value) for p in sheet.problems]
    assert ("mapping-unused", "warning", "barcod") in codes
    assert "check its spelling" in next(p.message for p in sheet.problems if p.code == "mapping-unused")


def test_csv_values_have_their_own_budget_but_empty_trailing_cells_do_not_use_it(
    tmp_path, monkeypatch
) -> None:
    from catalog_sync.sheets import limits

    monkeypatch.setattr(limits, "MAX_FILLED_CELLS", 30)
    wide = tmp_path / "wide.csv"  # Excel's trailing ',,,' columns: 10 rows x 12 cells, 20 values
    wide.write_text("title,upc" + "," * 10 + "\n" + "".join(f"T{i},{i}" + "," * 10 + "\n" for i in range(10)))
    assert load_sheet(wide, known_fields=FIELDS).data.shape == (10, 2)
    full = tmp_path / "full.csv"
    full.write_text("title,upc\n" + "".join(f"T{i},{i}\n" for i in range(20)))
    with pytest.raises(InputError, match="more than 30 cells with values"):
        load_sheet(full, known_fields=FIELDS)
