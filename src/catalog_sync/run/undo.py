"""``undo`` as a library call: :func:`run_undo` builds the inverse of a run as a plan.

The plan is shown like ``plan``'s, saved with ``out`` (``.json`` or a review workbook ``.xlsx``) and
carried out by the ordinary ``apply UNDO.json`` (through the write gate and the ledger, so an undo
is itself undone the same way).  The run is refused when it is unknown, still running, or of
another provider, base URL or account; one that changed nothing says so (exit 0).  A run that died
before it finished (killed) is undone from what it recorded: its writes in flight are settled first
(as every run settles them), then turned back where what they did is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog_sync.errors import ConfigError, LockHeldError
from catalog_sync.execute.estimate import estimate_writes
from catalog_sync.planning.model import WRITE_ACTIONS, Plan
from catalog_sync.planning.undo import CANNOT_UNDO, UNDO_MODE, undo_plan
from catalog_sync.providers.base import Provider
from catalog_sync.run.lifecycle import open_run
from catalog_sync.run.requests import PlanOutcome
from catalog_sync.run.sync import check_plan_file, plan_exit_code, save_plan
from catalog_sync.run.target import Target, run_inputs
from catalog_sync.sheets.write.report import check_output
from catalog_sync.state import Ledger, Replaced, public_base_url

__all__ = ["UndoRequest", "run_undo"]


@dataclass(frozen=True)
class UndoRequest:
    target: Target
    run_id: int
    out: Path | None = None  # save the undo plan here (.json, or .xlsx: a review workbook)
    force: bool = False  # overwrite an existing plan workbook (.xlsx)


def run_undo(request: UndoRequest) -> PlanOutcome:
    """The plan that turns back run ``request.run_id`` (saved to ``request.out`` when given).

    Its outcome's plan is empty, with a note saying why, when the run changed nothing."""
    target = request.target
    if request.out is not None:
        check_plan_file(request.out, force=request.force)
        check_output(request.out, run_inputs(state=target.state), what="plan file")
    _refuse_unknown_or_running(target.state, request.run_id)
    client = target.connect()
    with open_run(target, client, "undo", source=f"run {request.run_id}", mode=UNDO_MODE) as run:
        run.undone = "the undo plan was not made"
        replaced = _what_it_replaced(run.ledger, request.run_id, client)
        if replaced or run.ledger.writes_in_doubt(request.run_id, client.ledger_scope):
            plan = undo_plan(
                replaced, undone=request.run_id, provider=client, ledger=run.ledger, run_id=run.id
            )
            plan.notes[:0] = _unfinished_note(run.ledger, request.run_id)
        else:
            plan = _nothing_to_undo(run.ledger, request.run_id, client)
        code = plan_exit_code(plan, detailed=False)
        failed = run.finish(counts={"action": plan.summary}, exit_code=code)
        if failed is not None:
            raise failed
        estimate = estimate_writes(plan, client)
    saved = save_plan(plan, request.out) if request.out is not None and plan.changes else None
    return PlanOutcome(plan, code, saved, estimate=estimate)


def _refuse_unknown_or_running(state: Path, run_id: int) -> None:
    """ConfigError for a run the state database does not hold; LockHeldError (exit 5) for one still
    running (checked before the lock is asked for, to name the run)."""
    if not state.exists():
        raise ConfigError(
            f"there is no state database at {state}, so no run {run_id} to undo; pass its --state"
        )
    with Ledger(state) as ledger:
        record = ledger.run(run_id)
    if record is None:
        raise ConfigError(
            f"the state database {state} holds no run {run_id}; `catalog-sync runs --state {state}` lists its runs"
        )
    if record.get("finished_at") is None and record.get("alive"):
        raise LockHeldError(
            f"run {run_id} is still running (pid {record.get('pid')}); undo it once it has finished"
        )


def _what_it_replaced(ledger: Ledger, run_id: int, client: Provider) -> list[Replaced]:
    """What each write of run ``run_id`` replaced, once the run is known to be this target's and finished."""
    record: dict[str, Any] = ledger.run(run_id) or {}
    here = public_base_url(client.base_url)
    if record.get("provider") != client.name:
        raise ConfigError(
            f"run {run_id} was a {record.get('provider')} run, not {client.name}: undo it with -p {record.get('provider')}"
        )
    if record.get("base_url") != here:
        raise ConfigError(
            f"run {run_id} was made against {record.get('base_url')}, not {here}: undo it with "
            f"--base-url {record.get('base_url')}"
        )
    found = ledger.replaced(run_id)
    others = sorted({scope.account for scope, _entry in found if scope != client.ledger_scope})
    if others:
        raise ConfigError(
            f"run {run_id} wrote to another account at {here} ({', '.join(others)}), not "
            f"{client.ledger_scope.account}: undo it with that account's credentials"
        )
    return [entry for _scope, entry in found]


def _unfinished_note(ledger: Ledger, run_id: int) -> list[str]:
    """The note of an undo of a run that never finished (killed, or its process died)."""
    if (ledger.run(run_id) or {}).get("finished_at") is not None:
        return []
    return [
        f"run {run_id} did not finish (it was killed, or its process died): the writes it recorded are "
        f"turned back; a write it had in flight is turned back when it is known to have created a record, "
        f"else listed as {CANNOT_UNDO}"
    ]


def _nothing_to_undo(ledger: Ledger, run_id: int, client: Provider) -> Plan:
    """An empty undo plan whose note says why run ``run_id`` has nothing to undo; ConfigError when it
    wrote but was recorded before the ledger kept what runs replace."""
    command = str((ledger.run(run_id) or {}).get("command"))
    if command != "apply":
        why = f"run {run_id} (`{command}`) changed no product record: there is nothing to undo"
    elif ledger.outcomes(run_id, statuses=["ok"], actions=list(WRITE_ACTIONS)):
        raise ConfigError(
            f"run {run_id} wrote records, but was recorded by a catalog-sync that did not keep the values its "
            "writes replaced: it cannot be undone"
        )
    elif (ledger.run(run_id) or {}).get("finished_at") is None:
        why = f"run {run_id} did not finish (it was killed, or its process died) and sent no write: there is nothing to undo"
    else:
        why = f"run {run_id} wrote nothing (every row was unchanged, skipped or failed): there is nothing to undo"
    plan = Plan(provider=client.name, catalog=f"undo of run {run_id}", mode=UNDO_MODE)
    plan.base_url, plan.notes = public_base_url(client.base_url), [why]
    return plan
