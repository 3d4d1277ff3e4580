"""Remote records the ledger knows, the intents of writes in flight, and unknown creates."""

from __future__ import annotations

import json
from typing import Any

from catalog_sync.state.database import Database
from catalog_sync.state.model import UNSURE, Intent, LedgerRecord, Unknown, _now, fields_fingerprint
from catalog_sync.state.scope import LedgerScope

_WHERE = "provider=? AND base_url=? AND account=?"


class RecordStore(Database):
    """The ``records``, ``intents`` and ``unknowns`` tables, each row one account's (a :class:`LedgerScope`)."""

    def knows_nothing_of(self, scope: LedgerScope) -> bool:
        """True when this database holds no record, unknown or write of ``scope``."""
        where = self._scope(scope)
        return not any(
            self._read(f"SELECT 1 FROM {table} WHERE {_WHERE} LIMIT 1", where)
            for table in ("records", "unknowns", "intents")
        )

    # -- intents -----------------------------------------------------------------------
    def begin_intent(
        self,
        run_id: int,
        scope: LedgerScope,
        *,
        row: int | None,
        key: str,
        action: str,
        remote_id: str | None,
        fields: dict[str, str],
    ) -> int:
        """Record a write about to be sent (committed before this returns, so before the request leaves)."""
        values = (
            run_id,
            *self._scope(scope),
            row,
            key,
            action,
            remote_id,
            json.dumps(fields, ensure_ascii=False),
            _now(),
        )
        sql = (
            "INSERT INTO intents (run_id, provider, base_url, account, row, key, action, remote_id, fields, sent_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)"
        )
        return int(self._group.run(lambda db: db.execute(sql, values).lastrowid) or 0)

    def end_intent(self, intent_id: int, state: str = "done") -> None:
        values = (state, _now(), intent_id)
        self._group.run(lambda db: db.execute("UPDATE intents SET state=?, settled_at=? WHERE id=?", values))

    def open_intents(self, scope: LedgerScope) -> list[Intent]:
        """Intents never closed (their run died mid-write) or left unknown by a run."""
        rows = self._read(
            f"SELECT * FROM intents WHERE {_WHERE} AND state IN ('in-flight','unknown') ORDER BY id",
            self._scope(scope),
        )
        return _intents(rows)

    def writes_in_doubt(self, run_id: int, scope: LedgerScope) -> list[Intent]:
        """The writes of run ``run_id`` (in ``scope``) whose answer the run never recorded: it died
        while they were in flight, or lost their answer.  ``state`` says what was learnt since
        (``in-flight``/``unknown`` while unsettled, then ``settled-found``, ``settled-absent``, …)."""
        rows = self._read(
            f"SELECT * FROM intents WHERE run_id=? AND {_WHERE} AND state NOT IN {_ANSWERED} ORDER BY id",
            (run_id, *self._scope(scope)),
        )
        return _intents(rows)

    # -- records (remote id -> last pushed fields) --------------------------------------
    def remember(
        self,
        scope: LedgerScope,
        remote_id: str,
        fields: dict[str, str],
        *,
        merge: bool = True,
        fingerprint: str | None = None,
    ) -> LedgerRecord:
        """Store what was pushed for ``remote_id`` (merged into what was known when ``merge``)."""
        where = self._scope(scope)
        return self._group.run(  # type: ignore[no-any-return]
            lambda db: self._remember(where, remote_id, fields, merge, fingerprint)
        )

    def _remember(
        self,
        where: tuple[str, str, str],
        remote_id: str,
        fields: dict[str, str],
        merge: bool,
        fingerprint: str | None,
    ) -> LedgerRecord:
        known: dict[str, str] = {}
        if merge:
            row = self.db.execute(
                f"SELECT fields FROM records WHERE {_WHERE} AND remote_id=?", (*where, remote_id)
            ).fetchone()
            known = json.loads(row["fields"]) if row else {}
        merged = {**known, **fields}
        fp = fingerprint or fields_fingerprint(merged)
        self.db.execute(  # an upsert keeps the row (its rowid): records() lists in the order first known
            "INSERT INTO records (provider, base_url, account, remote_id, fields, fingerprint, updated_at)"
            " VALUES (?,?,?,?,?,?,?) ON CONFLICT (provider, base_url, account, remote_id) DO UPDATE SET"
            " fields=excluded.fields, fingerprint=excluded.fingerprint, updated_at=excluded.updated_at",
            (*where, remote_id, json.dumps(merged, ensure_ascii=False), fp, _now()),
        )
        return LedgerRecord(remote_id, merged, fp)

    def mark_unsure(self, scope: LedgerScope, remote_id: str, names: list[str]) -> None:
        """An update of ``names`` whose outcome is not known, where the ledger stands in for the
        provider (it cannot be read): those fields are :data:`UNSURE`, so the next plan sends the
        sheet's values again instead of trusting what was known before."""
        self.remember(scope, remote_id, dict.fromkeys(names, UNSURE))

    def forget(self, scope: LedgerScope, remote_id: str) -> None:
        self._write(f"DELETE FROM records WHERE {_WHERE} AND remote_id=?", (*self._scope(scope), remote_id))

    def records(self, scope: LedgerScope) -> list[LedgerRecord]:
        rows = self._read(f"SELECT * FROM records WHERE {_WHERE} ORDER BY rowid", self._scope(scope))
        return [
            LedgerRecord(r["remote_id"], json.loads(r["fields"]), r["fingerprint"], r["updated_at"])
            for r in rows
        ]

    # -- unknowns (JoggAI) ---------------------------------------------------------------
    def mark_unknown(
        self,
        scope: LedgerScope,
        key_field: str,
        key_value: str,
        *,
        row: int | None,
        fields: dict[str, str],
        run_id: int,
    ) -> None:
        self._write(
            "INSERT OR IGNORE INTO unknowns (provider, base_url, account, key_field, key_value, row, fields,"
            " run_id, since) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                *self._scope(scope),
                key_field,
                key_value,
                row,
                json.dumps(fields, ensure_ascii=False),
                run_id,
                _now(),
            ),
        )

    def unknowns(self, scope: LedgerScope) -> list[Unknown]:
        rows = self._read(f"SELECT * FROM unknowns WHERE {_WHERE} ORDER BY since", self._scope(scope))
        return [
            Unknown(
                r["key_field"], r["key_value"], r["row"], json.loads(r["fields"]), r["run_id"], r["since"]
            )
            for r in rows
        ]

    def resolve_unknown(self, scope: LedgerScope, key_value: str) -> int:
        """Forget the unknown outcomes whose key value is ``key_value`` in ``scope`` (only there:
        not at another base URL, nor of another account at this one)."""
        cur = self._write(
            f"DELETE FROM unknowns WHERE {_WHERE} AND key_value=?", (*self._scope(scope), key_value)
        )
        return cur.rowcount

    def unknown_scopes(self, provider: str, key_value: str) -> list[tuple[str, str]]:
        """The (base URL, account) pairs at which an unknown outcome with ``key_value`` is recorded."""
        rows = self._read(
            "SELECT DISTINCT base_url, account FROM unknowns WHERE provider=? AND key_value=? ORDER BY base_url, account",
            (provider, key_value),
        )
        return [(str(r["base_url"]), str(r["account"])) for r in rows]


#: The states of an intent whose answer its run recorded: the write did, or did not, take effect.
_ANSWERED = "('done', 'failed', 'conflict')"


def _intents(rows: list[Any]) -> list[Intent]:
    return [
        Intent(
            r["id"],
            r["run_id"],
            r["row"],
            r["key"] or "",
            r["action"],
            r["remote_id"],
            json.loads(r["fields"]),
            r["sent_at"],
            r["state"],
        )
        for r in rows
    ]
