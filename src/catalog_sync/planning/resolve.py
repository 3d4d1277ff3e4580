"""A three-way conflict resolved by taking one side: the sheet's value or the remote's.

A pulled sheet whose cell was edited in the sheet and remotely to different values is a
``conflict`` on that cell (``planning.diff``): nothing of the row is sent.  Taking a side turns
it back into an ordinary change of the same record, still guarded by the record's fingerprint
(a record changed since the plan is a ``conflict`` again when the plan is applied):

* ``sheet``: the conflicting cells get the sheet's value, with the row's other sheet edits;
* ``remote``: the remote's values stay; the row's other sheet edits are still sent (if there
  are none, the row is ``unchanged``).

Only a cell conflict can be taken: a key naming another record, a create whose answer was lost
or a record deleted since the pull has no two values to choose from (:func:`why_not_takable`).

A side is taken in a plan workbook's ``take`` column, for a whole run with ``--prefer sheet|remote``
(job key ``prefer``), or per field with ``prefer:`` in house rules (:func:`settle_by_preference`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from catalog_sync.planning.model import Change
from catalog_sync.spec import ProviderSpec
from catalog_sync.spec.model import SIDES

__all__ = ["SIDES", "resolve_conflict", "settle_by_preference", "why_not_takable"]


def why_not_takable(change: Change, mode: str = "upsert") -> str:
    """Why ``change`` cannot be resolved by taking a side ('' when it can)."""
    if change.action != "conflict":
        return f"it is {'an' if change.action[0] in 'aeiou' else 'a'} {change.action}, not a conflict"
    if not change.conflicts or not change.remote_id:
        return "its conflict is not between a sheet value and a remote value (see its reason)"
    if mode == "create":
        return "the plan was made with --mode create, which never updates a record"
    return ""


def resolve_conflict(change: Change, take: str | Mapping[str, str], *, mode: str = "upsert") -> Change:
    """``change`` (a three-way cell conflict) with ``take`` decided: one side for every conflicting
    cell (``sheet`` or ``remote``), or a side per field ({field: side}, every conflicting field named).

    Raises ValueError when the conflict cannot be taken (:func:`why_not_takable`) or a side is not
    one of :data:`SIDES`.
    """
    sides = {name: take for name in change.conflicts} if isinstance(take, str) else dict(take)
    wrong = sorted({side for side in sides.values() if side not in SIDES})
    if wrong:
        raise ValueError(f"take {wrong[0]!r} is not one of {', '.join(SIDES)}")
    problem = why_not_takable(change, mode)
    if problem:
        raise ValueError(f"row {change.row} ({change.key}) cannot be taken: {problem}")
    missing = [name for name in change.conflicts if name not in sides]
    if missing:
        raise ValueError(f"row {change.row} ({change.key}): no side taken for {', '.join(missing)}")
    fields = dict(change.fields)
    took = {side: [name for name in change.conflicts if sides[name] == side] for side in SIDES}
    fields.update(
        {
            name: {"old": change.conflicts[name]["remote"], "new": change.conflicts[name]["sheet"]}
            for name in took["sheet"]
        }
    )
    parts = [
        f"{'took the sheet' if side == 'sheet' else 'kept the remote'}'s value of {', '.join(names)}"
        for side, names in took.items()
        if names
    ]
    return dataclasses.replace(
        change,
        action="update" if fields else "unchanged",
        fields=fields,
        conflicts={},
        reason="conflict resolved: " + "; ".join(parts),
    )


def settle_by_preference(
    changes: list[Change], spec: ProviderSpec, prefer: str | None, *, mode: str = "upsert"
) -> list[Change]:
    """``changes`` with each three-way cell conflict settled where every conflicting field has a side:
    the field's ``prefer`` (house rules), else the run's ``prefer`` (``--prefer``, job key ``prefer``).
    A conflict left with a field nobody settled stays a conflict; other conflicts are untouched."""
    if prefer is None and not any(f.prefer for f in spec.fields):
        return changes  # nothing settles anything (most plans: no pass over a million rows)
    settled: list[Change] = []
    for change in changes:
        sides = _preferred_sides(change, spec, prefer, mode)
        if sides is None:
            settled.append(change)
            continue
        resolved = resolve_conflict(change, sides, mode=mode)
        source = (
            "house rules" if all(spec.field(n).prefer for n in change.conflicts) else f"--prefer {prefer}"
        )
        settled.append(dataclasses.replace(resolved, reason=f"{resolved.reason} ({source})"))
    return settled


def _preferred_sides(
    change: Change, spec: ProviderSpec, prefer: str | None, mode: str
) -> dict[str, str] | None:
    """{field: side} for every conflicting field of ``change``, or None (not a takable conflict, or a
    field with no preference)."""
    if change.action != "conflict" or why_not_takable(change, mode):
        return None
    sides = {name: spec.field(name).prefer or prefer for name in change.conflicts}
    if any(side is None for side in sides.values()):
        return None
    return {name: str(side) for name, side in sides.items()}
