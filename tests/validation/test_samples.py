"""Every sample file gives exactly the problems it is named after (frictionless-style spec tests)."""

from __future__ import annotations

import pytest

from catalog_sync.sheets.write.template import write_template
from catalog_sync.spec import load_spec
from catalog_sync.validation import validate_catalog, validate_sheet
from tests.support.builders import SAMPLES

# (provider/file, strict) -> exact flattened (row, cell, code) triples, in report order
EXPECTED = {
    "royalti/missing_title.csv": [(3, "B3", "required")],
    "royalti/title_too_long.csv": [(2, "B2", "too-long")],
    "royalti/upc_lost_leading_zero.xlsx": [(2, "A2", "excel-damage")],
    "royalti/upc_scientific.csv": [(3, "A3", "excel-damage")],
    "royalti/upc_float.csv": [(4, "A4", "excel-damage")],
    "royalti/upc_bad_checksum.csv": [(2, "A2", "upc-checksum")],
    "royalti/date_serial.xlsx": [(3, "F3", "excel-damage")],  # a warning: converted
    "royalti/date_serial.csv": [(3, "F3", "excel-damage")],
    "royalti/bad_date.csv": [(2, "F2", "bad-format"), (4, "F4", "bad-format")],
    "royalti/year_out_of_range.csv": [(2, "G2", "out-of-range"), (3, "G3", "out-of-range")],
    "royalti/duplicate_upc.csv": [(2, "A2", "duplicate-key"), (4, "A4", "duplicate-key")],
    "royalti/not_in_enum_type.csv": [(3, "D3", "not-in-enum")],
    "royalti/upc_number_column.xlsx": [(1, "A1", "excel-damage"), (4, "A4", "excel-damage")],
    "royalti/fixable_upc_and_date.xlsx": [
        (2, "A2", "excel-damage"),
        (3, "F3", "excel-damage"),
        (5, "A5", "excel-damage"),
    ],
    "keevault/name_too_long.csv": [(3, "B3", "too-long")],
    "keevault/boolean_locale_ok.csv": [],
    "keevault/source_uppercase_ok.csv": [],
    "keevault/bad_status.csv": [(3, "G3", "not-in-enum")],
    "keevault/bad_boolean.csv": [(2, "E2", "bad-format")],
    "keevault/missing_required_columns.csv": [(None, None, "required"), (None, None, "required")],
    "keevault/duplicate_external_reference.csv": [(3, "F3", "duplicate-key"), (4, "F4", "duplicate-key")],
    "keevault/product_id_not_a_number.csv": [(2, "A2", "bad-format")],
    "jogg/neither_url_nor_name.csv": [(3, "B3", "one-of-required")],
    "jogg/bad_url.csv": [(3, "B3", "bad-format"), (4, "B4", "bad-format")],
    "jogg/float_product_id.csv": [(2, "A2", "excel-damage")],
    "jogg/unknown_column.csv": [(1, "G1", "unknown-column")],
    "jogg/header_only.csv": [(1, None, "empty-catalog")],
    "jogg/duplicate_url.csv": [(3, "B3", "duplicate-key"), (4, "B4", "duplicate-key")],
    "jogg/bad_media.csv": [(3, "F3", "bad-format"), (4, "F4", "bad-format")],
}
#: files whose only problems are warnings: valid unless --strict
WARNING_ONLY = {
    "royalti/upc_bad_checksum.csv",
    "royalti/date_serial.xlsx",
    "keevault/source_uppercase_ok.csv",
    "keevault/boolean_locale_ok.csv",
    "jogg/unknown_column.csv",
}


def _validate(name: str, strict: bool = False):
    provider = name.split("/")[0]
    return validate_catalog(SAMPLES / name, provider, strict=strict)[2]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_defect_file_gives_exactly_its_problems(name: str) -> None:
    report = _validate(name)
    assert report.flatten() == EXPECTED[name]
    assert report.valid is (name in WARNING_ONLY)
    for problem in report.problems:
        assert problem.message and problem.sheet


def test_every_sample_file_is_covered() -> None:
    files = {f"{p.parent.name}/{p.name}" for p in SAMPLES.glob("*/*") if p.suffix in (".csv", ".xlsx")}
    valid = {f for f in files if f.split("/")[1].startswith("catalog.")}
    assert files - valid == set(EXPECTED)


def test_excel_damage_suggestions_are_the_repairs() -> None:
    by_file = {
        "royalti/upc_lost_leading_zero.xlsx": "012345678905",
        "royalti/upc_float.csv": "075678291234",
        "royalti/date_serial.csv": "2024-09-01",
        "jogg/float_product_id.csv": "12345678",
    }
    for name, suggestion in by_file.items():
        (problem,) = _validate(name).problems
        assert problem.extra["suggestion"] == suggestion
        assert suggestion in problem.message
    (converted,) = _validate("royalti/date_serial.xlsx").problems
    assert converted.severity == "warning" and converted.extra == {"converted": "2024-09-01"}
    assert "read as 2024-09-01" in converted.message
    (sci,) = _validate("royalti/upc_scientific.csv").problems
    assert "suggestion" not in sci.extra and "lost" in sci.message


def test_bad_checksum_is_an_error_when_strict() -> None:
    report = _validate("royalti/upc_bad_checksum.csv", strict=True)
    assert report.flatten(("row", "code", "severity")) == [(2, "upc-checksum", "error")]
    assert not report.valid and report.invalid_rows == {2}


@pytest.mark.parametrize("provider", ["jogg", "keevault", "royalti"])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_valid_sample_validates_clean(provider: str, suffix: str) -> None:
    sheet, spec, report = validate_catalog(SAMPLES / provider / f"catalog{suffix}", provider)
    assert report.problems == []
    assert report.valid and len(sheet.data) >= 5
    assert set(sheet.columns) <= set(spec.field_names)


def test_xlsx_sample_keeps_leading_zero_upcs_and_iso_dates() -> None:
    sheet, _, _ = validate_catalog(SAMPLES / "royalti" / "catalog.xlsx", "royalti")
    assert "000936249900" in set(sheet.data["upc"])
    assert sheet.data.loc[2, "releaseDate"][:10] == "2024-06-15"


@pytest.mark.parametrize("provider", ["jogg", "keevault", "royalti"])
def test_contract_template_filled_with_examples_validates_clean(provider: str, tmp_path) -> None:
    """The provider contract: the template, filled with each field's example as text, is valid."""
    from openpyxl import load_workbook

    from catalog_sync.sheets import load_sheet

    spec = load_spec(provider)
    path = write_template(spec, tmp_path / "template.xlsx")
    wb = load_workbook(path)
    ws = wb.active
    headers = [c.value for c in ws[1]]
    assert headers == spec.field_names
    for j, name in enumerate(headers, 1):
        cell = ws.cell(row=2, column=j, value=spec.field(name).example)
        cell.data_type = "s"
    wb.save(path)
    sheet = load_sheet(path, known_fields=spec.field_names)
    assert list(sheet.data.index) == [2]
    report = validate_sheet(sheet, spec)
    assert report.problems == [], report.to_dict()


def test_committed_samples_are_what_the_generator_writes(tmp_path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.*"))
    assert generated and generated == sorted(
        p.relative_to(SAMPLES) for p in SAMPLES.glob("*/*") if p.suffix in (".csv", ".xlsx")
    )
    for rel in generated:
        assert (tmp_path / rel).read_bytes() == (SAMPLES / rel).read_bytes(), rel
