"""The report writer: BOM CSV, typed and coloured XLSX, reversible formula guard, JSON."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from catalog_sync.errors import ConfigError, InputError
from catalog_sync.sheets.guard import neutralise, restore
from catalog_sync.sheets.write.report import read_report, write_table

COLUMNS = ["row", "upc", "title", "price", "status", "remote_id"]
ROWS = [
    {
        "row": 2,
        "upc": "012345678905",
        "title": '=HYPERLINK("http://evil","x")',
        "price": -42.5,
        "status": "ok",
        "remote_id": "a1",
    },
    {
        "row": 3,
        "upc": "006025374126",
        "title": "-2+3+cmd|' /C calc'!A0",
        "price": 7,
        "status": "failed",
        "remote_id": None,
    },
    {
        "row": 4,
        "upc": "000936249900",
        "title": "@SUM(1,2)",
        "price": None,
        "status": "skipped",
        "remote_id": "-42",
    },
    {
        "row": 5,
        "upc": "075678291234",
        "title": "\tTabbed",
        "price": 0.5,
        "status": "conflict",
        "remote_id": "+1",
    },
    {
        "row": 6,
        "upc": "886721437017",
        "title": "'=already quoted",
        "price": 1,
        "status": "unknown",
        "remote_id": "Café ünïcode",
    },
]
SUMMARY = {"create": 2, "status": {"ok": 1, "failed": 1}, "requests": 9}


def test_csv_is_utf8_with_bom_and_neutralised(tmp_path: Path) -> None:
    path = write_table(ROWS, tmp_path / "r.csv", columns=COLUMNS)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'-2+3+cmd" in text and "'@SUM" in text and "'\tTabbed" in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == COLUMNS
    assert rows[1][3] == "-42.5" and rows[3][5] == "-42" and rows[4][5] == "+1"  # numbers are not escaped
    assert rows[5][5] == "Café ünïcode" and rows[5][2] == "''=already quoted"


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".json"])
def test_read_report_round_trips_the_text(tmp_path: Path, suffix: str) -> None:
    path = write_table(
        ROWS,
        tmp_path / f"r{suffix}",
        columns=COLUMNS,
        text_columns=("upc",),
        status_column="status",
        summary=SUMMARY,
    )
    df = read_report(path)
    assert list(df.columns) == COLUMNS
    for got, row in zip(df.to_dict("records"), ROWS, strict=True):
        expected = {
            k: ""
            if v is None
            else (str(v) if not isinstance(v, float) or not v.is_integer() else str(int(v)))
            for k, v in row.items()
        }
        assert got == expected


def test_xlsx_types_colours_and_summary(tmp_path: Path) -> None:
    path = write_table(
        ROWS,
        tmp_path / "r.xlsx",
        columns=COLUMNS,
        text_columns=("upc", "remote_id"),
        status_column="status",
        summary=SUMMARY,
    )
    wb = load_workbook(path)
    assert wb.sheetnames == ["report", "summary"]
    ws = wb["report"]
    assert [c.value for c in ws[1]] == COLUMNS and ws.freeze_panes == "A2"
    upc = ws["B2"]
    assert upc.value == "012345678905" and upc.data_type == "s" and upc.number_format == "@"
    title = ws["C2"]
    assert title.data_type == "s" and title.value.startswith("'=")  # text, never a formula
    assert ws["D2"].value == -42.5 and ws["D2"].data_type == "n"  # numbers stay numbers
    assert ws["A3"].value == 3 and ws["A3"].data_type == "n"
    assert ws["F4"].value == "-42" and ws["F4"].data_type == "s"  # a numeric-looking text is left as is
    colours = {
        ws.cell(row=i, column=5).value: ws.cell(row=i, column=5).fill.start_color.rgb[-6:]
        for i in range(2, 7)
    }
    assert colours == {
        "ok": "C6EFCE",
        "failed": "FFC7CE",
        "skipped": "D9D9D9",
        "conflict": "F8CBAD",
        "unknown": "FFEB9C",
    }
    summary = {r[0]: r[1] for r in wb["summary"].iter_rows(min_row=2, values_only=True)}
    assert summary == {"create": 2, "status.ok": 1, "status.failed": 1, "requests": 9}


def test_xlsx_has_no_formula_cells_even_without_the_guard(tmp_path: Path) -> None:
    """openpyxl would store '=1+1' as a formula; our cells are forced to the string type."""
    path = write_table([{"a": "=1+1"}], tmp_path / "f.xlsx", columns=["a"])
    import zipfile

    sheet_xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml


def test_json_uses_the_given_root(tmp_path: Path) -> None:
    root = {"valid": False, "problems": [{"row": 2, "code": "required"}]}
    path = write_table([], tmp_path / "p.json", columns=["row"], json_root=root)
    assert json.loads(path.read_text(encoding="utf-8")) == root
    path = write_table(ROWS[:1], tmp_path / "r.json", columns=COLUMNS, summary=SUMMARY)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["summary"] == SUMMARY and data["rows"][0]["title"].startswith(
        "=HYPERLINK"
    )  # JSON is not escaped


def test_bad_suffixes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        write_table(ROWS, tmp_path / "r.txt", columns=COLUMNS)
    (tmp_path / "r.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InputError):
        read_report(tmp_path / "r.txt")
    with pytest.raises(InputError):
        read_report(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    "value, guarded",
    [
        ("=1+1", True),
        ("+1+1", True),
        ("-cmd", True),
        ("@x", True),
        ("\tx", True),
        ("\rx", True),
        ("-42", False),
        ("+3.5", False),
        ("1e5", False),
        ("hello", False),
        ("", False),
        ("'=x", True),
        ("'-42", False),
    ],
)
def test_neutralise(value: str, guarded: bool) -> None:
    assert (neutralise(value) != value) is guarded
    assert restore(neutralise(value)) == value


@given(st.text(alphabet=st.sampled_from(list("'=+-@\t\r1.e ax")), max_size=8))
def test_guard_is_reversible_for_any_text(value: str) -> None:
    assert restore(neutralise(value)) == value
    safe = neutralise(value)
    if safe[:1] in ("=", "+", "-", "@", "\t", "\r"):  # only plain numbers may start with a trigger
        assert re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", safe)


def test_xlsx_report_keeps_control_characters_out_and_does_not_crash(tmp_path) -> None:
    """A header or value with a control character (BEL from a CSV) used to abort the xlsx report."""
    from click.testing import CliRunner

    from catalog_sync.cli.main import cli

    catalog = tmp_path / "ctl.csv"
    catalog.write_text("title,upc,bad\x07col\n,0123456789x\x01,1\n", encoding="utf-8")
    out = tmp_path / "problems.xlsx"
    result = CliRunner().invoke(cli, ["validate", str(catalog), "-p", "royalti", "--report", str(out)])
    assert result.exit_code == 3, result.output
    back = read_report(out)
    assert list(back["code"]) == ["unknown-column", "required", "bad-format", "control-character"]
    assert list(back["cell"]) == ["C1", "A2", "B2", "B2"]
    assert back["value"].iloc[3] == "0123456789x\\x01"  # the control character named, not written
    assert back["value"].iloc[2] == "0123456789x"  # the control character is dropped, the rest kept
    assert back["severity"].iloc[0] == "warning" and back["column"].iloc[1] == "title"


def _apply_like_rows(n: int) -> list[dict]:
    statuses = ["ok", "failed", "skipped", "conflict", "unknown"]
    return [
        {
            "row": i + 2,
            "upc": f"{i:012d}",
            "title": "A_x0041_\r\nB & <c>" if i == 0 else f"T{i}",
            "price": -42.5 if i == 1 else i,
            "status": statuses[i % 5],
            "remote_id": f"id-{i}",
        }
        for i in range(n)
    ]


def test_big_xlsx_report_reads_back_exactly(tmp_path: Path) -> None:
    # how fast it is written is a figure of `make bench`, not a timed assertion
    rows = _apply_like_rows(30_000)
    path = tmp_path / "big.xlsx"
    write_table(rows, path, columns=COLUMNS, text_columns=("upc", "remote_id"), status_column="status")
    back = read_report(path)
    assert back.shape == (30_000, 6)
    assert back.loc[0, "title"] == "A_x0041_\r\nB & <c>" and back.loc[0, "upc"] == "000000000000"
    assert back.loc[1, "price"] == "-42.5" and back.loc[29_999, "remote_id"] == "id-29999"
    ws = load_workbook(path, read_only=False)["report"]
    assert ws["B3"].data_type == "s" and ws["B3"].number_format == "@" and ws["D3"].data_type == "n"
    assert ws["E3"].fill.start_color.rgb[-6:] == "FFC7CE" and ws["A1"].font.b and ws.freeze_panes == "A2"


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_opens_the_xlsx_report(tmp_path: Path, convert) -> None:
    path = tmp_path / "r.xlsx"
    write_table(_apply_like_rows(5), path, columns=COLUMNS, status_column="status", summary={"ok": 1})
    text = convert(path, "csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert lines[-1] == "6,000000000004,T4,4,unknown,id-4"
