"""Before planning: settle what a dead run left in flight.

An intent still open when a run holds the lock belongs to a run that died (or left the answer
unknown).  A create is looked up with ``provider.find`` (Keevault, Royalti): found → its id is
remembered (the plan then matches it, no duplicate); not found → nothing happened.  Where nothing
can be looked up (JoggAI) the create is recorded as ``unknown`` for the user to resolve.  Updates
and deletes of a provider that lists its records need no settling: the new plan compares again and
re-sends only what is still missing.  Where the ledger stands in for the provider (JoggAI), the
fields an unsettled update sent are marked :data:`~catalog_sync.state.UNSURE`, so the plan sends
the sheet's values again instead of trusting what the ledger knew before.
"""

from __future__ import annotations

from catalog_sync.errors import RetriableProviderError, RowFailedError, UnknownOutcomeError
from catalog_sync.providers.base import Provider
from catalog_sync.state import Intent, Ledger

__all__ = ["settle_open_intents"]


def _first_key(fields: dict[str, str], keys: tuple[str, ...], skip: str) -> tuple[str, str]:
    for key in keys:
        if key != skip and fields.get(key):
            return key, fields[key]
    return "", ""


def settle_open_intents(provider: Provider, ledger: Ledger, *, run_id: int) -> list[str]:
    """Settle intents left open by dead runs; returns one note per settled intent."""
    spec, scope = provider.spec, provider.ledger_scope
    notes = []
    for intent in ledger.open_intents(scope):
        if intent.action != "create":
            notes += _settle_write(provider, ledger, intent)
            continue
        if provider.can_lookup:
            try:
                found = provider.find(intent.fields)
            except (RetriableProviderError, UnknownOutcomeError, RowFailedError) as exc:
                notes.append(f"row {intent.row}: an earlier create is still unsettled ({exc.message})")
                continue
            if found is not None:
                ledger.remember(scope, found.remote_id, intent.fields, fingerprint=found.fingerprint)
                ledger.end_intent(intent.id, "settled-found")
                notes.append(
                    f"row {intent.row} ({intent.key}): an interrupted create had taken effect "
                    f"(remote id {found.remote_id}); it is not created again"
                )
            else:
                ledger.end_intent(intent.id, "settled-absent")
                notes.append(f"row {intent.row} ({intent.key}): an interrupted create had not taken effect")
        else:
            key_field, key_value = _first_key(intent.fields, spec.keys, spec.remote_id)
            ledger.mark_unknown(
                scope, key_field, key_value, row=intent.row, fields=intent.fields, run_id=run_id
            )
            ledger.end_intent(intent.id, "unknown-recorded")
            notes.append(f"row {intent.row} ({intent.key}): an interrupted create has an unknown outcome")
    return notes


def _settle_write(provider: Provider, ledger: Ledger, intent: Intent) -> list[str]:
    """An update or delete left open: nothing to do where the provider is listed again; where the
    ledger is all there is, the fields it sent are no longer known."""
    if provider.can_list or intent.action != "update" or not intent.remote_id or not intent.fields:
        ledger.end_intent(intent.id, "settled")
        return []
    ledger.mark_unsure(provider.ledger_scope, intent.remote_id, list(intent.fields))
    ledger.end_intent(intent.id, "settled-unsure")
    return [
        f"row {intent.row} ({intent.key}): an earlier update of {intent.remote_id} may or may not have taken "
        f"effect ({', '.join(intent.fields)}); those fields are sent again"
    ]
