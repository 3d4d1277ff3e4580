"""Before planning: settle what a dead run left in flight.

An intent still open when a run holds the lock belongs to a run that died (or left the answer
unknown).  A create is looked up with ``provider.find`` (Keevault, Royalti): found → its id is
remembered (the plan then matches it, no duplicate); not found → nothing happened.  Where nothing
can be looked up (JoggAI) the create is recorded as ``unknown`` for the user to resolve.  Updates
and deletes of a provider that lists its records need no settling: the new plan compares again and
re-sends only what is still missing.  Where the ledger stands in for the provider (JoggAI), the
fields an unsettled update sent are marked :data:`~catalog_sync.state.UNSURE`, so the plan sends
the sheet's values again instead of trusting what the ledger knew before.

An intent belongs to the run that sent it, often of another catalog: each note names that run,
its row and catalog ("run 26's row 190 (upc=…, more2.csv): …"), never a row of this run's sheet.
"""

from __future__ import annotations

from pathlib import Path

from catalog_sync.errors import RetriableProviderError, RowFailedError, UnknownOutcomeError
from catalog_sync.providers.base import Provider
from catalog_sync.state import Intent, Ledger

__all__ = ["settle_open_intents"]


def _first_key(fields: dict[str, str], keys: tuple[str, ...], skip: str) -> tuple[str, str]:
    for key in keys:
        if key != skip and fields.get(key):
            return key, fields[key]
    return "", ""


class _Whose:
    """Names the row an intent was sent for: its run, row, key and that run's catalog."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._catalogs: dict[int, str] = {}

    def __call__(self, intent: Intent) -> str:
        if intent.run_id not in self._catalogs:
            run = self._ledger.run(intent.run_id) or {}
            self._catalogs[intent.run_id] = Path(str(run.get("catalog") or "")).name
        row = f"row {intent.row}" if intent.row is not None else "row"
        detail = ", ".join(x for x in (intent.key, self._catalogs[intent.run_id]) if x)
        return f"run {intent.run_id}'s {row}" + (f" ({detail})" if detail else "")


def settle_open_intents(provider: Provider, ledger: Ledger, *, run_id: int) -> list[str]:
    """Settle intents left open by dead runs; returns one note per settled intent."""
    spec, scope = provider.spec, provider.ledger_scope
    whose = _Whose(ledger)
    notes = []
    for intent in ledger.open_intents(scope):
        if intent.action != "create":
            notes += _settle_write(provider, ledger, intent, whose)
            continue
        if provider.can_lookup:
            try:
                found = provider.find(intent.fields)
            except (RetriableProviderError, UnknownOutcomeError, RowFailedError) as exc:
                notes.append(f"{whose(intent)}: an earlier create is still unsettled ({exc.message})")
                continue
            if found is not None:
                ledger.remember(scope, found.remote_id, intent.fields, fingerprint=found.fingerprint)
                ledger.end_intent(intent.id, "settled-found")
                notes.append(
                    f"{whose(intent)}: an interrupted create had taken effect "
                    f"(remote id {found.remote_id}); it is not created again"
                )
            else:
                ledger.end_intent(intent.id, "settled-absent")
                notes.append(f"{whose(intent)}: an interrupted create had not taken effect")
        else:
            key_field, key_value = _first_key(intent.fields, spec.keys, spec.remote_id)
            ledger.mark_unknown(
                scope, key_field, key_value, row=intent.row, fields=intent.fields, run_id=run_id
            )
            ledger.end_intent(intent.id, "unknown-recorded")
            notes.append(f"{whose(intent)}: an interrupted create has an unknown outcome")
    return notes


def _settle_write(provider: Provider, ledger: Ledger, intent: Intent, whose: _Whose) -> list[str]:
    """An update or delete left open: nothing to do where the provider is listed again; where the
    ledger is all there is, the fields it sent are no longer known."""
    if provider.can_list or intent.action != "update" or not intent.remote_id or not intent.fields:
        ledger.end_intent(intent.id, "settled")
        return []
    ledger.mark_unsure(provider.ledger_scope, intent.remote_id, list(intent.fields))
    ledger.end_intent(intent.id, "settled-unsure")
    return [
        f"{whose(intent)}: an earlier update of {intent.remote_id} may or may not have taken "
        f"effect ({', '.join(intent.fields)}); those fields are sent again"
    ]
