"""Reports open in the user's own spreadsheet program and read like a tool's (issue 9, items 8 and 9).

A ``;`` catalog (what a German Excel saves) gets a ``;`` report, UTF-8 with a BOM, so the same
Excel opens it in columns; a ``,`` catalog, a workbook or a saved plan keeps ``,``.  An XLSX report
has an autofilter, frozen header and key columns, the tool's columns set apart, the catalog's number
and boolean cells as numbers and booleans (key columns always text) and a summary sheet.  Both still
read back through ``--only failed --from REPORT``: real runs against the Royalti sandbox, where a
row is in conflict (its externalId belongs to a release with another UPC) until that release is deleted.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest
import requests

from catalog_sync.execute.executor import RowOutcome, RunResult
from catalog_sync.planning.model import Change, Plan
from catalog_sync.run.report import report_delimiter, write_report
from catalog_sync.sheets.write.report import TOOL_HEADER_FILL, read_report, typed_value, write_table
from catalog_sync.spec import load_spec
from tests.support.sync import FAST, KEYS, env_for, make_sheet, read_rows, run_cli, sandbox, write_requests

RESULTS = ["row", "action", "status", "remote_id", "changed", "error_code", "error"]
TAKEN_UPC = "075678291234"
BOM = b"\xef\xbb\xbf"


def _post(sb, body: dict) -> str:
    answer = requests.post(
        f"{sb.url}/product", json=body, headers={"Authorization": f"Bearer {KEYS['royalti']}"}, timeout=5
    )
    answer.raise_for_status()
    data = answer.json()
    return str(data.get("id") or data.get("product", data).get("id"))


def _stray(sb) -> str:
    """A release with the externalId EXT-2 and another UPC: the row EXT-2 with TAKEN_UPC contradicts
    it (the UPC is the stronger key), a conflict (nothing of it is sent) until that release is deleted."""
    base = {"type": "Audio", "format": "Single", "releaseDate": "2024-01-05", "displayArtist": "Band"}
    return _post(sb, {**base, "title": "Stray", "upc": "036000291452", "externalId": "EXT-2"})


def _delete(sb, remote_id: str) -> None:
    requests.delete(
        f"{sb.url}/product/{remote_id}", headers={"Authorization": f"Bearer {KEYS['royalti']}"}, timeout=5
    ).raise_for_status()


def _retry(base: list[str], report: Path, out: Path, env: dict[str, str]):
    return run_cli(["apply", *base, "--only", "failed", "--from", str(report), "--report", str(out)], env)


# ------------------------------------------------------------------------------- A: ; CSV reports
SEMI_HEADER = ["externalId", "upc", "title", "displayArtist", "type", "format", "releaseDate", "Notizen"]
SEMI_ROWS = [
    ["EXT-1", "006025374126", "Zoë", "Band", "Audio", "Single", "2024-01-01", "a;b, c"],
    ["EXT-2", TAKEN_UPC, "Straße", "Band", "Audio", "EP", "2024-02-01", "Größe 1,5"],
]


def _semicolon_lines(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(BOM), "a CSV report is UTF-8 with a BOM"
    return list(csv.reader(raw[len(BOM) :].decode("utf-8").splitlines(), delimiter=";"))


def test_a_semicolon_catalog_gets_a_semicolon_report_with_a_bom_that_retries_its_failed_row(tmp_path):
    catalog = tmp_path / "katalog.csv"
    with catalog.open("w", encoding="utf-8-sig", newline="") as fh:  # as Excel saves "CSV UTF-8" in Germany
        csv.writer(fh, delimiter=";").writerows([SEMI_HEADER, *SEMI_ROWS])
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        stray = _stray(sb)
        base = ["-p", "royalti", "--state", state, *FAST, "--yes"]
        first = run_cli(["apply", str(catalog), *base, "--report", str(tmp_path / "r1.csv")], env)
        assert first.exit_code == 4, first.output

        lines = _semicolon_lines(tmp_path / "r1.csv")
        assert lines[0] == SEMI_HEADER + RESULTS  # one column per field, in the Excel that saved the catalog
        assert [line[:8] for line in lines[1:]] == SEMI_ROWS
        assert [line[10] for line in lines[1:]] == ["ok", "conflict"]
        frame = read_report(tmp_path / "r1.csv")  # read back: the delimiter is sniffed
        assert frame["Notizen"].tolist() == ["a;b, c", "Größe 1,5"]
        assert frame["status"].tolist() == ["ok", "conflict"]

        _delete(sb, stray)
        before = write_requests(sb)
        retry = _retry(base, tmp_path / "r1.csv", tmp_path / "r2.csv", env)
        assert retry.exit_code == 0, retry.output
        assert write_requests(sb) == before + 1  # only the failed row was sent
        again = _semicolon_lines(tmp_path / "r2.csv")  # the retry's report is written like the first
        assert again[0] == SEMI_HEADER + RESULTS
        assert [(line[7], line[8], line[10]) for line in again[1:]] == [("Größe 1,5", "3", "ok")]


def _report_for(sheet, path: Path) -> Path:
    spec = load_spec("royalti")
    values = {"externalId": "EXT-1", "title": "T"}
    plan = Plan(provider="royalti", catalog=str(sheet.path) if sheet else "plan.json", columns=list(values))
    change = Change(row=2, key="externalId=EXT-1", action="create", values=values)
    plan.changes.append(change)
    result = RunResult(run_id=1, outcomes=[RowOutcome(change, "ok", "r1")], requests=1, seconds=0.5)
    return write_report(path, plan, result, spec, sheet)


@pytest.mark.parametrize("delimiter", [",", None])
def test_a_comma_catalog_a_workbook_and_a_saved_plan_keep_comma_reports(tmp_path, delimiter):
    sheet = make_sheet([{"externalId": "EXT-1", "title": "T"}])
    sheet.delimiter = delimiter
    if delimiter is None:
        sheet.sheet_name, sheet.path = "Sheet1", Path("cat.xlsx")  # a workbook
    assert report_delimiter(sheet) == "," and report_delimiter(None) == ","
    for name, source in (("sheet.csv", sheet), ("plan.csv", None)):
        raw = _report_for(source, tmp_path / name).read_bytes()
        assert raw.startswith(BOM) and raw[len(BOM) :].split(b"\r\n")[0] == b",".join(
            c.encode() for c in ["externalId", "title", *RESULTS]
        )


def test_write_table_writes_the_delimiter_it_is_given_and_reads_it_back(tmp_path):
    rows = [{"a": "x;y", "b": "=1+2", "row": 2}, {"a": "Zoë", "b": "", "row": 3}]
    for delimiter in (";", "\t", "|", ","):
        path = write_table(rows, tmp_path / "t.csv", columns=["a", "b", "row"], delimiter=delimiter)
        header = path.read_bytes()[len(BOM) :].decode().splitlines()[0]
        assert header == delimiter.join(["a", "b", "row"])
        back = read_report(path)
        assert back.to_dict("records") == [
            {"a": "x;y", "b": "=1+2", "row": "2"},
            {"a": "Zoë", "b": "", "row": "3"},
        ], delimiter


# ---------------------------------------------------------------------- B: XLSX reads like a tool's
BOOK_HEADER = [
    "id",
    "upc",
    "title",
    "displayArtist",
    "externalId",
    "type",
    "format",
    "releaseDate",
    "c_line_year",
    "totalTracks",
    "reissue",
    "catalogNumber",
]
JAN, FEB = dt.date(2024, 1, 1), dt.date(2024, 2, 1)
BOOK_ROWS = [
    [None, "006025374126", "First", "Band", "EXT-1", "Audio", "Single", JAN, 2024, 12, True, 1001],
    [None, TAKEN_UPC, "Second", "Band", "EXT-2", "Audio", "EP", FEB, 2023, 3, False, 1002],
]


def _workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Releases"
    ws.append(BOOK_HEADER)
    for row in BOOK_ROWS:
        ws.append(row)
    book.save(path)
    return path


def _cells(ws) -> dict[str, str]:
    """Header text → column letter."""
    return {c.value: c.column_letter for c in ws[1]}


def test_an_xlsx_report_of_a_workbook_reads_like_a_tools_report_and_retries_its_failed_row(tmp_path, convert):
    catalog = _workbook(tmp_path / "releases.xlsx")
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        stray = _stray(sb)
        base = ["-p", "royalti", "--state", state, *FAST, "--yes"]
        before_run = dt.datetime.now(dt.UTC).replace(microsecond=0)
        first = run_cli(["apply", str(catalog), *base, "--report", str(tmp_path / "r1.xlsx")], env)
        assert first.exit_code == 4, first.output
        report = tmp_path / "r1.xlsx"
        book = openpyxl.load_workbook(report)
        assert book.sheetnames == ["report", "summary"]
        ws = book["report"]
        col = _cells(ws)
        assert list(col) == BOOK_HEADER + RESULTS
        assert ws.auto_filter.ref == f"A1:{col['error']}3"  # a filter over the whole table
        assert ws.freeze_panes == "C2"  # the header row and the key columns the table starts with (id, upc)

        # the catalog's number and boolean cells stay numbers and booleans; key columns stay text
        row2 = {name: ws[f"{letter}2"] for name, letter in col.items()}
        assert (row2["c_line_year"].value, row2["c_line_year"].data_type) == (2024, "n")
        assert (row2["totalTracks"].value, row2["totalTracks"].data_type) == (12, "n")
        assert (row2["reissue"].value, row2["reissue"].data_type) == (True, "b")
        assert ws[f"{col['reissue']}3"].value is False
        upc, number = row2["upc"], row2["catalogNumber"]  # identifiers: text whatever the catalog cell was
        assert (upc.value, upc.data_type, upc.number_format) == ("006025374126", "s", "@")
        assert (number.value, number.data_type, number.number_format) == ("1001", "s", "@")
        assert (row2["releaseDate"].value, row2["releaseDate"].data_type) == ("2024-01-01", "s")
        assert (row2["title"].value, row2["row"].value, row2["row"].data_type) == ("First", 2, "n")

        # the tool's columns are set apart: shaded header, a thin border where they start
        assert ws[f"{col['row']}1"].fill.start_color.rgb[-6:] == TOOL_HEADER_FILL
        assert ws[f"{col['error']}1"].fill.start_color.rgb[-6:] == TOOL_HEADER_FILL
        assert ws[f"{col['title']}1"].fill.patternType is None and ws[f"{col['title']}1"].font.b
        assert all(ws[f"{col['row']}{i}"].border.left.style == "thin" for i in (1, 2, 3))
        assert ws[f"{col['catalogNumber']}2"].border.left.style is None
        assert ws[f"{col['status']}3"].fill.start_color.rgb[-6:] == "F8CBAD"  # conflict, still orange

        summary = {r[0]: r[1] for r in book["summary"].iter_rows(min_row=2, values_only=True)}
        started = dt.datetime.fromisoformat(summary["started"])
        assert before_run - dt.timedelta(seconds=2) <= started <= dt.datetime.now(dt.UTC)
        assert (summary["provider"], summary["base_url"]) == ("royalti", sb.url)
        assert summary["catalog"] == str(catalog)
        assert (summary["action.create"], summary["action.conflict"], summary["status.ok"]) == (1, 1, 1)
        assert summary["status.conflict"] == 1
        assert summary["requests"] >= 2 and isinstance(summary["seconds"], int | float)
        with zipfile.ZipFile(report) as zf:
            assert not any(KEYS["royalti"].encode() in zf.read(name) for name in zf.namelist())

        # LibreOffice opens it and shows the catalog's values
        shown = list(csv.reader(convert(report, "csv").read_text(encoding="utf-8").splitlines()))
        assert shown[1][8:11] == ["2024", "12", "TRUE"] and shown[1][1] == "006025374126"

        # read back exactly as the catalog had the cells, and retried: the failed row alone
        frame = read_report(report)
        assert frame.loc[1, ["c_line_year", "totalTracks", "reissue", "upc"]].tolist() == [
            "2023",
            "3",
            "FALSE",
            TAKEN_UPC,
        ]
        _delete(sb, stray)
        before = write_requests(sb)
        retry = _retry(base, report, tmp_path / "r2.csv", env)
        assert retry.exit_code == 0, retry.output
        assert write_requests(sb) == before + 1
        again = read_rows(tmp_path / "r2.csv")
        assert [(r["row"], r["action"], r["status"], r["reissue"]) for r in again] == [
            ("3", "create", "ok", "FALSE")
        ]


def test_typed_value_keeps_only_what_reads_back_the_same():
    assert typed_value("2024", "n") == 2024 and typed_value("-0.5", "n") == -0.5
    assert typed_value("TRUE", "b") is True and typed_value("FALSE", "b") is False
    for text, kind in [
        ("007", "n"),  # edited: a number cell never shows leading zeros
        ("12345678901234567890", "n"),  # beyond a float's integers
        ("1.2E+11", "n"),
        ("2024", "s"),  # a text cell stays text
        ("2024-01-01", "d"),
        ("yes", "b"),
        ("", "n"),
    ]:
        assert typed_value(text, kind) == text, (text, kind)


def test_a_number_cell_of_an_ignored_column_stays_a_number_and_a_csv_catalog_stays_text(tmp_path):
    import pandas as pd

    sheet = make_sheet([{"externalId": "EXT-1", "title": "1999"}], path="cat.xlsx")
    sheet.sheet_name = "Sheet1"
    sheet.kinds = pd.DataFrame({"externalId": ["n"], "title": ["n"]}, index=sheet.data.index)
    sheet.headers = ["externalId", "title", "Count"]
    sheet.ignored = pd.DataFrame({"Count": ["42"]}, index=sheet.data.index)
    sheet.ignored_kinds = pd.DataFrame({"Count": ["n"]}, index=sheet.data.index)
    ws = openpyxl.load_workbook(_report_for(sheet, tmp_path / "r.xlsx"))["report"]
    assert [c.value for c in ws[1]][:3] == ["externalId", "title", "Count"]
    # the plan's values are what the report shows: title "T" is no number, so it stays text
    assert [ws["A2"].value, ws["B2"].value, ws["C2"].value] == ["EXT-1", "T", 42]

    text_sheet = make_sheet([{"externalId": "EXT-1", "title": "2024"}])
    ws = openpyxl.load_workbook(_report_for(text_sheet, tmp_path / "t.xlsx"))["report"]
    assert ws["B2"].data_type == "s" and ws.freeze_panes == "B2"  # a CSV's text stays text


def test_the_summary_names_the_base_url_without_credentials(tmp_path):
    sheet = make_sheet([{"externalId": "EXT-1", "title": "T"}])
    spec = load_spec("royalti")
    base_url = "https://user:s3cret@api.example.com/v1?key=k"
    plan = Plan(provider="royalti", catalog="cat.csv", base_url=base_url)
    values = {"externalId": "EXT-1", "title": "T"}
    change = Change(row=2, key="externalId=EXT-1", action="create", values=values)
    plan.changes.append(change)
    result = RunResult(run_id=1, outcomes=[RowOutcome(change, "ok", "r1")], requests=1, seconds=0.5)
    path = write_report(tmp_path / "r.xlsx", plan, result, spec, sheet)
    rows = openpyxl.load_workbook(path)["summary"].iter_rows(min_row=2, values_only=True)
    summary = {r[0]: r[1] for r in rows}
    assert summary["base_url"] == "https://api.example.com/v1"
    with zipfile.ZipFile(path) as zf:
        assert not any(b"s3cret" in zf.read(n) or b"key=k" in zf.read(n) for n in zf.namelist())
