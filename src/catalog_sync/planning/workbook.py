"""A plan to approve in Excel: ``plan -o PLAN.xlsx`` writes it, ``apply PLAN.xlsx`` reads it back.

The workbook carries the exact plan in a hidden sheet (:data:`PLAN_WORKBOOK_SHEET`: the plan's
JSON, :meth:`Plan.to_dict`, in cells under Excel's 32,767-character limit, with its SHA-256), a
``Plan`` sheet for the reviewer and a ``Summary`` sheet.  The ``Plan`` sheet lists every change
but the unchanged rows (counted in the summary): ``#`` (the change's number), ``approve`` (yes /
no, yes by default), ``take`` (sheet / remote, offered on a three-way conflict; empty leaves it
unresolved), ``action``, ``row``, ``key``, the record's name or title, then per field that
changes anywhere ``FIELD: old`` (what the provider holds) and ``FIELD: new`` (what the sheet
says) side by side, ``FIELD: pulled`` for a field some row conflicts on (the value at the pull),
and the ``reason``.

Reading it back takes the plan from the hidden sheet and only ``approve`` and ``take`` from the
``Plan`` sheet, matched by ``#`` (a sorted or filtered sheet reads the same).  A change not
approved becomes ``skip`` with ``not approved``; a conflict taken is resolved by
:func:`~catalog_sync.planning.resolve.resolve_conflict`.  A value that is not a yes/no or a side,
an edited old/new cell, a ``take`` on a change that is not a cell conflict, or a damaged hidden
sheet is an :class:`InputError` naming the cell: nothing is sent.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog_sync.errors import InputError
from catalog_sync.planning.model import PLAN_WORKBOOK_SHEET, Change, Plan
from catalog_sync.planning.resolve import SIDES, resolve_conflict, why_not_takable
from catalog_sync.sheets.model import column_letter
from catalog_sync.spec import load_spec

if TYPE_CHECKING:
    from catalog_sync.sheets.write.review_xlsx import ReviewRow

__all__ = ["NOT_APPROVED", "PLAN_SHEET", "load_plan", "read_plan_workbook", "save_plan_workbook"]

PLAN_SHEET = "Plan"
WORKBOOK_FORMAT = "catalog-sync-plan-workbook/1"
NOT_APPROVED = "not approved"
#: The JSON is ASCII (``ensure_ascii``): a part is this many characters, under Excel's 32,767.
_PART = 32_000
#: Cell fills: a created value, a changed value, a conflicting cell, a delete.
_FILLS = {"create": "C6EFCE", "update": "FFEB9C", "conflict": "FFC7CE", "delete": "F4B084"}
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}
_LISTED = ("create", "update", "delete", "conflict", "protected", "skip")
_FIXED = ["#", "approve", "take", "action", "row", "key"]


# ---------------------------------------------------------------------------------- write
def save_plan_workbook(plan: Plan, path: Path) -> None:
    """Write ``plan`` as a review workbook at ``path`` (the ``Plan`` sheet's rows streamed, not kept)."""
    from catalog_sync.sheets.write.review_xlsx import Dropdown, ReviewTable, write_review_workbook

    layout = _Layout.of(plan)
    table = ReviewTable(
        name=PLAN_SHEET,
        header=layout.header,
        rows=_review_rows(plan, layout),
        dropdowns=[
            Dropdown(1, ("yes", "no"), "approve is yes or no"),
            Dropdown(2, SIDES, "take is sheet (the sheet's value) or remote (the remote's value)"),
        ],
        freeze_columns=3,
        widths=[6, 9, 9, 9, 6, 28, 28] + [22] * len(layout.cells) + [60],
    )
    listed = sum(1 for _ in _listed(plan))
    write_review_workbook(path, table, _summary(plan, listed), (PLAN_WORKBOOK_SHEET, _hidden(plan)))


def _review_rows(plan: Plan, layout: _Layout) -> Iterator[ReviewRow]:
    """The ``Plan`` sheet's rows: every listed change, approve offered on each, take on a cell conflict."""
    from catalog_sync.sheets.write.review_xlsx import ReviewRow

    approve, both = (0,), (0, 1)
    for number, change in _listed(plan):
        values, marks = layout.row(number, change)
        yield ReviewRow(values, marks, approve if why_not_takable(change, plan.mode) else both)


def _listed(plan: Plan) -> Iterator[tuple[int, Change]]:
    """(change number, change) of each change the reviewer sees (unchanged rows are only counted)."""
    return ((n, c) for n, c in plan.changes.numbered_notable() if c.action in _LISTED)


@dataclass
class _Layout:
    """The ``Plan`` sheet's columns: the fixed ones, the label, (field, side) per changed field, reason."""

    label: str
    cells: list[tuple[str, str]]

    @classmethod
    def of(cls, plan: Plan) -> _Layout:
        changed: dict[str, None] = {}
        conflicting: set[str] = set()
        for _n, change in _listed(plan):
            changed.update(dict.fromkeys(change.fields))
            changed.update(dict.fromkeys(change.conflicts))
            conflicting.update(change.conflicts)
        order = {name: i for i, name in enumerate(plan.columns)}
        names = sorted(changed, key=lambda n: order.get(n, len(order)))
        label = next((k for k in load_spec(plan.provider).labels if k in plan.columns), "")
        cells = [
            (name, side)
            for name in names
            for side in (("pulled", "old", "new") if name in conflicting else ("old", "new"))
        ]
        return cls(label, cells)

    @property
    def header(self) -> list[str]:
        return [*_FIXED, self.label or "record", *(f"{name}: {side}" for name, side in self.cells), "reason"]

    def row(self, number: int, change: Change) -> tuple[list[str | int], dict[int, str]]:
        values: list[str | int] = [
            number,
            "yes",
            "",
            change.action,
            change.row if change.row is not None else "",
            change.key,
            change.values.get(self.label, "") if self.label else "",
        ]
        marks: dict[int, str] = {}
        if change.action == "delete":
            marks[5] = _FILLS["delete"]
        for j, (name, side) in enumerate(self.cells, len(values)):
            value, fill = _cell_of(change, name, side)
            values.append(value)
            if fill:
                marks[j] = fill
        values.append(change.reason)
        return values, marks

    def checked(self, where: dict[str, int]) -> list[tuple[int, str, str]]:
        """(column index, field, side) of each field cell the sheet still has (``where``: header → index)."""
        columns = ((where.get(f"{name}: {side}"), name, side) for name, side in self.cells)
        return [(j, name, side) for j, name, side in columns if j is not None]


def _cell_of(change: Change, name: str, side: str) -> tuple[str, str]:
    """(text, fill) of one field cell: a conflict's pulled / remote (old) / sheet (new), else old / new."""
    clash = change.conflicts.get(name)
    if clash is not None:
        text = {"pulled": clash.get("old", ""), "old": clash.get("remote", ""), "new": clash.get("sheet", "")}
        return text[side], _FILLS["conflict"]
    diff = change.fields.get(name)
    if diff is None or side == "pulled":
        return "", ""
    fill = _FILLS["create"] if change.action == "create" else _FILLS["update"]
    return diff[side], fill if side == "new" else ""


def _summary(plan: Plan, listed: int) -> list[tuple[str, str | int]]:
    counts = plan.summary
    return [
        ("provider", plan.provider),
        ("base_url", plan.base_url),
        ("catalog", plan.catalog),
        ("mode", plan.mode),
        ("blanks", plan.blanks),
        ("created", plan.created_at),
        *((action, counts[action]) for action in ("create", "update", "delete", "conflict", "skip")),
        ("unchanged (not listed)", counts["unchanged"]),
        ("listed", listed),
        (
            "how to",
            "set approve to no on a change you do not want; on a conflict set take to sheet (the sheet's "
            "value, new) or remote (the remote's, old); then catalog-sync apply THIS FILE",
        ),
    ]


def _hidden(plan: Plan) -> list[list[str]]:
    text = json.dumps(plan.to_dict(), ensure_ascii=True, separators=(",", ":"))
    parts = [text[i : i + _PART] for i in range(0, len(text), _PART)] or [""]
    digest = hashlib.sha256(text.encode("ascii")).hexdigest()
    return [
        ["format", WORKBOOK_FORMAT],
        ["sha256", digest],
        ["parts", str(len(parts))],
        *([p] for p in parts),
    ]


# ---------------------------------------------------------------------------------- read
def load_plan(path: str | Path) -> Plan:
    """A saved plan: a plan workbook's approved plan (:func:`read_plan_workbook`), or a JSON plan."""
    if Path(path).suffix.lower() == ".xlsx":
        return read_plan_workbook(path)
    return Plan.load(path)


def read_plan_workbook(path: str | Path) -> Plan:
    """The plan a workbook carries, with its reviewer's ``approve`` and ``take`` applied."""
    source = str(path)
    book = _open(source)
    plan = Plan.parse(_hidden_text(book, source), source)
    decisions = _Decisions.read(_streamed_rows(book, PLAN_SHEET, source), plan, source)
    not_approved = taken = 0
    for number, change in _listed(plan):
        decision = decisions.get(number)
        if change.action == "skip":
            continue
        if decision is None or not decision.approved:
            plan.changes[number - 1] = _not_approved(change, decision is None)
            not_approved += 1
        elif decision.take:
            plan.changes[number - 1] = resolve_conflict(change, decision.take, mode=plan.mode)
            taken += 1
    plan.notes.append(
        f"{Path(source).name}: {not_approved} change(s) not approved (skipped), {taken} conflict(s) taken"
    )
    return plan


def _not_approved(change: Change, missing: bool) -> Change:
    """A skip that changes nothing: the report's ``changed`` is empty (the fields were not sent)."""
    change.action = "skip"
    change.fields = {}
    change.reason = NOT_APPROVED + (" (its row is not in the Plan sheet)" if missing else "")
    return change


def _open(source: str) -> Any:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(source)
    except Exception as exc:  # calamine's errors are its own types
        raise InputError(f"cannot read the plan workbook: {exc}", file=source) from exc
    if PLAN_WORKBOOK_SHEET not in book.sheet_names:
        raise InputError(
            f"not a plan workbook (it has no hidden {PLAN_WORKBOOK_SHEET} sheet): write one with "
            "`catalog-sync plan CATALOG -p PROVIDER -o PLAN.xlsx`, or apply the catalog itself",
            file=source,
        )
    return book


def _sheet(book: Any, name: str, source: str) -> Any:
    if name not in book.sheet_names:
        raise InputError(
            f"the plan workbook has no {name!r} sheet (renamed or deleted?); plan again", file=source
        )
    return book.get_sheet_by_name(name)


def _sheet_rows(book: Any, name: str, source: str) -> list[list[Any]]:
    rows: list[list[Any]] = _sheet(book, name, source).to_python()
    return rows


def _streamed_rows(book: Any, name: str, source: str) -> Iterator[list[Any]]:
    """A sheet's rows one by one from its first non-empty row, as :func:`_sheet_rows` has them (a
    100,000-row Plan sheet is not made into Python values all at once)."""
    rows = _sheet(book, name, source).iter_rows()
    return itertools.dropwhile(_blank, rows)  # iter_rows may start with the empty rows above the data


def _blank(cells: list[Any]) -> bool:
    return all(_text(v).strip() == "" for v in cells)


def _hidden_text(book: Any, source: str) -> str:
    rows = _sheet_rows(book, PLAN_WORKBOOK_SHEET, source)
    meta = {_text(r[0]): _text(r[1]) for r in rows[:3] if len(r) > 1}
    damaged = f"the hidden {PLAN_WORKBOOK_SHEET} sheet is damaged"
    if meta.get("format") != WORKBOOK_FORMAT:
        raise InputError(
            f"{damaged} or from another catalog-sync version (format {meta.get('format')!r}, not "
            f"{WORKBOOK_FORMAT!r}); plan again",
            file=source,
        )
    try:
        count = int(meta.get("parts", ""))
    except ValueError:
        count = -1
    parts = [r[0] if r and isinstance(r[0], str) else "" for r in rows[3:]]
    text = "".join(parts[:count]) if count >= 0 else ""
    if count < 0 or hashlib.sha256(text.encode("utf-8")).hexdigest() != meta.get("sha256"):
        raise InputError(f"{damaged} (its plan does not match its checksum); plan again", file=source)
    return text


def _text(value: Any) -> str:
    if type(value) is str:
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


@dataclass
class _Decision:
    approved: bool
    take: str


class _Decisions(dict[int, _Decision]):
    """The reviewer's ``approve`` and ``take`` per change number, every other cell checked unedited."""

    @classmethod
    def read(cls, rows: Iterator[list[Any]], plan: Plan, source: str) -> _Decisions:
        header = [_text(v).strip() for v in next(rows, [])]
        where = {name: j for j, name in enumerate(header) if name}
        missing = [name for name in ("#", "approve", "take") if name not in where]
        if missing:
            raise InputError(
                f"the {PLAN_SHEET} sheet has no {', '.join(missing)} column (renamed or deleted?); plan again",
                file=source,
                sheet=PLAN_SHEET,
            )
        checked = _Layout.of(plan).checked(where)
        decisions = cls()
        for i, row in enumerate(rows, 2):
            cells = row if len(row) >= len(header) else [*row, *([""] * (len(header) - len(row)))]
            if not _text(cells[where["#"]]).strip() and _blank(cells):
                continue
            number = _number(cells, where, i, plan, source)
            if number in decisions:
                raise InputError(
                    f"change {number} is listed twice (a copied row?); keep one", **_at(source, where["#"], i)
                )
            change = plan.changes[number - 1]
            _check_unedited(cells, checked, i, change, number, source)
            decisions[number] = _Decision(
                _approved(cells[where["approve"]], where["approve"], i, source),
                _take(cells[where["take"]], where["take"], i, change, plan.mode, source),
            )
        return decisions


def _at(source: str, column: int, row: int) -> dict[str, str]:
    return {"file": source, "sheet": PLAN_SHEET, "cell": f"{column_letter(column)}{row}"}


def _number(cells: list[Any], where: dict[str, int], i: int, plan: Plan, source: str) -> int:
    text = _text(cells[where["#"]]).strip()
    listed = text.isdigit() and 1 <= int(text) <= len(plan.changes)
    if not listed or plan.changes[int(text) - 1].action not in _LISTED:
        raise InputError(
            f"# {text!r} is not the number of a change this plan lists; the # column ties each row to "
            "its change: do not edit it",
            **_at(source, where["#"], i),
        )
    return int(text)


def _approved(value: Any, column: int, i: int, source: str) -> bool:
    text = _text(value).strip().lower()  # LibreOffice may have made a TRUE/FALSE or 1/0 of it
    if text in _YES or text in _NO:
        return text in _YES
    raise InputError(f"approve is {text!r}: write yes or no (nothing was sent)", **_at(source, column, i))


def _take(value: Any, column: int, i: int, change: Change, mode: str, source: str) -> str:
    text = _text(value).strip().lower()
    if not text:
        return ""
    if text not in SIDES:
        raise InputError(
            f"take is {text!r}: write sheet (the sheet's value) or remote (the remote's), or leave it "
            "empty (nothing was sent)",
            **_at(source, column, i),
        )
    problem = why_not_takable(change, mode)
    if problem:
        raise InputError(
            f"take {text!r} on {change.key}: {problem}, so no side can be taken; leave take empty "
            "(nothing was sent)",
            **_at(source, column, i),
        )
    return text


def _check_unedited(
    cells: list[Any], checked: list[tuple[int, str, str]], i: int, change: Change, number: int, source: str
) -> None:
    for j, name, side in checked:
        text = _cell_of(change, name, side)[0]
        now = _text(cells[j])
        if now != text:
            raise InputError(
                f"{name}: {side} of change {number} was edited ({text!r} → {now!r}): a plan workbook approves "
                "changes, it does not edit them; edit the catalog and plan again (nothing was sent)",
                **_at(source, j, i),
            )
