"""Remote records the ledger knows, the intents of writes in flight, and unknown creates."""

from __future__ import annotations

import json

from catalog_sync.config.credentials import public_base_url
from catalog_sync.state.database import Database
from catalog_sync.state.model import UNSURE, Intent, LedgerRecord, Unknown, _now, fields_fingerprint


class RecordStore(Database):
    """The ``records``, ``intents`` and ``unknowns`` tables."""

    def knows_nothing_of(self, provider: str, base_url: str) -> bool:
        """True when this database holds no record, unknown or write of ``provider`` at ``base_url``."""
        base = public_base_url(base_url)
        return not any(
            self._read(f"SELECT 1 FROM {table} WHERE provider=? AND base_url=? LIMIT 1", (provider, base))
            for table in ("records", "unknowns", "intents")
        )

    # -- intents -----------------------------------------------------------------------
    def begin_intent(
        self,
        run_id: int,
        provider: str,
        base_url: str,
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
            provider,
            public_base_url(base_url),
            row,
            key,
            action,
            remote_id,
            json.dumps(fields, ensure_ascii=False),
            _now(),
        )
        sql = (
            "INSERT INTO intents (run_id, provider, base_url, row, key, action, remote_id, fields, sent_at)"
            " VALUES (?,?,?,?,?,?,?,?,?)"
        )
        return int(self._group.run(lambda db: db.execute(sql, values).lastrowid) or 0)

    def end_intent(self, intent_id: int, state: str = "done") -> None:
        values = (state, _now(), intent_id)
        self._group.run(lambda db: db.execute("UPDATE intents SET state=?, settled_at=? WHERE id=?", values))

    def open_intents(self, provider: str, base_url: str) -> list[Intent]:
        """Intents never closed (their run died mid-write) or left unknown by a run."""
        rows = self._read(
            "SELECT * FROM intents WHERE provider=? AND base_url=? AND state IN ('in-flight','unknown') ORDER BY id",
            (provider, public_base_url(base_url)),
        )
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

    # -- records (remote id -> last pushed fields) --------------------------------------
    def remember(
        self,
        provider: str,
        base_url: str,
        remote_id: str,
        fields: dict[str, str],
        *,
        merge: bool = True,
        fingerprint: str | None = None,
    ) -> LedgerRecord:
        """Store what was pushed for ``remote_id`` (merged into what was known when ``merge``)."""
        base = public_base_url(base_url)
        return self._group.run(  # type: ignore[no-any-return]
            lambda db: self._remember(provider, base, remote_id, fields, merge, fingerprint)
        )

    def _remember(
        self,
        provider: str,
        base: str,
        remote_id: str,
        fields: dict[str, str],
        merge: bool,
        fingerprint: str | None,
    ) -> LedgerRecord:
        known: dict[str, str] = {}
        if merge:
            row = self.db.execute(
                "SELECT fields FROM records WHERE provider=? AND base_url=? AND remote_id=?",
                (provider, base, remote_id),
            ).fetchone()
            known = json.loads(row["fields"]) if row else {}
        merged = {**known, **fields}
        fp = fingerprint or fields_fingerprint(merged)
        self.db.execute(
            "INSERT OR REPLACE INTO records (provider, base_url, remote_id, fields, fingerprint, updated_at)"
            " VALUES (?,?,?,?,?,?)",
            (provider, base, remote_id, json.dumps(merged, ensure_ascii=False), fp, _now()),
        )
        return LedgerRecord(remote_id, merged, fp)

    def mark_unsure(self, provider: str, base_url: str, remote_id: str, names: list[str]) -> None:
        """An update of ``names`` whose outcome is not known, where the ledger stands in for the
        provider (it cannot be read): those fields are :data:`UNSURE`, so the next plan sends the
        sheet's values again instead of trusting what was known before."""
        self.remember(provider, base_url, remote_id, dict.fromkeys(names, UNSURE))

    def forget(self, provider: str, base_url: str, remote_id: str) -> None:
        self._write(
            "DELETE FROM records WHERE provider=? AND base_url=? AND remote_id=?",
            (provider, public_base_url(base_url), remote_id),
        )

    def records(self, provider: str, base_url: str) -> list[LedgerRecord]:
        rows = self._read(
            "SELECT * FROM records WHERE provider=? AND base_url=? ORDER BY updated_at, remote_id",
            (provider, public_base_url(base_url)),
        )
        return [
            LedgerRecord(r["remote_id"], json.loads(r["fields"]), r["fingerprint"], r["updated_at"])
            for r in rows
        ]

    # -- unknowns (JoggAI) ---------------------------------------------------------------
    def mark_unknown(
        self,
        provider: str,
        base_url: str,
        key_field: str,
        key_value: str,
        *,
        row: int | None,
        fields: dict[str, str],
        run_id: int,
    ) -> None:
        self._write(
            "INSERT OR IGNORE INTO unknowns (provider, base_url, key_field, key_value, row, fields, run_id, since)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (
                provider,
                public_base_url(base_url),
                key_field,
                key_value,
                row,
                json.dumps(fields, ensure_ascii=False),
                run_id,
                _now(),
            ),
        )

    def unknowns(self, provider: str, base_url: str) -> list[Unknown]:
        rows = self._read(
            "SELECT * FROM unknowns WHERE provider=? AND base_url=? ORDER BY since",
            (provider, public_base_url(base_url)),
        )
        return [
            Unknown(
                r["key_field"], r["key_value"], r["row"], json.loads(r["fields"]), r["run_id"], r["since"]
            )
            for r in rows
        ]

    def resolve_unknown(self, provider: str, base_url: str, key_value: str) -> int:
        """Forget the unknown outcomes whose key value is ``key_value`` at ``base_url`` (only there)."""
        cur = self._write(
            "DELETE FROM unknowns WHERE provider=? AND base_url=? AND key_value=?",
            (provider, public_base_url(base_url), key_value),
        )
        return cur.rowcount

    def unknown_base_urls(self, provider: str, key_value: str) -> list[str]:
        """The base URLs at which an unknown outcome with ``key_value`` is recorded."""
        rows = self._read(
            "SELECT DISTINCT base_url FROM unknowns WHERE provider=? AND key_value=? ORDER BY base_url",
            (provider, key_value),
        )
        return [str(r["base_url"]) for r in rows]
