"""A saved plan is re-checked against what the provider holds now within a bounded cost per record
(issue 20 items 3 and 6): the records its changes target are found by id, and its creates by key, in
the listing's own Arrow columns, not in dicts of every record's id and keys nor lists of every value.
Measured over real HTTP against the bench's fast server, with Python's own allocator traced and
Arrow's counted, beyond the listing itself."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pyarrow as pa
import pytest
from bench.fast_server import fast_listing
from bench.remote import KEY, write_catalog

import catalog_sync.planning.recheck as recheck
from catalog_sync.planning.model import Plan
from catalog_sync.providers import get_provider
from catalog_sync.remote.read import read_remote
from catalog_sync.run import PlanRequest, Target, run_plan
from catalog_sync.state import Ledger

RECORDS = 30_000
NEW_ROWS = 30  # rows of the catalog the listing does not hold: creates, looked up by key


def _saved_plan(folder: Path) -> Plan:
    """The plan of a catalog of RECORDS rows (one in a hundred edited) against all but its last
    NEW_ROWS records (rows without an id: new), saved and read back."""
    catalog, out = folder / "catalog.csv", folder / "plan.json"
    write_catalog(catalog, RECORDS, changed_every=100)
    lines = catalog.read_text(encoding="utf-8").splitlines(keepends=True)
    new = [line.split(",", 1)[1] for line in lines[-NEW_ROWS:]]
    catalog.write_text("".join([*lines[:-NEW_ROWS], *(f",{line}" for line in new)]), encoding="utf-8")
    with fast_listing(RECORDS - NEW_ROWS) as url:
        target = Target("royalti", url, folder / "plan.db", env={"ROYALTI_API_KEY": KEY})
        run_plan(PlanRequest(target=target, catalog=str(catalog), out=out))
    return Plan.load(out)


def test_a_recheck_holds_a_bounded_cost_per_record_beyond_the_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = _saved_plan(tmp_path)
    assert saved.summary["create"] == NEW_ROWS and saved.summary["update"] == RECORDS // 100
    with fast_listing(RECORDS - NEW_ROWS) as url, Ledger(tmp_path / "s.db") as ledger:
        client = get_provider("royalti").from_env(base_url=url, env={"ROYALTI_API_KEY": KEY})
        client.check_access()
        listing, view = read_remote(client, ledger)  # held before the measure: what a listing costs is
        monkeypatch.setattr(
            recheck, "read_remote", lambda provider, ledger: (listing, view)
        )  # its own test's
        tracemalloc.start()
        try:
            python, arrow = tracemalloc.get_traced_memory()[0], pa.total_allocated_bytes()
            current = recheck.recheck_saved_plan(saved, client, ledger)
            targets = [c.remote_id for c in saved.changes.notable() if c.remote_id]
            found = [current[rid] for rid in targets]  # what the writes then ask for
            held_python = tracemalloc.get_traced_memory()[1] - python
            held_arrow = pa.total_allocated_bytes() - arrow
        finally:
            tracemalloc.stop()
    assert len(found) == RECORDS // 100 and all(
        r.remote_id == rid for r, rid in zip(found, targets, strict=True)
    )
    assert saved.summary["create"] == NEW_ROWS  # not found by any key: still created
    per_record_python = held_python / RECORDS
    per_record = (held_python + held_arrow) / RECORDS
    print(f"re-check: {per_record_python:.0f} bytes a record in Python, {per_record:.0f} in all")
    assert per_record_python < 40
    assert per_record < 200
