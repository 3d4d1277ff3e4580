# mypy: disable-error-code="type-var"
"""Number cells holding Excel date serials in date columns: converted when the date is certain.

A workbook whose releaseDate column lost its date format holds 45458 where the user saw
2024-06-15.  With the workbook's date system known (1900, or the Mac 1904 one) the cell is
read as the date — validation passes with a warning and plan sends the ISO date.  Where the
date is not certain (text, CSV, xls, serial 60, a year) it stays an error.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from catalog_sync.cli.main import cli
from catalog_sync.sandbox import Sandbox
from catalog_sync.validation import validate_catalog
from catalog_sync.validation.dates import excel_serial_to_date

KEY = "RWAK_test_date_serials_5d1e"
HEADER = ["externalId", "title", "displayArtist", "type", "format", "releaseDate"]


def _book(path: Path, dates: list[object], *, mac: bool = False, text: bool = False) -> Path:
    wb = Workbook()
    if mac:
        wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.append(HEADER)
    for i, value in enumerate(dates):
        ws.append([f"EXT-{i}", f"Title {i}", "Band", "Audio", "Single", value])
        if text:
            ws.cell(row=i + 2, column=6).data_type = "s"
    wb.save(path)
    return path


def _validate(path: Path, *extra: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["validate", str(path), "-p", "royalti", "--json", *extra])
    return result.exit_code, json.loads(result.stdout)


def _dates(report: dict) -> list[dict]:
    return [p for p in report["problems"] if p["column"] == "releaseDate"]


def test_a_number_cell_serial_is_read_as_its_date_with_a_warning(tmp_path) -> None:
    code, report = _validate(_book(tmp_path / "c.xlsx", [45458]))
    assert code == 0 and report["valid"] is True
    [problem] = _dates(report)
    assert (problem["cell"], problem["code"], problem["severity"]) == ("F2", "excel-damage", "warning")
    assert problem["value"] == "45458"
    assert problem["message"] == (
        "releaseDate 45458 was an Excel date serial; read as 2024-06-15 — format the column as Date "
        "(or Text) in the sheet to silence this"
    )
    # --strict turns the warning into an error, as for every warning
    assert _validate(tmp_path / "c.xlsx", "--strict")[0] == 3


def test_the_1904_date_system_is_honoured(tmp_path) -> None:
    sheet, _spec, report = validate_catalog(_book(tmp_path / "mac.xlsx", [45458, 0], mac=True), "royalti")
    assert sheet.date1904 is True
    # no leap-year bug, and day 0 exists
    assert sheet.data["releaseDate"].tolist() == ["2028-06-16", "1904-01-01"]
    assert [p.extra["converted"] for p in report.problems if p.column == "releaseDate"] == [
        "2028-06-16",
        "1904-01-01",
    ]
    assert all("1904 date system" in p.message for p in report.problems if p.column == "releaseDate")
    assert report.valid


def test_a_date_time_serial_keeps_the_date_and_says_the_time_was_dropped(tmp_path) -> None:
    sheet, _spec, report = validate_catalog(_book(tmp_path / "t.xlsx", [45458.75]), "royalti")
    assert sheet.data.loc[2, "releaseDate"] == "2024-06-15"
    [problem] = [p for p in report.problems if p.column == "releaseDate"]
    assert problem.severity == "warning" and "18:00" in problem.message and "holds a date" in problem.message


def test_uncertain_serials_stay_errors(tmp_path) -> None:
    # serial 60 is the fictitious 1900-02-29; 3 000 000 is past 9999-12-31; 59 is counted differently
    # by Excel and LibreOffice; 2024 is a year; a real date cell is fine
    path = _book(tmp_path / "u.xlsx", [60, 3_000_000, 59, 2024, dt.datetime(2024, 6, 15)])
    sheet, _spec, report = validate_catalog(path, "royalti")
    found = {p.cell: p for p in report.problems if p.column == "releaseDate"}
    assert sorted(found) == ["F2", "F3", "F4", "F5"] and not report.valid
    assert all(p.severity == "error" for p in found.values())
    assert (found["F2"].code, found["F3"].code) == ("excel-damage", "excel-damage")
    assert "suggestion" not in found["F2"].extra and "no real date" in found["F2"].message
    assert found["F4"].extra["suggestion"] == "1900-02-28"
    assert found["F5"].code == "bad-format" and "YYYY-MM-DD" in found["F5"].message  # the year's message
    assert sheet.data["releaseDate"].tolist() == ["60", "3000000", "59", "2024", "2024-06-15"]


def test_text_that_looks_like_a_serial_is_never_converted(tmp_path) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text(",".join(HEADER) + "\nEXT-1,T,Band,Audio,Single,45458\n", encoding="utf-8")
    text_cell = _book(tmp_path / "text.xlsx", ["45458"], text=True)
    for path in (csv, text_cell):
        code, report = _validate(path)
        [problem] = _dates(report)
        assert code == 3 and (problem["code"], problem["severity"]) == ("excel-damage", "error")
        assert "probably 2024-06-15" in problem["message"]


def test_a_workbook_whose_date_system_is_unknown_keeps_the_error(make_sheet) -> None:
    from catalog_sync.spec import load_spec
    from catalog_sync.validation import validate_sheet

    # kinds say "workbook", but the file cannot be read for its date system (xlsb, gone, damaged)
    sheet = make_sheet(
        [{"title": "a", "externalId": "E", "releaseDate": "45458"}], kinds=[{"releaseDate": "n"}]
    )
    sheet.path = Path("/nonexistent/c.xlsb")
    [problem] = validate_sheet(sheet, load_spec("royalti")).problems
    assert (problem.code, problem.severity, problem.extra) == (
        "excel-damage",
        "error",
        {"suggestion": "2024-06-15"},
    )
    assert "could not be read" in problem.message and sheet.data.loc[2, "releaseDate"] == "45458"


def test_validating_again_reports_the_conversion_again(tmp_path) -> None:
    from catalog_sync.validation import validate_sheet

    sheet, spec, first = validate_catalog(_book(tmp_path / "again.xlsx", [45458]), "royalti")
    second = validate_sheet(sheet, spec)
    assert first.flatten(("cell", "code", "severity")) == second.flatten(("cell", "code", "severity"))
    assert sheet.data.loc[2, "releaseDate"] == "2024-06-15"


def test_excel_serial_to_date_in_the_1904_system() -> None:
    assert excel_serial_to_date(0, True) == dt.date(1904, 1, 1)
    assert excel_serial_to_date(1462 + 45458, True) == excel_serial_to_date(45458 + 2 * 1462, False)
    assert excel_serial_to_date(-1, True) is None and excel_serial_to_date(2_957_004, True) is None
    assert excel_serial_to_date(2_957_003, True) == dt.date(9999, 12, 31)


@pytest.mark.parametrize(("mac", "expected"), [(False, "2024-06-15"), (True, "2028-06-16")])
def test_plan_and_apply_send_the_iso_date(tmp_path, mac: bool, expected: str) -> None:
    path = _book(tmp_path / "plan.xlsx", [45458], mac=mac)
    common = ["-p", "royalti", "--state", str(tmp_path / "s.db")]
    with Sandbox("royalti", api_key=KEY) as sb:
        env = {"ROYALTI_API_KEY": KEY, "ROYALTI_BASE_URL": sb.url}
        result = CliRunner().invoke(cli, ["plan", str(path), *common, "--json"], env=env)
        assert result.exit_code == 0, result.output
        [change] = json.loads(result.stdout)["changes"]
        assert change["action"] == "create" and change["fields"]["releaseDate"]["new"] == expected
        applied = CliRunner().invoke(cli, ["apply", str(path), *common, "--yes"], env=env)
        assert applied.exit_code == 0, applied.output
        [product] = sb.state()["products"]
        assert str(product["releaseDate"]).startswith(expected)
        # the sheet is unchanged (still the number), and the next plan has nothing to do
        again = CliRunner().invoke(cli, ["plan", str(path), *common, "--json"], env=env)
        assert again.exit_code == 0 and json.loads(again.stdout)["summary"]["unchanged"] == 1


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.parametrize("target", ["ods", "xls"])
def test_libreoffice_ods_and_xls_convert_with_their_date_system(tmp_path, convert, target: str) -> None:
    src = _book(tmp_path / "lo.xlsx", [45458], mac=True)
    code, report = _validate(convert(src, target))
    [problem] = _dates(report)
    assert code == 0 and problem["severity"] == "warning" and "read as 2028-06-16" in problem["message"]
