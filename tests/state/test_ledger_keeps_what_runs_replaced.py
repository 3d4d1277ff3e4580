"""The ledger keeps what each write of a run replaced (schema 6, for ``undo``); an older ledger is
upgraded in place and keeps its runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from catalog_sync.state import SCHEMA_VERSION, Ledger, LedgerScope, Replaced

SCOPE = LedgerScope.of("royalti", "http://127.0.0.1:1", "key:0123456789abcdef")


def _schema_5_ledger(path: Path) -> int:
    """A ledger as schema 5 wrote it (no ``replaced`` table) holding one finished run: its id."""
    with Ledger(path) as ledger:
        run_id = ledger.start_run("apply", "royalti", SCOPE.base_url, "c.csv", "upsert")
        ledger.finish_run(run_id, counts={}, requests=1, exit_code=0)
    with sqlite3.connect(path) as db:
        db.executescript("DROP INDEX replaced_run; DROP TABLE replaced; PRAGMA user_version=5;")
    return run_id


def test_a_schema_5_ledger_is_upgraded_and_keeps_its_runs(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    run_id = _schema_5_ledger(state)
    with Ledger(state) as ledger:
        assert (ledger.run(run_id) or {}).get("exit_code") == 0
        assert ledger.replaced(run_id) == []
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7
        assert {r[1] for r in db.execute("PRAGMA table_info(replaced)")} >= {"before", "after", "account"}


def test_what_a_write_replaced_is_kept_with_its_outcome_and_read_back_in_row_order(tmp_path: Path) -> None:
    update = Replaced(3, "upc=1", "update", "r1", {"title": "Old"}, {"title": "New"})
    delete = Replaced(None, "id=r2", "delete", "r2", {"id": "r2", "title": "Gone"}, {})
    create = Replaced(2, "upc=2", "create", "r3", {}, {"title": "Made"})
    with Ledger(tmp_path / "state.db") as ledger:
        run_id = ledger.start_run("apply", "royalti", SCOPE.base_url, "c.csv", "upsert")
        outcomes = [
            {"row": e.row, "key": e.key, "action": e.action, "status": "ok"} for e in (update, delete, create)
        ]
        ledger.record_outcomes(run_id, outcomes, replaced=[update, delete, create], scope=SCOPE)
        assert [o["key"] for o in ledger.outcomes(run_id)] == ["upc=2", "upc=1", "id=r2"]
        assert ledger.replaced(run_id) == [(SCOPE, create), (SCOPE, update), (SCOPE, delete)]
