"""The plan stage: what the provider holds now (read while the sheet is put in canonical form),
compared with the catalog, as a :class:`~catalog_sync.planning.model.Plan`; or a saved plan re-checked.

Both first check the credentials and settle the writes a dead run left in flight, so a plan never
repeats a create whose answer was lost.  The caller holds the ledger's lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from catalog_sync.planning.bulk import collector_paused
from catalog_sync.planning.clearing import refuse_uncleared
from catalog_sync.planning.diff import build_plan, canonical_sheet
from catalog_sync.planning.merge_base import BASE_SHEET, Base, read_base, usable_base
from catalog_sync.planning.model import CarriedDeletes, Plan
from catalog_sync.planning.recheck import recheck_saved_plan
from catalog_sync.providers.base import Provider
from catalog_sync.providers.records import records_by_id
from catalog_sync.remote.read import read_remote
from catalog_sync.remote.settle import settle_open_intents
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import ProviderSpec
from catalog_sync.state import Ledger, public_base_url

if TYPE_CHECKING:
    from catalog_sync.engine.plan import DiskCatalog

__all__ = ["new_ledger_note", "plan_catalog", "recheck_plan"]


def plan_catalog(
    sheet: Sheet | DiskCatalog,
    spec: ProviderSpec,
    provider: Provider,
    ledger: Ledger,
    *,
    mode: str,
    blanks: str,
    run_id: int,
    catalog: str | None = None,
    carried: CarriedDeletes | None = None,
    prefer: str | None = None,
) -> tuple[Plan, Mapping[str, Any]]:
    """Check the credentials, settle what dead runs left in flight, read the remote side, and
    build the plan.

    Returns the plan and remote id → current remote record (for full-replace updates).
    The caller must hold the ledger's lock.  Refused credentials or an unreachable provider
    raise :class:`FatalProviderError` (exit 1) before anything is planned.  A catalog past memory
    (a :class:`~catalog_sync.engine.plan.DiskCatalog`) is planned by the out-of-core engine.
    """
    provider.check_access()
    notes = settle_open_intents(provider, ledger, run_id=run_id)
    base, base_note = usable_base(*read_base(sheet.path, spec), provider.base_url)
    if isinstance(sheet, Sheet):
        plan, current = _plan_in_memory(
            sheet, spec, provider, ledger, mode, blanks, catalog, base, carried, prefer
        )
    else:
        from catalog_sync.engine.plan import plan_against

        plan, current = plan_against(
            sheet,
            provider,
            ledger,
            mode=mode,
            blanks=blanks,
            catalog_name=catalog,
            base=base,
            carried=carried,
            prefer=prefer,
        )
    if base is not None:
        notes.append(
            f"merged three ways with what was pulled at {base.pulled_at} (the sheet's {BASE_SHEET} sheet)"
        )
    elif base_note:
        notes.append(base_note)
    plan.notes[:0] = [*ledger.notes, *notes]  # rows written before accounts, adopted: said once
    note = new_ledger_note(plan, provider, ledger)
    if note:
        plan.notes.insert(0, note)
    return plan, current


def _plan_in_memory(
    sheet: Sheet,
    spec: ProviderSpec,
    provider: Provider,
    ledger: Ledger,
    mode: str,
    blanks: str,
    catalog: str | None,
    base: Base | None,
    carried: CarriedDeletes | None,
    prefer: str | None,
) -> tuple[Plan, Mapping[str, Any]]:
    """The listing read while the sheet is put in canonical form, and the plan built."""
    with (
        collector_paused(),
        ThreadPoolExecutor(1) as pool,
    ):  # a million records and rows, none of them garbage
        # the sheet side of the diff is made while the listing is read (its Arrow kernels leave
        # the interpreter to the listing's threads): a second of a million-row plan
        canonical = pool.submit(canonical_sheet, sheet, spec)
        records, view = read_remote(provider, ledger)
        plan = build_plan(
            sheet,
            spec,
            records,
            view,
            mode,
            blanks,
            base_url=public_base_url(provider.base_url),
            catalog=catalog,
            base=base,
            canonical=canonical.result(),
            carried=carried,
            prefer=prefer,
        )
    return plan, records_by_id(records)


def new_ledger_note(plan: Plan, provider: Provider, ledger: Ledger) -> str | None:
    """For a provider that cannot be listed (JoggAI): warn when the ledger knows none of its products.

    The ledger is then the only memory of earlier creates; a new (or another) state database
    would create every row again.  None when nothing is created or the ledger knows this provider.
    """
    if provider.can_list or not plan.summary.get("create"):
        return None
    if not ledger.knows_nothing_of(provider.ledger_scope):
        return None
    title = provider.title or provider.name
    state = "is new: it holds" if ledger.created else "holds"
    return (
        f"this state database {state} no record of {title} products created earlier at "
        f"{public_base_url(provider.base_url)}; if this catalog was applied before with another state database, "
        f"its rows would be created again — use that --state, or fill {provider.spec.remote_id}"
    )


def recheck_plan(
    saved: Plan, provider: Provider, ledger: Ledger, *, run_id: int
) -> tuple[Plan, Mapping[str, Any]]:
    """A saved plan, re-checked against what the provider holds now (a record changed since the
    plan becomes a ``conflict``; a row already applied, ``unchanged``).

    Like :func:`plan_catalog`, it checks the credentials and settles what dead runs left in flight
    first.  Returns the plan and remote id → current remote record.
    """
    if saved.blanks == "clear":  # a plan saved before fields were known not clearable: refused here too
        refuse_uncleared(saved.changes, provider.spec)
    provider.check_access()  # a refused key says so before anything is compared or sent
    notes = settle_open_intents(provider, ledger, run_id=run_id)
    current = recheck_saved_plan(saved, provider, ledger)
    saved.notes.extend([*ledger.notes, *notes])
    note = new_ledger_note(saved, provider, ledger)
    if note:
        saved.notes.insert(0, note)
    return saved, current
