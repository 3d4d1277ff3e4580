"""No write over a value the user did not see (issue 17, item 5), over real HTTP against the sandboxes.

A colleague edits a record after it was read, while the confirmation prompt waits (the plan was
made, nothing sent yet).  The write gate re-reads each record just before its update or delete is
sent: the row becomes a ``conflict`` naming both values, and the colleague's edit stays.  Keevault's
update is a full replace, so without the re-read its other fields would be reverted silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from catalog_sync.planning.model import Plan
from catalog_sync.providers import get_provider
from catalog_sync.run import ApplyHooks, ApplyRequest, PlanRequest, Target, run_apply, run_plan
from catalog_sync.spec import load_spec
from tests.support.sync import (
    env_for,
    fresh_catalog,
    products,
    read_rows,
    sandbox,
    write_requests,
    write_rows,
)

#: provider → (the field the sheet edits, the field the colleague edits, the colleague's value)
EDITS = {
    "keevault": ("description", "source", "envato"),
    "royalti": ("title", "label", "Colleague Records"),
}


@contextmanager
def _applied_then_edited(
    provider: str, folder: Path, field: str, value: Callable[[str], str]
) -> Iterator[Any]:
    """A sandbox holding the catalog (applied once), then the catalog's first row's ``field`` edited.
    Yields (sandbox, the catalog, its target, the environment)."""
    catalog = fresh_catalog(provider, folder)
    with sandbox(provider) as sb:
        env = env_for(sb, provider, folder)
        target = Target(provider, state=folder / "state.db", rate=1000, env=env)
        assert run_apply(ApplyRequest(target, source=str(catalog))).exit_code == 0
        rows = read_rows(catalog)
        rows[0][field] = value(rows[0][field])
        write_rows(catalog, rows)
        yield sb, catalog, target, env


def _colleague(provider: str, env: dict[str, str]) -> Any:
    """A plain client (not a run's: its writes need no gate), as a colleague's own tool would be."""
    return get_provider(provider).from_env(env=env, rate=1000)


@pytest.mark.parametrize("provider", sorted(EDITS))
def test_a_colleagues_edit_while_the_prompt_waits_becomes_a_conflict_not_an_overwrite(provider, tmp_path):
    mine, theirs, value = EDITS[provider]
    with _applied_then_edited(provider, tmp_path, mine, lambda old: old + " (edited in the sheet)") as opened:
        sb, catalog, target, env = opened

        edited: list[str] = []

        def colleague_edits(plan: Plan, new_ledger: bool) -> None:  # while the prompt waits
            (change,) = plan.writes
            edited.append(str(change.remote_id))
            with _colleague(provider, env) as client:
                record = client.find({load_spec(provider).remote_id: change.remote_id})
                client.update(change.remote_id, {theirs: value}, record)

        before = write_requests(sb)
        outcome = run_apply(
            ApplyRequest(target, source=str(catalog), report=tmp_path / "r.json"),
            ApplyHooks(confirm=colleague_edits),
        )
        changed = [r for r in outcome.rows if r["action"] != "unchanged"]
        assert len(changed) == 1, outcome.rows
        (row,) = changed
        assert outcome.exit_code == 4 and row["status"] == "conflict", outcome.rows
        assert row["error_code"] == "remote-changed" and value in row["error"], row["error"]
        assert write_requests(sb) == before + 1  # the colleague's write only
        (record,) = [p for p in products(sb) if str(p["id"]) == edited[0]]
        assert str(record[theirs]).casefold() == value.casefold()  # the colleague's edit stays
        assert "(edited in the sheet)" not in str(record[mine])

        # planned again, the colleague's value is shown before anything would change it
        (change,) = run_plan(PlanRequest(target, str(catalog))).plan.writes
        assert change.fields[theirs]["old"].casefold() == value.casefold() and mine in change.fields


def test_a_record_already_as_planned_sends_nothing(tmp_path: Path) -> None:
    """A colleague made the same edit: the re-read finds the planned values, nothing is sent."""
    provider = "royalti"
    with _applied_then_edited(provider, tmp_path, "title", lambda old: "Same Title Twice") as opened:
        sb, catalog, target, env = opened

        def colleague_same(plan: Plan, new_ledger: bool) -> None:
            (change,) = plan.writes
            with _colleague(provider, env) as client:
                record = client.find({"id": change.remote_id})
                client.update(change.remote_id, {"title": "Same Title Twice"}, record)

        before = write_requests(sb)
        outcome = run_apply(ApplyRequest(target, source=str(catalog)), ApplyHooks(confirm=colleague_same))
        assert outcome.exit_code == 0 and write_requests(sb) == before + 1  # the colleague's only
