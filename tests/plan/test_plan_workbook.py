# mypy: disable-error-code="arg-type"
"""A plan to approve in Excel (issue 18 item 2), over real HTTP against the Royalti sandbox.

`plan -o PLAN.xlsx` of a pulled sheet with a create, an update, a mirror delete and a three-way
conflict; the reviewer's approve / take typed by LibreOffice itself (a Basic macro in headless
soffice) or by openpyxl; `apply PLAN.xlsx` sends exactly what was approved, as taken, and keeps
every per-row stale check of a saved plan.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from catalog_sync.planning.model import PLAN_WORKBOOK_SHEET, Change, is_plan_file
from catalog_sync.planning.resolve import resolve_conflict
from catalog_sync.planning.workbook import PLAN_SHEET
from catalog_sync.sheets.model import column_letter
from tests.support.libreoffice import edit_with_libreoffice
from tests.support.sync import FAST, products, run_cli, sandbox, write_requests
from tests.support.three_way import edit_sheet, pulled_royalti, put_product

ADDED = {
    "externalId": "added",
    "title": "Added",
    "type": "Audio",
    "format": "Single",
    "displayArtist": "Band",
}


def _planned(tmp_path: Path, sb, *, label_edit: bool = True):
    """A pulled sheet with an update (sheet-edit), a create (added), a mirror delete (dropped) and a
    three-way conflict on both-differ's title (with another sheet edit, its label), planned to plan.xlsx."""
    state = str(tmp_path / "state.db")
    env, pulled, ids = pulled_royalti(tmp_path, sb, state)
    put_product(sb, ids["both-differ"], title="Remote title")
    conflict_edits = {"title": "Sheet title", **({"label": "Label S"} if label_edit else {})}
    edit_sheet(
        pulled,
        {
            "sheet-edit": {"title": "New title"},
            "remote-edit": {"title": "=SUM(A1)"},
            "both-differ": conflict_edits,
        },
        drop={"dropped"},
        add=ADDED,
    )
    base = ["-p", "royalti", "--state", state, *FAST]
    out = tmp_path / "plan.xlsx"
    planned = run_cli(["plan", str(pulled), *base, "--mode", "mirror", "-o", str(out)], env)
    assert planned.exit_code == 4, planned.output  # the plan holds a conflict (exit-codes.md)
    return env, base, ids, out


def _cell(book: Path, key: str, column: str) -> str:
    """The address (B3) of ``column`` on the Plan sheet row whose key or title holds ``key``."""
    rows = CalamineWorkbook.from_path(str(book)).get_sheet_by_name(PLAN_SHEET).to_python()
    header = rows[0]
    for i, row in enumerate(rows[1:], 2):
        if key in (row[header.index("key")], row[header.index("title")]):
            return f"{column_letter(header.index(column))}{i}"
    raise AssertionError(f"no row for {key} in {rows}")


def _apply(out: Path, base: list[str], env, tmp_path: Path):
    report = tmp_path / "report.json"
    done = run_cli(["apply", str(out), *base, "--max-deletes", "1", "--yes", "--report", str(report)], env)
    rows = {r["values"].get("externalId") or r["key"]: r for r in json.loads(report.read_text())["rows"]}
    return done, rows


@pytest.mark.libreoffice
def test_a_plan_workbook_edited_by_libreoffice_applies_exactly_what_it_approves(tmp_path):
    with sandbox("royalti") as sb:
        env, base, _ids, out = _planned(tmp_path, sb)
        edits = {
            (PLAN_SHEET, _cell(out, "New title", "approve")): "no",
            (PLAN_SHEET, _cell(out, "Sheet title", "take")): "sheet",
        }
        saved = edit_with_libreoffice(out, tmp_path / "lo" / "plan.xlsx", edits)
        assert is_plan_file(saved)
        before = write_requests(sb)
        done, rows = _apply(saved, base, env, tmp_path)
        assert done.exit_code == 0, done.output
        assert rows["sheet-edit"]["status"] == "skipped" and rows["sheet-edit"]["error"] == "not approved"
        assert rows["both-differ"]["status"] == "ok" and rows["both-differ"]["action"] == "update"
        now = {p["externalId"]: p for p in products(sb)}
        assert now["sheet-edit"]["title"] == "T sheet-edit"  # not approved: not written
        assert now["both-differ"]["title"] == "Sheet title"  # taken from the sheet
        assert now["both-differ"]["label"] == "Label S"  # the row's other sheet edit
        assert now["remote-edit"]["title"] == "=SUM(A1)"  # text, never a formula
        assert now["added"]["title"] == "Added" and "dropped" not in now
        assert write_requests(sb) - before == 4  # the create, two updates, the delete; nothing else


@pytest.mark.libreoffice
def test_a_plan_workbook_saved_by_libreoffice_unedited_applies_the_whole_plan(tmp_path):
    with sandbox("royalti") as sb:
        env, base, _ids, out = _planned(tmp_path, sb)
        saved = edit_with_libreoffice(out, tmp_path / "lo" / "plan.xlsx", {})
        done, rows = _apply(saved, base, env, tmp_path)
        assert done.exit_code == 4, done.output  # the conflict nobody took stays a conflict
        assert {k: r["status"] for k, r in rows.items() if r["action"] != "unchanged"} == {
            "sheet-edit": "ok",
            "remote-edit": "ok",
            "added": "ok",
            "dropped": "ok",
            "both-differ": "conflict",
        }
        now = {p["externalId"]: p for p in products(sb)}
        assert now["sheet-edit"]["title"] == "New title" and now["both-differ"]["title"] == "Remote title"


def _set(out: Path, cells: dict[str, object]) -> None:
    book = load_workbook(out)
    for ref, value in cells.items():
        book[PLAN_SHEET][ref] = value
    book.save(out)


def test_the_workbook_lists_changes_old_and_new_side_by_side_and_hides_the_plan(tmp_path):
    with sandbox("royalti") as sb:
        _env, _base, _ids, out = _planned(tmp_path, sb)
        book = load_workbook(out)
        assert book.sheetnames == [PLAN_SHEET, "Summary", PLAN_WORKBOOK_SHEET]
        assert book[PLAN_WORKBOOK_SHEET].sheet_state == "hidden"
        ws = book[PLAN_SHEET]
        header = [c.value for c in ws[1]]
        assert header[:7] == ["#", "approve", "take", "action", "row", "key", "title"]
        assert header[7:10] == ["title: pulled", "title: old", "title: new"] and header[-1] == "reason"
        rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=2)]
        assert {r["action"] for r in rows} == {"create", "update", "delete", "conflict"}  # unchanged: counted
        assert all(r["approve"] == "yes" for r in rows)
        clash = next(r for r in rows if r["action"] == "conflict")
        assert (clash["title: pulled"], clash["title: old"], clash["title: new"]) == (
            "T both-differ",
            "Remote title",
            "Sheet title",
        )
        formula = next(c for r in ws.iter_rows(min_row=2) for c in r if c.value == "=SUM(A1)")
        assert formula.data_type == "s"  # formula-looking text is text
        assert ws.freeze_panes == "D2" and ws.auto_filter.ref
        take = [dv for dv in ws.data_validations.dataValidation if '"sheet,remote"' in (dv.formula1 or "")]
        assert [str(dv.sqref) for dv in take] == [
            _cell(out, "Sheet title", "take")
        ]  # offered on the conflict only
        summary = dict(book["Summary"].iter_rows(values_only=True))
        assert summary["provider"] == "royalti" and summary["unchanged (not listed)"] == 2


def test_take_remote_keeps_the_remote_value_and_still_sends_the_rows_other_edits(tmp_path):
    with sandbox("royalti") as sb:
        env, base, _ids, out = _planned(tmp_path, sb)
        _set(out, {_cell(out, "Sheet title", "take"): "Remote"})
        done, rows = _apply(out, base, env, tmp_path)
        assert done.exit_code == 0, done.output
        now = {p["externalId"]: p for p in products(sb)}
        assert now["both-differ"]["title"] == "Remote title" and now["both-differ"]["label"] == "Label S"
        assert rows["both-differ"]["changed"] == "label"


def test_a_record_changed_remotely_after_the_plan_is_a_conflict_even_when_taken(tmp_path):
    with sandbox("royalti") as sb:
        env, base, ids, out = _planned(tmp_path, sb)
        _set(out, {_cell(out, "Sheet title", "take"): "sheet"})
        put_product(sb, ids["both-differ"], title="Remote title", label="Label R")
        put_product(sb, ids["sheet-edit"], title="T sheet-edit", label="Label R")
        before = write_requests(sb)
        done, rows = _apply(out, base, env, tmp_path)
        assert done.exit_code == 4, done.output
        assert rows["both-differ"]["status"] == rows["sheet-edit"]["status"] == "conflict"
        assert "changed since the plan" in rows["both-differ"]["error"]
        now = {p["externalId"]: p for p in products(sb)}
        assert now["both-differ"]["title"] == "Remote title" and now["both-differ"]["label"] == "Label R"
        assert now["sheet-edit"]["title"] == "T sheet-edit"
        assert write_requests(sb) - before == 3  # the untouched rows: a create, an update, the delete


@pytest.mark.parametrize(
    ("value", "approved"), [("N", False), (False, False), (0, False), ("Y", True), (True, True)]
)
def test_approve_takes_yes_and_no_as_libreoffice_may_write_them(tmp_path, value, approved):
    with sandbox("royalti") as sb:
        env, base, _ids, out = _planned(tmp_path, sb)
        _set(out, {_cell(out, "New title", "approve"): value})
        _done, rows = _apply(out, base, env, tmp_path)
        assert (rows["sheet-edit"]["status"] == "ok") is approved
        assert (rows["sheet-edit"]["changed"] == "") is not approved  # a change not approved changed nothing
        assert ({p["externalId"]: p for p in products(sb)}["sheet-edit"]["title"] == "New title") is approved


@pytest.mark.parametrize(
    ("key", "column", "value", "says"),
    [
        ("New title", "approve", "maybe", "approve is 'maybe': write yes or no"),
        ("New title", "title: new", "Edited in the workbook", "title: new of change"),
        ("New title", "take", "sheet", "not a conflict"),
        ("Sheet title", "take", "mine", "take is 'mine'"),
    ],
)
def test_a_cell_the_workbook_cannot_mean_is_refused_by_its_address_and_nothing_is_sent(
    tmp_path, key, column, value, says
):
    with sandbox("royalti") as sb:
        env, base, _ids, out = _planned(tmp_path, sb)
        ref = _cell(out, key, column)
        _set(out, {ref: value})
        before = write_requests(sb)
        done = run_cli(["apply", str(out), *base, "--max-deletes", "1", "--yes"], env)
        assert done.exit_code == 1, done.output
        assert f"sheet '{PLAN_SHEET}', cell {ref}" in done.stderr and says in done.stderr.replace("\n", " ")
        assert write_requests(sb) == before


def test_a_workbook_without_its_hidden_plan_is_refused_as_not_a_plan_workbook(tmp_path):
    with sandbox("royalti") as sb:
        env, base, _ids, out = _planned(tmp_path, sb)
        book = load_workbook(out)
        del book[PLAN_WORKBOOK_SHEET]
        book.save(out)
        done = run_cli(["apply", str(out), *base, "--yes"], env)
        assert done.exit_code == 1 and "not a plan workbook" in done.stderr


def test_a_pulled_catalog_workbook_is_not_a_plan_file(tmp_path):
    with sandbox("royalti") as sb:
        _env, _base, _ids, out = _planned(tmp_path, sb)
        assert is_plan_file(out) and not is_plan_file(tmp_path / "pulled.xlsx")


def test_resolving_a_cell_conflict_takes_one_side_and_keeps_the_rows_other_edits():
    change = Change(
        row=3,
        key="id=r1",
        action="conflict",
        remote_id="r1",
        fingerprint="fp",
        fields={"label": {"old": "A", "new": "S"}},
        conflicts={"title": {"old": "T", "sheet": "Sheet", "remote": "Remote"}},
    )
    sheet = resolve_conflict(change, "sheet")
    assert sheet.action == "update" and sheet.fingerprint == "fp"
    assert sheet.payload == {"label": "S", "title": "Sheet"}
    assert resolve_conflict(change, "remote").payload == {"label": "S"}
    alone = Change(row=3, key="id=r1", action="conflict", remote_id="r1", conflicts=change.conflicts)
    assert resolve_conflict(alone, "remote").action == "unchanged"
    with pytest.raises(ValueError, match="not between a sheet value"):
        resolve_conflict(Change(row=3, key="upc=1", action="conflict", reason="two records"), "sheet")
