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
"""

from __future__ import annotations

import dataclasses

from catalog_sync.planning.model import Change

__all__ = ["SIDES", "resolve_conflict", "why_not_takable"]

#: The sides a conflict can be resolved to.
SIDES = ("sheet", "remote")


def why_not_takable(change: Change, mode: str = "upsert") -> str:
    """Why ``change`` cannot be resolved by taking a side ('' when it can)."""
    if change.action != "conflict":
        return f"it is {'an' if change.action[0] in 'aeiou' else 'a'} {change.action}, not a conflict"
    if not change.conflicts or not change.remote_id:
        return "its conflict is not between a sheet value and a remote value (see its reason)"
    if mode == "create":
        return "the plan was made with --mode create, which never updates a record"
    return ""


def resolve_conflict(change: Change, take: str, *, mode: str = "upsert") -> Change:
    """``change`` (a three-way cell conflict) with ``take`` (``sheet`` or ``remote``) decided.

    Raises ValueError when the conflict cannot be taken (:func:`why_not_takable`) or ``take`` is
    not a side.
    """
    if take not in SIDES:
        raise ValueError(f"take {take!r} is not one of {', '.join(SIDES)}")
    problem = why_not_takable(change, mode)
    if problem:
        raise ValueError(f"row {change.row} ({change.key}) cannot be taken: {problem}")
    names = ", ".join(change.conflicts)
    fields = dict(change.fields)
    if take == "sheet":
        fields.update({name: {"old": c["remote"], "new": c["sheet"]} for name, c in change.conflicts.items()})
        reason = f"conflict resolved: took the sheet's value of {names}"
    else:
        reason = f"conflict resolved: kept the remote's value of {names}"
    return dataclasses.replace(
        change,
        action="update" if fields else "unchanged",
        fields=fields,
        conflicts={},
        reason=reason,
    )
