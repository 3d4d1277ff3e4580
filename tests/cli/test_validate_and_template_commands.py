"""`catalog-sync validate` and `catalog-sync template` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from catalog_sync.cli.main import cli
from catalog_sync.sheets.write.report import read_report
from catalog_sync.spec import load_spec
from tests.support.builders import SAMPLES


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_valid_catalog_exits_0_with_a_summary_line() -> None:
    code, out, err = run("validate", str(SAMPLES / "royalti" / "catalog.csv"), "-p", "royalti")
    assert code == 0, err
    assert "0 errors, 0 warnings in catalog.csv: valid" in out


def test_invalid_catalog_exits_3_and_shows_the_problem_table() -> None:
    code, out, err = run("validate", str(SAMPLES / "royalti" / "upc_lost_leading_zero.xlsx"), "-p", "royalti")
    assert code == 3
    for text in (
        "A2",
        "excel-damage",
        "error",
        "12345678905",
        "1 error, 0 warnings in upc_lost_leading_zero.xlsx",
    ):
        assert text in out
    assert "invalid" in err and "Traceback" not in out + err


def test_json_output_has_exactly_the_product_shape() -> None:
    code, out, _ = run("validate", str(SAMPLES / "keevault" / "bad_status.csv"), "-p", "keevault", "--json")
    assert code == 3
    data = json.loads(out)
    assert data == {
        "valid": False,
        "problems": [
            {
                "sheet": "bad_status.csv",
                "cell": "G3",
                "row": 3,
                "column": "status",
                "value": "archived",
                "code": "not-in-enum",
                "severity": "error",
                "message": "status 'archived' is not an allowed value; use one of: active, inactive (case does not matter)",
            }
        ],
    }


def test_json_on_a_valid_file_with_warnings_exits_0() -> None:
    code, out, _ = run(
        "validate", str(SAMPLES / "royalti" / "upc_bad_checksum.csv"), "-p", "royalti", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["valid"] is True and [p["code"] for p in data["problems"]] == ["upc-checksum"]
    code, out, _ = run(
        "validate", str(SAMPLES / "royalti" / "upc_bad_checksum.csv"), "-p", "royalti", "--json", "--strict"
    )
    assert code == 3 and json.loads(out)["problems"][0]["severity"] == "error"


def test_unreadable_file_exits_1_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not a workbook")
    code, out, err = run("validate", str(bad), "-p", "royalti")
    assert out == ""
    assert code == 1
    assert err.startswith("Error: ") and "broken.xlsx" in err and "Traceback" not in err


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("validate", str(SAMPLES / "jogg" / "catalog.csv"))[0] == 2  # no -p
    assert run("validate", str(tmp_path / "nope.csv"), "-p", "jogg")[0] == 1  # missing file: could not run
    code, _, err = run("validate", str(SAMPLES / "jogg" / "catalog.csv"), "-p", "jogg", "--report", "r.txt")
    assert code == 2 and ".csv, .xlsx or .json" in err


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".json"])
def test_report_file_holds_the_problems(tmp_path: Path, suffix: str) -> None:
    out_file = tmp_path / f"problems{suffix}"
    code, _, _ = run(
        "validate", str(SAMPLES / "royalti" / "duplicate_upc.csv"), "-p", "royalti", "--report", str(out_file)
    )
    assert code == 3 and out_file.exists()
    df = read_report(out_file)
    assert list(df["cell"]) == ["A2", "A4"] and set(df["code"]) == {"duplicate-key"}
    assert list(df["value"]) == ["012345678905", "012345678905"]  # leading zeros survive every format
    if suffix == ".json":
        assert json.loads(out_file.read_text(encoding="utf-8"))["valid"] is False


def test_schema_and_mapping_options(tmp_path: Path) -> None:
    house = tmp_path / "house.yaml"
    house.write_text("fields:\n  - name: mainGenre\n    required: true\n", encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("Product name: name\nPage: url\n", encoding="utf-8")
    catalog = tmp_path / "shop.csv"
    catalog.write_text("Page,Product name\nhttps://shop.example.com/a,A\n,B\n", encoding="utf-8")
    assert run("validate", str(catalog), "-p", "jogg", "--mapping", str(mapping))[0] == 0
    code, out, _ = run(
        "validate",
        str(SAMPLES / "royalti" / "missing_title.csv"),
        "-p",
        "royalti",
        "--schema",
        str(house),
        "--json",
    )
    problems = json.loads(out)["problems"]
    assert code == 3
    assert [(p["row"], p["column"], p["code"]) for p in problems] == [
        (None, "mainGenre", "required"),
        (3, "title", "required"),
    ]


def test_help_has_an_example() -> None:
    for command in ("validate", "template"):
        code, out, _ = run(command, "--help")
        assert code == 0 and "Example:" in out and "catalog-sync " in out


@pytest.mark.parametrize("provider", ["jogg", "keevault", "royalti"])
def test_template_command_writes_the_spec_as_xlsx(tmp_path: Path, provider: str) -> None:
    target = tmp_path / f"{provider}.xlsx"
    code, out, _ = run("template", "-p", provider, "-o", str(target))
    assert code == 0 and str(target) in out
    spec = load_spec(provider)
    wb = load_workbook(target)
    ws = wb.active
    assert [c.value for c in ws[1]] == spec.field_names
    assert ws.freeze_panes == "A2" and all(c.font.b for c in ws[1])
    for j, field in enumerate(spec.fields, 1):
        header = ws.cell(row=1, column=j)
        assert field.description[:20] in header.comment.text
        if field.example:
            assert f"Example: {field.example}" in header.comment.text
        assert ws.column_dimensions[header.column_letter].number_format == "@"
    lists = {str(dv.sqref).split(":")[0][:-1]: dv.formula1 for dv in ws.data_validations.dataValidation}
    expected = {}
    for j, field in enumerate(spec.fields, 1):
        letter = ws.cell(row=1, column=j).column_letter
        if field.type == "enum":
            expected[letter] = '"' + ",".join(field.values) + '"'
        elif field.type == "boolean":
            expected[letter] = '"1,0"' if field.style == "one_zero" else '"true,false"'
    assert lists == expected
    # a second run refuses to overwrite unless --force
    assert run("template", "-p", provider, "-o", str(target))[0] == 2
    assert run("template", "-p", provider, "-o", str(target), "--force")[0] == 0


def test_template_refuses_other_suffixes(tmp_path: Path) -> None:
    assert run("template", "-p", "jogg", "-o", str(tmp_path / "t.csv"))[0] == 2


def test_wide_terminals_get_the_full_table() -> None:
    import io

    from rich.console import Console

    from catalog_sync.cli.validate_view import PROBLEM_COLUMNS, render
    from catalog_sync.validation import validate_catalog

    _, _, report = validate_catalog(SAMPLES / "royalti" / "year_out_of_range.csv", "royalti")
    buffer = io.StringIO()
    render(report, "year_out_of_range.csv", Console(file=buffer, width=160, color_system=None))
    text = buffer.getvalue()
    header = text.splitlines()[1]
    assert [h.strip() for h in header.strip("┃ ").split("┃")] == PROBLEM_COLUMNS
    assert "G2" in text and "1899" in text and "out-of-range" in text and "between 1900 and 2100" in text
    assert text.rstrip().endswith("2 errors, 0 warnings in year_out_of_range.csv: invalid")


def test_unwritable_report_or_template_is_one_clear_error(tmp_path) -> None:
    catalog = tmp_path / "c.csv"
    catalog.write_text("title,upc\nA,012345678905\n", encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _out, err = run("validate", str(catalog), "-p", "royalti", "--report", str(blocker / "r.json"))
    assert code == 1 and "cannot write the report" in err and "unexpected" not in err
    code, _out, err = run("template", "-p", "royalti", "-o", str(blocker / "t.xlsx"))
    assert code == 1 and "cannot write the template" in err and "unexpected" not in err


def test_report_may_not_overwrite_the_catalog(tmp_path) -> None:
    catalog = tmp_path / "c.csv"
    catalog.write_text("title,upc\nA,012345678905\n", encoding="utf-8")
    code, _out, err = run("validate", str(catalog), "-p", "royalti", "--report", str(catalog))
    assert code == 2 and "overwrite the catalog" in err
    assert catalog.read_text(encoding="utf-8").startswith("title,upc")


def test_utf16_asked_for_a_file_without_bom_is_a_clear_error(tmp_path) -> None:
    catalog = tmp_path / "c.csv"
    catalog.write_text("title,upc\nA,012345678905\n", encoding="utf-8")
    code, _out, err = run("validate", str(catalog), "-p", "royalti", "--encoding", "utf-16")
    assert code == 1 and "utf-16-le" in err and "unexpected" not in err
