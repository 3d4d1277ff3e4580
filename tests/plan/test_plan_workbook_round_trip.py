"""A big plan to approve in Excel comes back exactly as it was written (issue 18 item 2).

10,000 changes of every kind the Plan sheet lists, with text a spreadsheet likes to change
(formulas, leading zeros, white space, line breaks, ``_xHHHH_``, markup, accents), written by
``save_plan_workbook`` and read back by ``read_plan_workbook``: every change is the one planned,
and reading it back checked every old/new/pulled cell of the Plan sheet against the plan.  A
LibreOffice save keeps the dropdowns, the filter and the hidden plan (not a carriage return in a
cell: LibreOffice makes it a line feed, so such a plan is refused as edited, as it always was).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from catalog_sync.planning.model import PLAN_WORKBOOK_SHEET, Change, Plan
from catalog_sync.planning.workbook import PLAN_SHEET, read_plan_workbook, save_plan_workbook
from tests.support.libreoffice import edit_with_libreoffice

TRICKY = [
    "=SUM(A1)",
    "00123",
    " leading space",
    "trailing space ",
    "two\nlines",
    "cr\r\nlf",
    "a\rb",
    "tab\there",
    "_x0041_ stays",
    "<b>&amp;</b>",
    "Ünïcödé € 😀",
    "-42",
    "TRUE",
    "",
]
ACTIONS = ("update", "create", "delete", "conflict", "skip", "unchanged", "update", "create")


def _change(n: int, texts: list[str]) -> Change:
    action = ACTIONS[n % len(ACTIONS)]
    text = texts[n % len(texts)]
    change = Change(
        row=n + 2,
        key=f"externalId=EXT-{n:05d}",
        action=action,
        remote_id=None if action == "create" else f"r{n}",
        fingerprint=None if action == "create" else f"{n:016x}",
        values={"externalId": f"EXT-{n:05d}", "title": f"{text} {n}", "label": text},
    )
    if action in ("update", "create"):
        old = "" if action == "create" else f"old {text}"
        change.fields = {"title": {"old": old, "new": f"{text} {n}"}, "label": {"old": old, "new": text}}
    elif action == "conflict":
        change.conflicts = {"title": {"old": text, "sheet": f"{text} {n}", "remote": f"remote {text}"}}
        change.fields = {"label": {"old": "Label A", "new": text}}
        change.reason = "title changed on both sides since the pull"
    elif action in ("delete", "skip"):
        change.reason = f"{action}: {text}"
    return change


def _plan(changes: int, texts: list[str] = TRICKY) -> Plan:
    return Plan(
        provider="royalti",
        catalog="big.xlsx",
        base_url="http://127.0.0.1:9",
        mode="mirror",
        columns=["externalId", "title", "label"],
        changes=[_change(n, texts) for n in range(changes)],
    )


def test_a_plan_of_ten_thousand_changes_reads_back_exactly_as_written(tmp_path):
    plan = _plan(10_000)
    path = tmp_path / "plan.xlsx"
    save_plan_workbook(plan, path)
    back = read_plan_workbook(path)
    assert [c.to_dict() for c in back.changes] == [c.to_dict() for c in plan.changes]
    assert {**back.to_dict(), "notes": []} == plan.to_dict()
    assert back.notes == ["plan.xlsx: 0 change(s) not approved (skipped), 0 conflict(s) taken"]


def _sheet_of(path: Path):
    book = load_workbook(path)
    return book, book[PLAN_SHEET]


@pytest.mark.libreoffice
def test_a_libreoffice_save_keeps_the_dropdowns_the_filter_and_the_hidden_plan(tmp_path):
    plan = _plan(400, [t for t in TRICKY if "\r" not in t])  # LibreOffice stores a CR as a LF
    save_plan_workbook(plan, tmp_path / "plan.xlsx")
    saved = edit_with_libreoffice(tmp_path / "plan.xlsx", tmp_path / "lo" / "plan.xlsx", {})
    (_, written), (book, kept) = _sheet_of(tmp_path / "plan.xlsx"), _sheet_of(saved)
    lists = {
        dv.formula1: (str(dv.sqref), dv.error, bool(dv.showErrorMessage))
        for dv in kept.data_validations.dataValidation
    }
    assert lists == {
        dv.formula1: (str(dv.sqref), dv.error, True) for dv in written.data_validations.dataValidation
    }
    assert set(lists) == {'"yes,no"', '"sheet,remote"'}
    assert kept.auto_filter.ref == written.auto_filter.ref
    assert book[PLAN_WORKBOOK_SHEET].sheet_state == "hidden"
    assert [c.to_dict() for c in read_plan_workbook(saved).changes] == [c.to_dict() for c in plan.changes]
