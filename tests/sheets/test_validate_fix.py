# mypy: disable-error-code="union-attr"
"""Issue 9 item 3: ``validate --fix -o FIXED`` applies only the certain repairs and lists them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from catalog_sync.cli.main import cli
from catalog_sync.validation import validate_catalog

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "royalti" / "fixable_upc_and_date.xlsx"
FIXED = [("A2", "12345678905", "012345678905"), ("F3", "45536", "2024-09-01")]


def _fix(tmp_path: Path, out: str, *extra: str) -> tuple[int, str, Path]:
    catalog = tmp_path / SAMPLE.name
    shutil.copy(SAMPLE, catalog)
    target = tmp_path / out
    result = CliRunner().invoke(
        cli, ["validate", str(catalog), "-p", "royalti", "--fix", "-o", str(target), *extra]
    )
    return result.exit_code, result.output, target


def test_fix_json_lists_each_changed_cell_and_leaves_the_uncertain_error(tmp_path) -> None:
    code, output, target = _fix(tmp_path, "fixed.xlsx", "--json")
    doc = json.loads(output[: output.rindex("}") + 1])
    assert [(f["sheet"], f["cell"], f["old"], f["new"]) for f in doc["fixed"]] == [
        ("Products", cell, old, new) for cell, old, new in FIXED
    ]
    assert [(p["cell"], p["code"], p["severity"]) for p in doc["problems"]] == [
        ("A5", "excel-damage", "error")
    ]
    assert code == 3 and doc["output"] == str(target)


def test_fix_terminal_lists_old_and_new(tmp_path) -> None:
    _code, output, _target = _fix(tmp_path, "fixed.xlsx")
    assert "Products!A2" in output and "12345678905 → 012345678905" in output
    assert "Products!F3" in output and "45536 → 2024-09-01" in output
    assert "2 cells fixed" in output


def test_fixed_xlsx_keeps_everything_else(tmp_path) -> None:
    _code, _output, target = _fix(tmp_path, "fixed.xlsx")
    before, after = load_workbook(SAMPLE).active, load_workbook(target).active
    changed = {cell for cell, _old, _new in FIXED}
    for row_before, row_after in zip(before.iter_rows(), after.iter_rows(), strict=True):
        for a, b in zip(row_before, row_after, strict=True):
            if a.coordinate in changed:
                assert (b.value, b.data_type, b.number_format) == (
                    dict((c, n) for c, _o, n in FIXED)[a.coordinate],
                    "s",
                    "@",
                )
            else:
                assert (b.value, b.data_type) == (a.value, a.data_type), a.coordinate
    assert after["A5"].value == "6.02537E+11"  # uncertain: untouched


def test_fixed_xlsx_survives_a_libreoffice_round_trip(tmp_path, convert) -> None:
    _code, _output, target = _fix(tmp_path, "fixed.xlsx")
    round_trip = convert(target, "xlsx")
    sheet, _spec, report = validate_catalog(round_trip, "royalti")
    assert sheet.data.loc[2, "upc"] == "012345678905" and sheet.kinds.loc[2, "upc"] == "s"
    assert sheet.data.loc[3, "releaseDate"] == "2024-09-01" and sheet.kinds.loc[3, "releaseDate"] == "s"
    assert report.flatten() == [(5, "A5", "excel-damage")]


def test_fixed_csv_holds_the_repairs_as_text(tmp_path) -> None:
    _code, _output, target = _fix(tmp_path, "fixed.csv")
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("upc,title") and lines[1].startswith("012345678905,")
    assert ",2024-09-01," in lines[2] and lines[4].startswith("6.02537E+11,")
    assert validate_catalog(target, "royalti")[2].flatten() == [(5, "A5", "excel-damage")]


def test_fix_of_a_csv_restores_a_lost_zero_and_keeps_headers(tmp_path) -> None:
    catalog = tmp_path / "mine.csv"
    catalog.write_text("Title;UPC;Notes\nA;12345678905;keep 007\nB;6.02537E+11;\n", encoding="utf-8")
    target = tmp_path / "fixed.csv"
    result = CliRunner().invoke(cli, ["validate", str(catalog), "-p", "royalti", "--fix", "-o", str(target)])
    expected = "\ufeffTitle;UPC;Notes\r\nA;012345678905;keep 007\r\nB;6.02537E+11;\r\n"
    assert target.read_bytes().decode("utf-8") == expected
    assert "mine.csv!B2" in result.output and result.exit_code == 3


def test_fix_needs_an_output_and_never_overwrites_the_catalog(tmp_path) -> None:
    catalog = tmp_path / SAMPLE.name
    shutil.copy(SAMPLE, catalog)
    no_output = CliRunner().invoke(cli, ["validate", str(catalog), "-p", "royalti", "--fix"])
    assert no_output.exit_code == 2 and "-o" in no_output.output
    same = CliRunner().invoke(cli, ["validate", str(catalog), "-p", "royalti", "--fix", "-o", str(catalog)])
    assert same.exit_code == 2 and catalog.read_bytes() == SAMPLE.read_bytes()


def test_fix_writes_an_ods_that_libreoffice_reads_with_the_repairs_as_text(tmp_path) -> None:
    """issue 18 item 5: a LibreOffice user asked for `--fix -o fixed.ods` (it took only .xlsx and .csv)."""
    import subprocess

    from python_calamine import CalamineWorkbook

    code, output, target = _fix(tmp_path, "fixed.ods")
    assert code == 3 and "2 cells fixed" in output, output  # A5 stays an error: uncertain
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    assert rows[1][0] == "012345678905" and rows[2][5] == "2024-09-01"
    # LibreOffice opens it and reads the repaired UPC as text (its leading zero kept)
    out = tmp_path / "lo"
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "csv", "--outdir", str(out), str(target)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    assert b"012345678905" in (out / "fixed.csv").read_bytes()
    again = CliRunner().invoke(cli, ["validate", str(target), "-p", "royalti", "--json"])
    doc = json.loads(again.stdout)
    assert [p["cell"] for p in doc["problems"] if p["severity"] == "error"] == ["A5"]  # the uncertain one
    refused = _fix(tmp_path, "fixed.ods")
    assert refused[0] == 2 and "--force" in refused[1]
