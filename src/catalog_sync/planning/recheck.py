"""A saved plan re-checked against what the provider holds now, before it is applied.

A saved plan is applied exactly, never over a change it did not see: a record changed since the
plan becomes a ``conflict``; a row an earlier apply of this plan already carried out becomes
``unchanged``; a create whose earlier answer was lost becomes a ``conflict`` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from catalog_sync.planning.model import Change, Plan
from catalog_sync.providers.base import Provider
from catalog_sync.providers.records import FirstPositions, RemoteTable, records_by_id
from catalog_sync.remote.read import read_remote
from catalog_sync.spec import ProviderSpec
from catalog_sync.spec.normalise import holds, normalise_value
from catalog_sync.state import Ledger, Unknown

__all__ = ["KeyIndex", "key_index", "recheck_saved_plan"]


def _already(change: Any, remote_id: str, reason: str) -> None:
    change.action, change.remote_id, change.reason = "unchanged", remote_id, reason


def recheck_saved_plan(plan: Plan, provider: Provider, ledger: Ledger) -> Mapping[str, Any]:
    """Re-read the records a saved plan targets; return id → current record.

    A row whose remote record already holds what the plan would send (an earlier apply of this
    plan, or a run of it that was killed) becomes ``unchanged``: applying a plan twice sends
    nothing twice.  Otherwise a row whose remote side moved since the plan becomes ``conflict``.
    """
    records, view = read_remote(provider, ledger)
    current = records_by_id(records)
    unknowns = {(u.key_field, u.key_value): u for u in view.unknowns}
    index = key_index(records, provider.spec)
    for change in plan.changes.notable():  # an unchanged row sends nothing: nothing to re-check
        if change.action in ("update", "delete"):
            _recheck_target(change, current.get(change.remote_id or ""), plan, provider)
        elif change.action == "create":
            lost = next(
                (
                    unknowns[(k, change.payload[k])]
                    for k in provider.spec.keys
                    if (k, change.payload.get(k)) in unknowns
                ),
                None,
            )
            if lost is not None:  # an earlier create of this row was sent and its answer lost
                _lost_create(change, lost, provider)
            else:
                _recheck_create(change, index, current, provider.spec)
    return current


def key_index(records: Any, spec: ProviderSpec) -> KeyIndex:
    """(key, canonical value) → the id of the first record holding it."""
    if isinstance(records, RemoteTable):
        return _TableKeys(records, spec)
    index: dict[tuple[str, str], str] = {}
    for record in records:
        for key in spec.keys:
            value = normalise_value(record.fields.get(key, ""), spec.field(key))
            if value:
                index.setdefault((key, value), str(record.remote_id))
    return _HeldKeys(index)


class KeyIndex(Protocol):
    """(key, canonical value) → the id of the first record holding it; an empty value names none."""

    def get(self, key: tuple[str, str]) -> str | None: ...

    def __contains__(self, key: tuple[str, str]) -> bool: ...

    def __getitem__(self, key: tuple[str, str]) -> str: ...


class _HeldKeys:
    """The key index of records given one by one (a listing that is not a table): a dict."""

    def __init__(self, index: dict[tuple[str, str], str]) -> None:
        self._index = index

    def get(self, key: tuple[str, str]) -> str | None:
        return self._index.get(key)

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._index

    def __getitem__(self, key: tuple[str, str]) -> str:
        return self._index[key]


class _TableKeys:
    """The key index of a listing held as columns (already canonical): each key column searched in
    its sort order (:class:`FirstPositions`, made on the first look-up of that key), where a dict of
    every record's keys cost ~200 bytes a record and key (a million records: near a gigabyte)."""

    def __init__(self, table: RemoteTable, spec: ProviderSpec) -> None:
        self._table, self._keys = table, spec.keys
        self._columns: dict[str, FirstPositions] = {}

    def get(self, key: tuple[str, str]) -> str | None:
        name, value = key
        if not value or name not in self._keys:
            return None
        column = self._columns.get(name)
        if column is None:
            column = self._columns[name] = FirstPositions(self._table.column(name))
        at = column.first(value)
        return None if at is None else str(self._table.ids[at].as_py())

    def __contains__(self, key: tuple[str, str]) -> bool:
        return self.get(key) is not None

    def __getitem__(self, key: tuple[str, str]) -> str:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found


def _recheck_target(change: Change, now: Any, plan: Plan, provider: Provider) -> None:
    """An update or delete whose record is gone, already done, or changed since the plan."""
    if now is None:
        if change.action == "delete":
            _already(change, change.remote_id or "", "already deleted (an earlier apply of this plan?)")
        elif provider.can_list:
            change.action, change.reason = (
                "conflict",
                f"remote record {change.remote_id} was deleted since the plan was made; plan again",
            )
        return
    if change.fingerprint and now.fingerprint != change.fingerprint:
        if change.action == "update" and holds(provider.spec, now.fields, change.payload):
            _already(change, str(now.remote_id), "already holds the planned values (applied before)")
            return
        change.action, change.reason = (
            "conflict",
            (
                f"remote record {change.remote_id} changed since the plan was made ({plan.created_at}); "
                "it is not overwritten: plan again to see the new values"
            ),
        )


def _lost_create(change: Change, lost: Unknown, provider: Provider) -> None:
    """A create sent before whose answer was lost, on a provider that cannot be searched: a conflict."""
    spec = provider.spec
    change.action, change.unknown = "conflict", True
    change.reason = (
        f"an earlier create of this row ({lost.key_field} {lost.key_value!r}, {lost.since}) was sent but "
        f"its answer was lost, and {provider.name} cannot be searched, so it is not sent again. If the "
        f"product exists, fill {spec.remote_id} with its id; if not, run `catalog-sync runs -p "
        f"{provider.name} --resolve-unknown {lost.key_value!r}` and apply again"
    )


def _recheck_create(change: Change, index: KeyIndex, current: Mapping[str, Any], spec: ProviderSpec) -> None:
    """A create whose record now exists: already done (it holds the values), or a conflict."""
    for key in spec.keys:
        value = change.payload.get(key, "")
        if value and (key, value) in index:
            rid = index[(key, value)]
            if holds(spec, current[rid].fields, change.payload):
                _already(change, rid, f"already created as {rid} (an earlier apply of this plan)")
                return
            change.action, change.reason = (
                "conflict",
                f"a remote record with {key} {value!r} ({rid}) appeared since the plan was made; it is not created "
                "twice: plan again",
            )
            return
