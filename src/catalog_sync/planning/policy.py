"""What a run may write, beyond what differs: a field's write policy and protected records.

House rules (``--schema house.yaml``, or a job's ``schema``) say, per field, when it is written:

* ``overwrite`` (the default): whenever the sheet's value differs;
* ``fill-empty``: only into a remote field that is empty (a value someone set is never replaced);
* ``create-only``: when the record is created, never on an update;
* ``never``: the column is read (and matched, and shown) but never sent.

A field a policy holds back is kept on the change as ``held`` ({field: {old, new, policy, why}}) and
shown, never sent; a row left with nothing to send is a ``skip`` saying why.  ``protect`` rules
(``field`` = ``value``, or matching ``pattern``) name records a run never updates and a mirror never
deletes: their changes are ``protected``.  Both are applied to the plan as it is made, so a saved
plan, the page to review and the plan workbook show exactly what will be held.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pandas as pd

from catalog_sync.planning.model import Change
from catalog_sync.spec import ProviderSpec
from catalog_sync.spec.normalise import normalise_value

__all__ = ["hold_by_policy", "protect_records", "protected_ids"]


def hold_by_policy(changes: list[Change], spec: ProviderSpec) -> list[Change]:
    """``changes`` with every field a write policy holds back moved from ``fields`` to ``held``."""
    if all(f.policy == "overwrite" for f in spec.fields):
        return changes  # most plans: no pass over a million rows
    return [_held(change, spec) if change.action in ("create", "update") else change for change in changes]


def _held(change: Change, spec: ProviderSpec) -> Change:
    held = {
        name: {**diff, "policy": spec.field(name).policy, "why": why}
        for name, diff in change.fields.items()
        if (why := _why_held(spec.field(name).policy, change.action, diff))
    }
    if not held:
        return change
    fields = {name: diff for name, diff in change.fields.items() if name not in held}
    reason = "held by policy: " + "; ".join(f"{name} ({h['why']})" for name, h in held.items())
    action = change.action if fields else "skip"
    joined = "; ".join(part for part in (change.reason, reason) if part)
    return dataclasses.replace(change, action=action, fields=fields, held=held, reason=joined)


def _why_held(policy: str, action: str, diff: dict[str, str]) -> str:
    """Why ``policy`` holds this field's write back ('' when it goes)."""
    if policy == "never":
        return "never: the column is read but never sent"
    if policy == "create-only" and action == "update":
        return "create-only: set when the record is created, never updated"
    if policy == "fill-empty" and action == "update" and diff.get("old", "") != "":
        return f"fill-empty: the provider holds {diff['old']!r}"
    return ""


def protected_ids(remote: pd.DataFrame, spec: ProviderSpec, id_column: str) -> dict[str, str]:
    """remote id → the protect rule it matches, for the records of ``remote`` (canonical text)."""
    found: dict[str, str] = {}
    for rule in spec.protect:
        column = remote[rule.field].astype(str)
        if rule.value is not None:
            hits = column == normalise_value(rule.value, spec.field(rule.field))
        else:
            hits = column.str.contains(str(rule.pattern), regex=True, na=False)
        for rid in remote.loc[hits.to_numpy(dtype=bool), id_column].astype(str):
            found.setdefault(rid, rule.describe())
    return found


def protect_records(changes: Iterable[Change], protected: dict[str, str]) -> list[Change]:
    """``changes`` with each update, delete or conflict of a protected record made ``protected``."""
    if not protected:
        return list(changes)
    return [
        dataclasses.replace(
            change,
            action="protected",
            reason=f"protected ({protected[change.remote_id]}): it is never updated nor deleted",
        )
        if change.remote_id in protected and change.action in ("update", "delete", "conflict", "skip")
        else change
        for change in changes
    ]
