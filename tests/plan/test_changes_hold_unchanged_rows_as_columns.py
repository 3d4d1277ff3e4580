"""A plan's changes: the rows that do something as changes, the unchanged rows as columns, one
sequence in plan order (planning/changes.py)."""

from __future__ import annotations

from catalog_sync.planning.changes import Change, Changes, UnchangedRows
from catalog_sync.planning.model import Plan


def _changes() -> Changes:
    listed = [
        Change(3, "id=c", "update", {"title": {"old": "C", "new": "C2"}}, remote_id="c"),
        Change(6, "upc=6", "create", {"title": {"old": "", "new": "F"}}),
        Change(None, "id=z", "delete", remote_id="z"),
    ]
    unchanged = UnchangedRows(
        [2, 4, 5, 7], ["id=b", "id=d", "upc=5", "id=g"], [None, None, "e", None], ["1" * 64] * 4
    )
    return Changes(listed, unchanged)


def test_unchanged_rows_take_their_place_in_row_order_before_the_deletes() -> None:
    changes = _changes()
    assert [(c.row, c.action) for c in changes] == [
        (2, "unchanged"),
        (3, "update"),
        (4, "unchanged"),
        (5, "unchanged"),
        (6, "create"),
        (7, "unchanged"),
        (None, "delete"),
    ]
    assert changes[4].action == "create" and changes[-1].action == "delete" and len(changes) == 7
    assert [c.remote_id for c in changes if c.action == "unchanged"] == ["b", "d", "e", "g"]
    assert [(n, c.action) for n, c in changes.numbered_notable()] == [
        (2, "update"),
        (5, "create"),
        (7, "delete"),
    ]


def test_an_unchanged_row_is_the_same_change_each_time_it_is_asked_for() -> None:
    changes = _changes()
    first = list(changes)
    assert all(a is b for a, b in zip(first, changes, strict=True))  # an apply keys its outcomes by them


def test_the_counts_follow_a_change_put_in_an_unchanged_rows_place() -> None:
    changes = _changes()
    assert changes.counts()["unchanged"] == 4
    changes[3] = Change(5, "upc=5", "conflict", remote_id="e", reason="moved")
    counts = changes.counts()
    assert counts["unchanged"] == 3 and counts["conflict"] == 1
    listed, rest = changes.compact()
    assert [c.row for c in listed] == [3, 5, 6, None] and rest is not None and rest.rows.tolist() == [2, 4, 7]


def test_a_compact_plan_saved_and_read_back_keeps_its_order_and_counts() -> None:
    plan = Plan("royalti", "c.csv", changes=_changes())
    back = Plan.from_dict(plan.to_dict())
    assert [(c.row, c.action, c.remote_id) for c in back.changes] == [
        (c.row, c.action, c.remote_id) for c in plan.changes
    ]
    assert back.summary == plan.summary and back.to_dict()["unchanged"]["fingerprint"] == ["1" * 16] * 4
