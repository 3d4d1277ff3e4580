"""What each write of a run replaced (the ``replaced`` table): what ``undo`` turns back.

A row is written in the same commit as its outcome (:meth:`ReplacedStore.record_outcomes`), so a
run killed after a write leaves either both or neither; it holds product fields only, never a
credential.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from catalog_sync.state.model import Replaced, _now
from catalog_sync.state.runs import RunStore
from catalog_sync.state.scope import LedgerScope

_INSERT = (
    "INSERT INTO replaced (run_id, provider, base_url, account, row, key, action, remote_id, before, after, at)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)


class ReplacedStore(RunStore):
    """The ``replaced`` table, written beside the ``outcomes`` of the same rows."""

    def record_outcomes(
        self,
        run_id: int,
        outcomes: list[dict[str, Any]],
        *,
        replaced: Sequence[Replaced] = (),
        scope: LedgerScope | None = None,
    ) -> None:
        """Write row outcomes and, in the same commit, what their writes replaced (in ``scope``)."""
        if not replaced:
            super().record_outcomes(run_id, outcomes)
            return
        assert scope is not None, "what a write replaced belongs to an account"
        rows = [_row(run_id, scope, r) for r in replaced]
        statement = self._outcome_statement(run_id, outcomes)

        def write(db: sqlite3.Connection) -> None:
            statement(db)
            db.executemany(_INSERT, rows)

        self._group.run(write)

    def replaced(self, run_id: int) -> list[tuple[LedgerScope, Replaced]]:
        """What each write of ``run_id`` replaced, with whose records they were, in row order."""
        found = self._read(
            "SELECT * FROM replaced WHERE run_id=? ORDER BY row IS NULL, row, rowid", (run_id,)
        )
        return [
            (
                LedgerScope(str(r["provider"]), str(r["base_url"]), str(r["account"])),
                Replaced(
                    r["row"],
                    str(r["key"] or ""),
                    str(r["action"]),
                    str(r["remote_id"]),
                    json.loads(r["before"]),
                    json.loads(r["after"]),
                ),
            )
            for r in found
        ]


def _row(run_id: int, scope: LedgerScope, entry: Replaced) -> tuple[Any, ...]:
    return (
        run_id,
        scope.provider,
        scope.base_url,
        scope.account,
        entry.row,
        entry.key,
        entry.action,
        entry.remote_id,
        json.dumps(entry.before, ensure_ascii=False),
        json.dumps(entry.after, ensure_ascii=False),
        _now(),
    )
