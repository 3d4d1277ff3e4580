"""Writers: what write_csv / write_xlsx put down, load_sheet reads back unchanged."""

from __future__ import annotations

import codecs
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from catalog_sync.sheets import load_sheet, write_csv, write_xlsx
from catalog_sync.sheets.guard import neutralise

TRICKY = pd.DataFrame(
    {
        "upc": ["012345678905", "000000000017", "1234567890123456789"],
        "title": ["=1+2", "+cmd", "@SUM(A1)"],
        "flag": ["TRUE", "#N/A", "1e5"],
        "note": ["NA", "line one\r\nline two", "Ünïcødé ✓ 日本 _x0041_"],
    }
)


def test_xlsx_writes_text_cells_that_stay_text(tmp_path):
    path = tmp_path / "out.xlsx"
    write_xlsx(TRICKY, path, sheet_name="Catalog", text_columns=["upc"], notes={"upc": "12 digits"})
    sheet = load_sheet(path)
    assert sheet.sheet_name == "Catalog"
    assert sheet.data.to_dict("list") == TRICKY.to_dict("list")
    assert list(sheet.rows) == [2, 3, 4]
    assert set(sheet.kinds.to_numpy().ravel()) == {"s"}
    ws = openpyxl.load_workbook(path)["Catalog"]
    assert ws["A2"].data_type == "s" and ws["A2"].number_format == "@"
    assert ws["B2"].data_type == "s" and ws["B2"].value == "=1+2"  # text, not a formula
    assert ws["B2"].number_format == "General"
    assert ws["A1"].comment.text == "12 digits"
    assert ws.freeze_panes == "A2"


def test_csv_writer_uses_a_bom_by_default(tmp_path):
    write_csv(TRICKY, tmp_path / "a.csv")
    write_csv(TRICKY, tmp_path / "b.csv", bom=False)
    assert (tmp_path / "a.csv").read_bytes().startswith(codecs.BOM_UTF8)
    assert not (tmp_path / "b.csv").read_bytes().startswith(codecs.BOM_UTF8)
    for name in ("a.csv", "b.csv"):
        sheet = load_sheet(tmp_path / name)
        assert sheet.encoding == "UTF-8"
        assert sheet.data.to_dict("list") == TRICKY.to_dict("list")


def test_writers_turn_missing_values_into_empty_cells(tmp_path):
    df = pd.DataFrame({"a": ["x", None, "z"], "b": [float("nan"), "y", 3.0]})
    write_xlsx(df, tmp_path / "m.xlsx")
    write_csv(df, tmp_path / "m.csv")
    for name in ("m.xlsx", "m.csv"):
        assert load_sheet(tmp_path / name).data.to_dict("list") == {"a": ["x", "", "z"], "b": ["", "y", "3"]}


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_keeps_leading_zeros_of_our_xlsx(tmp_path, convert):
    path = tmp_path / "ours.xlsx"
    write_xlsx(TRICKY, path, text_columns=["upc"])
    back = convert(path, "csv:Text - txt - csv (StarCalc):44,34,76,1")
    sheet = load_sheet(back)
    assert sheet.data["upc"].tolist() == TRICKY["upc"].tolist()
    assert sheet.data["title"].tolist() == TRICKY["title"].tolist()


# Two columns at least: a one-column CSV whose every value holds the same other delimiter with
# text on both sides ("0;0") reads equally well as a title line over a ';' table, and no sniffer
# can tell them apart (the single-column cases that are decidable have their own test below).
HEADERS = st.lists(
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,10}", fullmatch=True),
    min_size=2,
    max_size=5,
    unique_by=str.casefold,
)
CHARS = st.one_of(
    st.characters(blacklist_categories=("Cc", "Cs", "Cn")),
    st.sampled_from(["\n", "\r", "\t", "_x0041_", "_x000D_", '"', ",", ";", "0", "="]),
)
VALUES = st.lists(CHARS, max_size=12).map("".join).filter(lambda s: s == s.strip())


@st.composite
def frames(draw) -> pd.DataFrame:
    headers = draw(HEADERS)
    row = st.lists(VALUES, min_size=len(headers), max_size=len(headers)).filter(any)
    rows = draw(st.lists(row, min_size=1, max_size=8))
    return pd.DataFrame(rows, columns=headers, dtype=object)


@example(df=pd.DataFrame({"g": ["'\r0"]}, dtype=object), fmt="csv", bom=False)  # a guard-like value
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=frames(), fmt=st.sampled_from(["csv", "xlsx"]), bom=st.booleans())
def test_load_of_write_is_identity(df, fmt, bom):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"t.{fmt}"
        if fmt == "csv":  # as pull writes one: a CSV reader takes a formula guard off again
            write_csv(df.map(neutralise), path, bom=bom)
        else:
            write_xlsx(df, path, text_columns=list(df.columns) if bom else ())
        sheet = load_sheet(path)
    assert sheet.problems == []
    assert sheet.columns == list(df.columns)
    assert list(sheet.rows) == list(range(2, len(df) + 2))
    assert sheet.data.to_dict("list") == df.to_dict("list")


@pytest.mark.parametrize(
    "values",
    [["0;", "0;"], ["0;", ";0,"], ["0;", ";0"], [";0", "0;"], ["0;", "0;0"], ["a|", "|b"], ["0;", "1;2"]],
)
def test_one_column_csv_whose_values_hold_another_delimiter_reads_as_one_column(tmp_path, values):
    """Found by the round-trip property: these were split on ';' (or '|', tab) with blank headers."""
    df = pd.DataFrame({"name": values}, dtype=object)
    path = tmp_path / "one.csv"
    write_csv(df, path, bom=False)
    sheet = load_sheet(path)
    assert sheet.delimiter == ","
    assert sheet.problems == []
    assert sheet.data["name"].tolist() == values
