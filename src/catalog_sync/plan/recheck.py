"""A saved plan re-checked against what the provider holds now, before it is applied.

A saved plan is applied exactly, never over a change it did not see: a record changed since the
plan becomes a ``conflict``; a row an earlier apply of this plan already carried out becomes
``unchanged``; a create whose earlier answer was lost becomes a ``conflict`` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalog_sync.plan.model import Plan
from catalog_sync.providers.records import records_by_id
from catalog_sync.remote.read import read_remote
from catalog_sync.spec.normalise import normalise_value
from catalog_sync.state import Ledger

__all__ = ["recheck_saved_plan"]


def _holds(spec: Any, remote: dict[str, str], wanted: dict[str, str]) -> bool:
    """True when the remote record already holds every wanted value (compared canonically)."""
    return all(
        normalise_value(remote.get(name, ""), spec.field(name)) == normalise_value(value, spec.field(name))
        for name, value in wanted.items()
    )


def _already(change: Any, remote_id: str, reason: str) -> None:
    change.action, change.remote_id, change.reason = "unchanged", remote_id, reason


def recheck_saved_plan(plan: Plan, provider: Any, ledger: Ledger) -> Mapping[str, Any]:
    """Re-read the records a saved plan targets; return id → current record.

    A row whose remote record already holds what the plan would send (an earlier apply of this
    plan, or a run of it that was killed) becomes ``unchanged``: applying a plan twice sends
    nothing twice.  Otherwise a row whose remote side moved since the plan becomes ``conflict``.
    """
    records, view = read_remote(provider, ledger)
    current = records_by_id(records)
    spec = provider.spec
    unknowns = {(u.key_field, u.key_value): u for u in view.unknowns}
    index: dict[tuple[str, str], str] = {}
    for record in records:
        for key in spec.keys:
            value = normalise_value(record.fields.get(key, ""), spec.field(key))
            if value:
                index.setdefault((key, value), str(record.remote_id))
    for change in plan.changes:
        if change.action in ("update", "delete"):
            now = current.get(change.remote_id or "")
            if now is None:
                if change.action == "delete":
                    _already(
                        change, change.remote_id or "", "already deleted (an earlier apply of this plan?)"
                    )
                elif provider.can_list:
                    change.action, change.reason = (
                        "conflict",
                        (f"remote record {change.remote_id} was deleted since the plan was made; plan again"),
                    )
                continue
            if change.fingerprint and now.fingerprint != change.fingerprint:
                if change.action == "update" and _holds(spec, now.fields, change.payload):
                    _already(change, str(now.remote_id), "already holds the planned values (applied before)")
                    continue
                change.action, change.reason = (
                    "conflict",
                    (
                        f"remote record {change.remote_id} changed since the plan was made ({plan.created_at}); "
                        "it is not overwritten: plan again to see the new values"
                    ),
                )
        elif change.action == "create":
            lost = next(
                (
                    unknowns[(k, change.payload[k])]
                    for k in spec.keys
                    if (k, change.payload.get(k)) in unknowns
                ),
                None,
            )
            if lost is not None:  # an earlier create of this row was sent and its answer lost
                change.action, change.unknown = "conflict", True
                change.reason = (
                    f"an earlier create of this row ({lost.key_field} {lost.key_value!r}, {lost.since}) was sent but "
                    f"its answer was lost, and {provider.name} cannot be searched, so it is not sent again. If the "
                    f"product exists, fill {spec.remote_id} with its id; if not, run `catalog-sync runs -p "
                    f"{provider.name} --resolve-unknown {lost.key_value!r}` and apply again"
                )
                continue
            for key in spec.keys:
                value = change.payload.get(key, "")
                if value and (key, value) in index:
                    rid = index[(key, value)]
                    if _holds(spec, current[rid].fields, change.payload):
                        _already(change, rid, f"already created as {rid} (an earlier apply of this plan)")
                        break
                    change.action, change.reason = (
                        "conflict",
                        (
                            f"a remote record with {key} {value!r} ({rid}) appeared since the plan "
                            "was made; it is not created twice: plan again"
                        ),
                    )
                    break
    return current
