"""The inverse of a run, as a plan (``catalog-sync undo RUN_ID``).

Built from what each write of the run replaced (the ledger's ``replaced`` table) and what the
provider holds now:

* an update goes back: each field it changed gets the value it had before the run (old: the value
  now, new: the value before);
* a record it created is deleted where the provider can delete (JoggAI cannot: ``skip``, with the
  reason ``cannot-undo``, never sent);
* a record it deleted is created again from the values it had (the provider gives it a new id).

A write whose answer the run never recorded (killed, or its answer lost) is turned back where
settling it shows what it did (a create that took effect is deleted; one that did not take effect
needs nothing), else named ``cannot-undo``: what it replaced was never recorded.

A record changed since the run is a ``conflict``, never overwritten: a field that no longer holds
what the run wrote (the three values side by side, so a review workbook can ``take`` a side), a
created record edited since, a key of a deleted record that another record holds now.  Each change
carries the fingerprint of the record as read now, so a saved undo plan keeps the per-row stale
checks of ``apply PLAN.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from catalog_sync.planning.model import Change, Plan
from catalog_sync.planning.recheck import KeyIndex, key_index
from catalog_sync.providers.base import Provider
from catalog_sync.providers.records import records_by_id
from catalog_sync.remote.read import read_remote
from catalog_sync.remote.settle import settle_open_intents
from catalog_sync.spec.normalise import normalise_value
from catalog_sync.state import UNSURE, Intent, Ledger, Replaced, public_base_url

__all__ = ["CANNOT_UNDO", "UNDO_MODE", "undo_plan"]

#: The mode of an undo plan (shown, saved, recorded on the runs that apply it).
UNDO_MODE = "undo"
#: How a skipped change of an undo plan begins its reason: what cannot be turned back.
CANNOT_UNDO = "cannot-undo"


def undo_plan(
    replaced: Sequence[Replaced], *, undone: int, provider: Provider, ledger: Ledger, run_id: int
) -> Plan:
    """The plan that turns back run ``undone`` (its writes' ``replaced`` values) on ``provider``.

    Like ``plan``, it checks the credentials and settles what dead runs left in flight first (the
    caller, run ``run_id``, holds the ledger's lock); then it reads what the provider holds now.
    """
    provider.check_access()
    notes = settle_open_intents(provider, ledger, run_id=run_id)
    records, _view = read_remote(provider, ledger)
    current = records_by_id(records)
    taken = key_index(records, provider.spec)
    undoing = _Undoing(provider, undone, current, taken)
    in_doubt = _answer_never_recorded(ledger.writes_in_doubt(undone, provider.ledger_scope), replaced)
    plan = Plan(
        provider=provider.name,
        catalog=f"undo of run {undone}",
        mode=UNDO_MODE,
        base_url=public_base_url(provider.base_url),
        columns=provider.spec.field_names,
        changes=[
            *(undoing.change(entry) for entry in replaced),
            *(change for intent in in_doubt if (change := undoing.in_doubt(intent)) is not None),
        ],
    )
    if any(d["new"] == "" for c in plan.changes if c.action == "update" for d in c.fields.values()):
        plan.blanks = "clear"  # a field the run filled is emptied again
    plan.notes[:0] = [*ledger.notes, *notes, *undoing.notes]
    return plan


def _answer_never_recorded(in_doubt: Sequence[Intent], replaced: Sequence[Replaced]) -> list[Intent]:
    """The writes in doubt that have no ``replaced`` row: a run that died between committing a row's
    outcome and closing its intent is undone from what it recorded, once."""
    recorded = {(entry.row, entry.key, entry.action) for entry in replaced}
    return [intent for intent in in_doubt if (intent.row, intent.key, intent.action) not in recorded]


class _Undoing:
    """The inverse of each write of one run, against the records as they are now."""

    def __init__(self, provider: Provider, undone: int, current: Mapping[str, Any], taken: KeyIndex) -> None:
        self.provider, self.spec, self.undone = provider, provider.spec, undone
        self.current, self.taken = current, taken
        self.notes: list[str] = []

    def change(self, entry: Replaced) -> Change:
        if entry.action == "update":
            return self._update_back(entry, self.current.get(entry.remote_id))
        if entry.action == "create":
            return self._delete_created(entry, self.current.get(entry.remote_id))
        return self._create_deleted(entry)

    def _same(self, name: str, a: str, b: str) -> bool:
        field = self.spec.field(name)
        return normalise_value(a, field) == normalise_value(b, field)

    def _target(self, entry: Replaced, now: Any, action: str) -> Change:
        """A change of the record ``entry`` wrote, as it is now (its fingerprint guards the write)."""
        return Change(
            row=entry.row,
            key=entry.key,
            action=action,
            remote_id=entry.remote_id,
            fingerprint=None if now is None else now.fingerprint,
            match=self.spec.remote_id,
            values=dict(now.fields) if now is not None else {**entry.after, **entry.before},
        )

    # -- an update goes back ------------------------------------------------------------
    def _update_back(self, entry: Replaced, now: Any) -> Change:
        change = self._target(entry, now, "update")
        if now is None:
            change.action = "conflict"
            change.reason = f"remote record {entry.remote_id} was deleted since run {self.undone}; it is not created again"
            return change
        moved: dict[str, dict[str, str]] = {}
        unknown, uncleared = [], []
        for name, was in entry.before.items():
            if name not in self.spec.field_names:
                continue
            wrote, holds = entry.after.get(name, ""), str(now.fields.get(name, ""))
            if not self._same(name, holds, wrote):
                moved[name] = {"old": wrote, "sheet": was, "remote": holds}
            elif was == UNSURE:
                unknown.append(name)
            elif self._same(name, holds, was):
                continue
            elif was == "" and not self.spec.field(name).clearable:
                uncleared.append(name)
            else:
                change.fields[name] = {"old": holds, "new": was}
        why = self._why_not(unknown, uncleared)
        tail = f" ({CANNOT_UNDO}: {why})" if why else ""
        if moved:
            change.action, change.conflicts = "conflict", moved
            change.reason = self._moved_reason(entry, moved) + tail
        elif change.fields:
            change.reason = f"back to the values before run {self.undone}" + tail
        elif why:
            change.action, change.reason = "skip", f"{CANNOT_UNDO}: {why}"
        else:
            change.action, change.reason = "unchanged", f"already holds the values before run {self.undone}"
        return change

    def _moved_reason(self, entry: Replaced, moved: dict[str, dict[str, str]]) -> str:
        cells = "; ".join(f"{name} {d['old']!r} → {d['remote']!r}" for name, d in moved.items())
        return (
            f"remote record {entry.remote_id} changed since run {self.undone} ({cells}): it is not written "
            "over; the edit is kept"
        )

    def _why_not(self, unknown: list[str], uncleared: list[str]) -> str:
        """What of an update cannot go back ('' when all of it can)."""
        why = []
        if unknown:
            why.append(f"{', '.join(unknown)}: the value before the run is not known (its answer was lost)")
        if uncleared:
            title = self.provider.title or self.provider.name
            why.append(f"{', '.join(uncleared)}: empty before the run, and {title} cannot empty it")
        return "; ".join(why)

    # -- a record it created is deleted -------------------------------------------------
    def _delete_created(self, entry: Replaced, now: Any) -> Change:
        change = self._target(entry, now, "delete")
        title = self.provider.title or self.provider.name
        if not self.provider.can_delete:
            change.action = "skip"
            change.reason = (
                f"{CANNOT_UNDO}: created by run {self.undone}, and {title} cannot delete a product (its API "
                f"has no delete): {entry.remote_id} stays"
            )
            return change
        if now is None:
            change.action, change.reason = "unchanged", f"created by run {self.undone} and already gone"
            self.notes.append(
                f"{entry.key} ({entry.remote_id}), created by run {self.undone}, is already gone"
            )
            return change
        edited = [
            f"{name} {value!r} → {now.fields.get(name, '')!r}"
            for name, value in entry.after.items()
            if name in self.spec.field_names
            and name != self.spec.remote_id
            and not self._same(name, str(now.fields.get(name, "")), value)
        ]
        if edited:
            change.action = "conflict"
            change.reason = (
                f"remote record {entry.remote_id}, created by run {self.undone}, was edited since "
                f"({'; '.join(edited[:5])}): it is not deleted"
            )
        else:
            change.reason = f"created by run {self.undone}"
        return change

    # -- a write whose answer the run never recorded -------------------------------------
    def in_doubt(self, intent: Intent) -> Change | None:
        """What a write in doubt leaves to turn back: a create later found on the provider is deleted
        like any record the run created; a create found absent needs nothing (None); an update or delete
        that did not take effect is ``unchanged``; any other is ``skip`` (cannot-undo): what it replaced
        was never recorded."""
        if intent.action == "create" and intent.state == "settled-found":
            found = self._holder(intent.fields)
            if found is not None:
                entry = Replaced(intent.row, intent.key, "create", found, after=dict(intent.fields))
                return self._delete_created(entry, self.current.get(found))
        if intent.action == "create" and intent.state == "settled-absent":
            return None
        entry = Replaced(
            intent.row, intent.key, intent.action, intent.remote_id or "", after=dict(intent.fields)
        )
        now = self.current.get(entry.remote_id)
        change = self._target(entry, now, "skip")
        if self._took_no_effect(intent, now):
            change.action = "unchanged"
            change.reason = f"run {self.undone}'s {intent.action} in flight did not take effect, or was written over since"
        else:
            change.reason = f"{CANNOT_UNDO}: {self._doubt(intent)}"
        return change

    def _took_no_effect(self, intent: Intent, now: Any) -> bool:
        """An update whose record does not hold what it sent; a delete whose record is still there."""
        if intent.action == "delete":
            return now is not None
        if intent.action != "update" or now is None:
            return False
        return any(
            not self._same(name, str(now.fields.get(name, "")), value)
            for name, value in intent.fields.items()
            if name in self.spec.field_names and name != self.spec.remote_id
        )

    def _holder(self, fields: Mapping[str, str]) -> str | None:
        """The id of the record holding one of the keys of ``fields`` now (None when none does)."""
        spec = self.spec
        for key in spec.keys:
            value = fields.get(key, "")
            if key != spec.remote_id and value:
                holder = self.taken.get((key, normalise_value(value, spec.field(key))))
                if holder is not None:
                    return holder
        return None

    def _doubt(self, intent: Intent) -> str:
        """Why a write in doubt cannot be turned back."""
        what = intent.action
        if what == "create" and intent.state == "settled-found":
            return (
                f"run {self.undone}'s {what} took effect after its answer was lost, and no record holds its "
                "key now"
            )
        if intent.state in ("in-flight", "unknown"):
            return (
                f"run {self.undone} never learnt whether this {what} took effect, and it is still not known"
            )
        return (
            f"run {self.undone} never learnt whether this {what} took effect (it stopped, or lost the answer, "
            "while the write was in flight), so what it replaced was never recorded"
        )

    # -- a record it deleted is created again -------------------------------------------
    def _create_deleted(self, entry: Replaced) -> Change:
        spec, rid = self.spec, self.spec.remote_id
        values = {
            name: spec.field(name).as_user_set(str(entry.before.get(name, "")))
            for name in spec.field_names
            if name != rid
        }
        change = Change(
            row=entry.row,
            key=entry.key,
            action="create",
            fields={name: {"old": "", "new": value} for name, value in values.items() if value},
            values={rid: "", **values},
            reason=f"deleted by run {self.undone} (was {entry.remote_id}): created again, with a new id",
        )
        keys = [
            (k, normalise_value(values[k], spec.field(k))) for k in spec.keys if k != rid and values.get(k)
        ]
        if not keys:
            change.action, change.fields = "skip", {}
            change.reason = (
                f"{CANNOT_UNDO}: deleted by run {self.undone} (was {entry.remote_id}), and it has no key "
                f"({', '.join(k for k in spec.keys if k != rid)}) a later run could match it by"
            )
        holder = next(((k, v, self.taken[(k, v)]) for k, v in keys if (k, v) in self.taken), None)
        if holder is not None:
            change.action = "conflict"
            change.reason = (
                f"deleted by run {self.undone}, but a remote record with {holder[0]} {holder[1]!r} ({holder[2]}) "
                "exists now: it is not created twice"
            )
        return change
