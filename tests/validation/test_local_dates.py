"""Issue 19 item 6: dates written the local way (``--date-format``), one finding per such column
without it (``local-date-format``, which ``validate --fix`` applies), and a CSV export whose letters
became ``?`` (``lost-characters``).  Real CSV and xlsx files, written and read."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner
from openpyxl import Workbook

from catalog_sync.cli.main import cli
from catalog_sync.validation import validate_catalog
from catalog_sync.validation.local_dates import local_date_iso

HEADER = ["externalId", "title", "displayArtist", "type", "format", "releaseDate"]


def _catalog(path: Path, dates: list[str], titles: list[str] | None = None) -> Path:
    titles = titles or [f"Release {i}" for i in range(len(dates))]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i, (day, title) in enumerate(zip(dates, titles, strict=True)):
            writer.writerow([f"EXT-{i}", title, "Band", "Audio", "Single", day])
    return path


def _us_dates(n: int) -> list[str]:
    """US exports: 07/17/2020 and 7/4/2021 alike; some days above 12 decide the form."""
    return [
        f"{i % 12 + 1:02d}/{i % 28 + 1:02d}/2020" if i % 2 else f"{i % 9 + 1}/{i % 28 + 1}/2021"
        for i in range(n)
    ]


def _codes(report) -> list[str]:
    return [p.code for p in report.problems]


def test_a_us_dated_column_of_3000_rows_is_one_finding_naming_the_option(tmp_path):
    _sheet, _spec, report = validate_catalog(_catalog(tmp_path / "us.csv", _us_dates(3000)), "royalti")
    assert _codes(report) == ["local-date-format"]
    (finding,) = report.problems
    assert finding.severity == "error" and finding.column == "releaseDate"
    assert "--date-format MM/DD/YYYY" in finding.message and "3,000 dates" in finding.message


def test_a_german_dated_column_names_its_own_form(tmp_path):
    dates = ["17.07.2020", "1.2.2021", "31.12.2019"]
    _sheet, _spec, report = validate_catalog(_catalog(tmp_path / "de.csv", dates), "royalti")
    assert _codes(report) == ["local-date-format"]
    assert "--date-format DD.MM.YYYY" in report.problems[0].message


def test_dates_with_no_day_above_12_are_one_finding_asking_to_pick_a_form(tmp_path):
    dates = ["03/04/2024", "11/12/2023", "01/02/2022"]
    _sheet, _spec, report = validate_catalog(_catalog(tmp_path / "which.csv", dates), "royalti")
    assert _codes(report) == ["local-date-format"]
    message = report.problems[0].message
    assert "--date-format MM/DD/YYYY or --date-format DD/MM/YYYY" in message
    assert "fixes" not in report.problems[0].extra


def test_a_column_with_a_value_no_form_reads_keeps_its_per_cell_problems(tmp_path):
    dates = ["07/17/2020", "2024-06-15", "soon", "13/13/2020"]
    _sheet, _spec, report = validate_catalog(_catalog(tmp_path / "mixed.csv", dates), "royalti")
    assert [(p.code, p.cell) for p in report.problems] == [
        ("bad-format", "F2"),
        ("bad-format", "F4"),
        ("bad-format", "F5"),
    ]


def test_under_date_format_the_dates_are_read_as_iso_and_an_impossible_one_stays_a_problem(tmp_path):
    dates = ["07/17/2020", "7/4/2021", "2024-06-15", "02/30/2024", "12/31/2019 0:00"]
    sheet, _spec, report = validate_catalog(
        _catalog(tmp_path / "us.csv", dates), "royalti", date_format="MM/DD/YYYY"
    )
    assert sheet.data["releaseDate"].tolist() == [
        "2020-07-17",
        "2021-07-04",
        "2024-06-15",
        "02/30/2024",
        "2019-12-31",
    ]
    assert [(p.code, p.cell) for p in report.problems] == [("bad-format", "F5")]


def test_each_form_reads_single_digits_and_refuses_what_is_no_date():
    assert local_date_iso("7/4/2024", "MM/DD/YYYY") == "2024-07-04"
    assert local_date_iso("7/4/2024", "DD/MM/YYYY") == "2024-04-07"
    assert local_date_iso("4.7.2024", "DD.MM.YYYY") == "2024-07-04"
    assert local_date_iso("2024/7/4", "YYYY/MM/DD") == "2024-07-04"
    assert local_date_iso("13/01/2024", "MM/DD/YYYY") is None
    assert local_date_iso("01/01/0000", "MM/DD/YYYY") is None
    assert local_date_iso("07-17-2020", "MM/DD/YYYY") is None


def _validate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", *args])
    return result.exit_code, result.stdout


def test_the_option_is_taken_in_any_case_by_the_command(tmp_path):
    catalog = _catalog(tmp_path / "us.csv", _us_dates(20))
    assert _validate(str(catalog), "-p", "royalti")[0] == 3
    code, output = _validate(str(catalog), "-p", "royalti", "--date-format", "mm/dd/yyyy")
    assert code == 0, output


def test_validate_fix_writes_the_column_as_iso_dates(tmp_path):
    catalog = _catalog(tmp_path / "us.csv", ["07/17/2020", "7/4/2021", "", "2024-06-15"])
    fixed = tmp_path / "fixed.csv"
    code, output = _validate(str(catalog), "-p", "royalti", "--fix", "-o", str(fixed), "--json")
    assert code == 0, output
    doc = json.loads(output)
    assert [(f["cell"], f["old"], f["new"]) for f in doc["fixed"]] == [
        ("F2", "07/17/2020", "2020-07-17"),
        ("F3", "7/4/2021", "2021-07-04"),
    ]
    with fixed.open(encoding="utf-8-sig", newline="") as fh:
        assert [r["releaseDate"] for r in csv.DictReader(fh)] == [
            "2020-07-17",
            "2021-07-04",
            "",
            "2024-06-15",
        ]


def test_validate_fix_leaves_an_ambiguous_column_alone(tmp_path):
    catalog = _catalog(tmp_path / "which.csv", ["03/04/2024", "11/12/2023"])
    code, output = _validate(str(catalog), "-p", "royalti", "--fix", "-o", str(tmp_path / "f.csv"), "--json")
    doc = json.loads(output)
    assert code == 3 and doc["fixed"] == [] and [p["code"] for p in doc["problems"]] == ["local-date-format"]


TITLES = ["Caf? M?moires", "???? ????", "Nachtfahrt", "?cole de Nuit", "Why? Because", "Live"]


def test_a_csv_whose_letters_became_question_marks_is_one_warning_naming_the_column(tmp_path):
    catalog = _catalog(tmp_path / "ansi.csv", ["2024-06-15"] * len(TITLES), TITLES)
    _sheet, _spec, report = validate_catalog(catalog, "royalti")
    assert _codes(report) == ["lost-characters"]
    (warning,) = report.problems
    assert warning.severity == "warning" and "title (3)" in warning.message and "CSV UTF-8" in warning.message


def test_question_marks_that_are_text_are_not_lost_characters(tmp_path):
    titles = ["Why? Because", "Who?", "Is it ??", "Live", "Rain", "Sun"]
    catalog = _catalog(tmp_path / "fine.csv", ["2024-06-15"] * len(titles), titles)
    assert _codes(validate_catalog(catalog, "royalti")[2]) == []


def test_a_workbook_holding_question_marks_is_not_an_export_that_lost_them(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for i, title in enumerate(TITLES):
        ws.append([f"EXT-{i}", title, "Band", "Audio", "Single", "2024-06-15"])
    wb.save(tmp_path / "book.xlsx")
    assert _codes(validate_catalog(tmp_path / "book.xlsx", "royalti")[2]) == []
