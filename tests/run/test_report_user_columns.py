# mypy: disable-error-code="dict-item"
"""The report's user columns without HTTP: a mirror delete's row, a saved plan's report, a report
with nothing left to retry, and headers that clash with the result columns only by case."""

from __future__ import annotations

import json

import pytest

from catalog_sync.errors import InputError
from catalog_sync.execute.executor import RowOutcome, RunResult
from catalog_sync.planning.model import Change, Plan
from catalog_sync.run.report import catalog_from_report, write_report
from catalog_sync.sheets import load_sheet
from catalog_sync.sheets.write.report import read_report
from catalog_sync.spec import load_spec

SPEC = load_spec("keevault")
RESULTS = ["row", "action", "status", "remote_id", "changed", "error_code", "error"]


def _catalog(tmp_path):
    path = tmp_path / "kv.csv"
    path.write_text(
        "Product,Title,Ref,STATUS,Owner\n,Alpha,REF-A,active,ann\n,Beta,REF-B,active,bob\n", encoding="utf-8"
    )
    mapping = {"Product": "product_id", "Title": "name", "Ref": "external_reference"}
    return load_sheet(path, mapping=mapping, known_fields=SPEC.field_names), mapping


def _run(sheet, statuses):
    plan = Plan(provider="keevault", catalog="kv.csv", columns=list(sheet.columns))
    outcomes = []
    for row, status in zip(sheet.data.index.tolist(), statuses, strict=True):
        values = sheet.data.loc[row].to_dict()
        change = Change(row=row, key=f"name={values['name']}", action="create", values=values)
        outcomes.append(RowOutcome(change, status, error_code="" if status == "ok" else "651"))
    gone = Change(
        row=None,
        key="name=Old",
        action="delete",
        remote_id="9",
        values={"product_id": "9", "name": "Old", "description": "gone", "status": "active"},
    )
    outcomes.append(RowOutcome(gone, "ok", remote_id="9"))
    plan.changes = [o.change for o in outcomes]
    return plan, RunResult(run_id=1, outcomes=outcomes)


def test_headers_clashing_by_case_get_the_suffix_and_a_delete_row_keeps_its_fields(tmp_path) -> None:
    sheet, _mapping = _catalog(tmp_path)
    plan, result = _run(sheet, ["ok", "failed"])
    frame = read_report(write_report(tmp_path / "r.csv", plan, result, SPEC, sheet))
    assert list(frame.columns) == ["Product", "Title", "Ref", "STATUS (catalog)", "Owner", *RESULTS]
    assert frame["Owner"].tolist() == ["ann", "bob", ""]  # a deleted record has no row in the sheet
    assert frame.iloc[2][["Title", "STATUS (catalog)", "action"]].tolist() == ["Old", "active", "delete"]
    rows = json.loads(write_report(tmp_path / "r.json", plan, result, SPEC, sheet).read_text())["rows"]
    assert rows[2]["values"] == {
        "Product": "9",
        "Title": "Old",
        "Ref": "",
        "STATUS": "active",
        "Owner": "",
        "description": "gone",  # a field the sheet lacks, under its field name (as before)
    }


def test_a_saved_plans_report_uses_field_names_and_reads_back_without_a_mapping(tmp_path) -> None:
    sheet, _mapping = _catalog(tmp_path)
    plan, result = _run(sheet, ["ok", "failed"])
    path = write_report(tmp_path / "r.xlsx", plan, result, SPEC)  # no sheet: a PLAN.json was applied
    assert list(read_report(path).columns) == [
        "product_id",
        "name",
        "external_reference",
        "status (catalog)",
        *RESULTS,
    ]
    back = catalog_from_report(path, SPEC)
    assert back.data.index.tolist() == [3] and back.data.loc[3, "name"] == "Beta"
    assert back.ignored is None


def test_a_report_with_nothing_to_retry_is_an_empty_catalog_not_an_invalid_one(tmp_path) -> None:
    sheet, mapping = _catalog(tmp_path)
    plan, result = _run(sheet, ["ok", "ok"])
    back = catalog_from_report(write_report(tmp_path / "r.csv", plan, result, SPEC, sheet), SPEC, mapping)
    assert back.data.empty and back.columns == ["product_id", "name", "external_reference", "status"]
    assert [p.code for p in back.problems] == ["unknown-column"]  # Owner, ignored again


def test_a_mapped_report_reads_back_with_original_row_numbers_and_ignored_columns(tmp_path) -> None:
    sheet, mapping = _catalog(tmp_path)
    plan, result = _run(sheet, ["failed", "ok"])
    back = catalog_from_report(write_report(tmp_path / "r.csv", plan, result, SPEC, sheet), SPEC, mapping)
    assert back.source_headers == {
        "product_id": "Product",
        "name": "Title",
        "external_reference": "Ref",
        "status": "STATUS",
    }
    assert back.data.index.tolist() == [2] and back.data.loc[2, "name"] == "Alpha"
    assert back.ignored is not None and back.ignored.to_dict() == {"Owner": {2: "ann"}}
    [warning] = back.problems
    assert (warning.code, warning.value, warning.row) == ("unknown-column", "Owner", 1)


def _royalti_report(tmp_path, header: str, row: str):
    path = tmp_path / "r.csv"
    path.write_text(
        f"{header},{','.join(RESULTS)}\n{row},4,update,failed,R1,title,CONFLICT,409\n", encoding="utf-8"
    )
    return path


def test_a_key_under_a_mapped_header_is_not_lost_when_the_mapping_is_forgotten(tmp_path) -> None:
    royalti = load_spec("royalti")
    report = _royalti_report(tmp_path, "title,Barcode,Notes", "Third,075678291234,n")
    with pytest.raises(InputError) as caught:
        catalog_from_report(report, royalti)  # planned without its UPC, the row would be created again
    message = caught.value.message
    assert (
        "row(s) 4" in message
        and "'Barcode'" in message
        and "--mapping the catalog was applied with" in message
    )
    back = catalog_from_report(report, royalti, {"Barcode": "upc"})
    assert back.data.loc[4, "upc"] == "075678291234" and back.ignored is not None


def test_a_keyless_row_with_an_unknown_column_goes_on_once_the_column_is_mapped_to_nothing(tmp_path) -> None:
    royalti = load_spec("royalti")
    report = _royalti_report(tmp_path, "title,Notes", "Third,n")
    with pytest.raises(InputError):
        catalog_from_report(report, royalti)
    back = catalog_from_report(report, royalti, {"Notes": None})
    assert (
        back.data.loc[4, "title"] == "Third"
        and back.ignored is not None
        and back.ignored.loc[4, "Notes"] == "n"
    )
