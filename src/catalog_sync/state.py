"""The state ledger: a SQLite database (WAL) that remembers runs, row outcomes and remote ids.

What it holds (all scoped per provider *and* per base URL, so a sandbox ledger never mixes
with production):

* ``runs``      — one row per plan/apply run: provider, catalog, mode, start/finish, counts,
  requests sent, exit code, pid.
* ``outcomes``  — one row per catalog row (or deleted remote record) of a run, written the
  moment it is known.
* ``intents``   — an ``in-flight`` record written *before* each write is sent and closed when
  its answer arrives.  An intent still open when a new run takes the lock belongs to a run
  that died between send and answer; it is settled before planning (``apply.settle``).
* ``records``   — remote id → last pushed fields and fingerprint.  For JoggAI (no list API)
  this is the only knowledge of what the provider holds.
* ``unknowns``  — JoggAI creates whose answer was lost: reported ``unknown`` on every run until
  the user resolves them (fills ``product_id`` or ``catalog-sync runs --resolve-unknown``).

No secret is ever stored: base URLs are stored without user info, query or fragment.
A :class:`StateLock` (``filelock``, non-blocking) keeps two runs off the same state; the
second gets :class:`~catalog_sync.errors.LockHeldError` (exit 5) naming the holder.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from catalog_sync.config import public_base_url
from catalog_sync.errors import ConfigError, LockHeldError

__all__ = [
    "DEFAULT_STATE",
    "Intent",
    "Ledger",
    "LedgerRecord",
    "StateLock",
    "Unknown",
    "fields_fingerprint",
    "public_base_url",
]

DEFAULT_STATE = Path(".catalog-sync") / "state.db"
#: ``PRAGMA user_version`` of the schema below; a database with a higher one was written by a
#: newer catalog-sync and is refused rather than half-understood.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    command TEXT NOT NULL,
    provider TEXT NOT NULL,
    base_url TEXT NOT NULL,
    catalog TEXT,
    mode TEXT,
    pid INTEGER,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    counts TEXT,
    requests INTEGER,
    exit_code INTEGER
);
CREATE TABLE IF NOT EXISTS outcomes (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    row INTEGER,
    key TEXT,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    remote_id TEXT,
    changed TEXT,
    error_code TEXT,
    error TEXT,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outcomes_run ON outcomes(run_id);
CREATE TABLE IF NOT EXISTS intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL,
    provider TEXT NOT NULL,
    base_url TEXT NOT NULL,
    row INTEGER,
    key TEXT,
    action TEXT NOT NULL,
    remote_id TEXT,
    fields TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'in-flight',
    settled_at TEXT
);
CREATE INDEX IF NOT EXISTS intents_open ON intents(provider, base_url, state);
CREATE TABLE IF NOT EXISTS records (
    provider TEXT NOT NULL,
    base_url TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    fields TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (provider, base_url, remote_id)
);
CREATE TABLE IF NOT EXISTS unknowns (
    provider TEXT NOT NULL,
    base_url TEXT NOT NULL,
    key_field TEXT NOT NULL,
    key_value TEXT NOT NULL,
    row INTEGER,
    fields TEXT NOT NULL,
    run_id INTEGER,
    since TEXT NOT NULL,
    PRIMARY KEY (provider, base_url, key_field, key_value)
);
"""


def _schema_columns(schema: str) -> dict[str, set[str]]:
    """Table → column names, read from the CREATE TABLE statements of ``schema``."""
    tables: dict[str, set[str]] = {}
    for name, body in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\);", schema, re.S):
        tables[name] = {
            line.split()[0]
            for line in body.strip().splitlines()
            if line.strip() and not line.strip().startswith("PRIMARY KEY")
        }
    return tables


_COLUMNS = _schema_columns(_SCHEMA)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def fields_fingerprint(fields: dict[str, str]) -> str:
    """sha256 of the canonical JSON of sheet-term fields (JoggAI's fingerprint, from the ledger)."""
    data = json.dumps(
        {k: v for k, v in sorted(fields.items()) if v != ""}, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LedgerRecord:
    """What the ledger knows of one remote record: its id, last pushed fields, fingerprint."""

    remote_id: str
    fields: dict[str, str]
    fingerprint: str
    updated_at: str = ""


@dataclass(frozen=True)
class Intent:
    """A write that was sent (or about to be) and whose answer was not recorded."""

    id: int
    run_id: int
    row: int | None
    key: str
    action: str
    remote_id: str | None
    fields: dict[str, str]
    sent_at: str
    state: str


@dataclass(frozen=True)
class Unknown:
    """A JoggAI create whose outcome could not be known (answer lost, nothing to look up)."""

    key_field: str
    key_value: str
    row: int | None
    fields: dict[str, str] = field(default_factory=dict)
    run_id: int | None = None
    since: str = ""


class StateLock:
    """A non-blocking lock next to the state database, with the holder's pid and start time."""

    def __init__(self, state_path: Path) -> None:
        self.path = Path(str(state_path) + ".lock")
        self.info_path = Path(str(state_path) + ".lock.json")
        self._lock = FileLock(str(self.path), timeout=0)

    def acquire(self, command: str) -> None:
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise LockHeldError(self._holder_message()) from None
        info = {"pid": os.getpid(), "started_at": _now(), "command": command}
        self.info_path.write_text(json.dumps(info), encoding="utf-8")

    def release(self) -> None:
        if self._lock.is_locked:
            with suppress(OSError):
                self.info_path.unlink()
            self._lock.release()

    def _holder_message(self) -> str:
        try:
            info = json.loads(self.info_path.read_text(encoding="utf-8"))
            holder = f"pid {info.get('pid')}, {info.get('command', 'a run')} started {info.get('started_at')}"
        except (OSError, ValueError):
            holder = "another process"
        return (
            f"another run holds the lock on this state ({holder}); lock file {self.path}. "
            "Wait for it to finish, or use another --state."
        )

    def __enter__(self) -> StateLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class Ledger:
    """The SQLite state database.  Thread-safe: writes are serialised by a lock."""

    def __init__(self, path: str | Path = DEFAULT_STATE) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                str(self.path), check_same_thread=False, isolation_level=None, timeout=30
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._check_version()
            self._db.executescript(_SCHEMA)
            self._check_columns()
        except (OSError, sqlite3.Error) as exc:
            self._db_close()
            raise ConfigError(f"cannot open the state database {self.path}: {exc}") from exc
        except ConfigError:
            self._db_close()
            raise
        self._db.row_factory = sqlite3.Row
        self._mutex = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def _db_close(self) -> None:
        with suppress(Exception):
            self._db.close()

    def _check_version(self) -> None:
        """Refuse a state database written by a newer catalog-sync (its schema is unknown here)."""
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"the state database {self.path} was written by a newer catalog-sync (schema {version}, this "
                f"version knows {SCHEMA_VERSION}); upgrade catalog-sync or use another --state"
            )

    def _check_columns(self) -> None:
        """Every table has the columns this version writes (else: older or foreign database)."""
        for table, wanted in _COLUMNS.items():
            have = {str(r[1]) for r in self._db.execute(f"PRAGMA table_info({table})")}
            missing = sorted(wanted - have)
            if missing:
                raise ConfigError(
                    f"the state database {self.path} is not one this catalog-sync can use: table {table} lacks "
                    f"{', '.join(missing)} (an older version's or another program's file?); move it aside or "
                    "use another --state"
                )
        if int(self._db.execute("PRAGMA user_version").fetchone()[0]) != SCHEMA_VERSION:
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def locked(self, command: str) -> Iterator[StateLock]:
        """Hold the state lock for the duration of a run (LockHeldError, exit 5, when taken)."""
        lock = StateLock(self.path)
        lock.acquire(command)
        try:
            yield lock
        finally:
            lock.release()

    def _write(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        with self._mutex:
            return self._db.execute(sql, params)

    def _many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self._mutex:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(sql, rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._mutex:
            return self._db.execute(sql, params).fetchall()

    # -- runs --------------------------------------------------------------------------
    def start_run(
        self, command: str, provider: str, base_url: str, catalog: str | None, mode: str | None
    ) -> int:
        cur = self._write(
            "INSERT INTO runs (command, provider, base_url, catalog, mode, pid, started_at) VALUES (?,?,?,?,?,?,?)",
            (command, provider, public_base_url(base_url), catalog, mode, os.getpid(), _now()),
        )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, *, counts: dict[str, Any], requests: int, exit_code: int) -> None:
        self._write(
            "UPDATE runs SET finished_at=?, counts=?, requests=?, exit_code=? WHERE id=?",
            (_now(), json.dumps(counts, sort_keys=True), requests, exit_code, run_id),
        )

    def runs(self, *, limit: int = 20, provider: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM runs" + (" WHERE provider=?" if provider else "") + " ORDER BY id DESC LIMIT ?"
        params: tuple[Any, ...] = (provider, limit) if provider else (limit,)
        return [self._run_dict(r) for r in self._read(sql, params)]

    def run(self, run_id: int) -> dict[str, Any] | None:
        rows = self._read("SELECT * FROM runs WHERE id=?", (run_id,))
        return self._run_dict(rows[0]) if rows else None

    @staticmethod
    def _run_dict(row: sqlite3.Row) -> dict[str, Any]:
        data = dict(row)
        data["counts"] = json.loads(data["counts"]) if data.get("counts") else {}
        return data

    # -- outcomes ----------------------------------------------------------------------
    _OUTCOME_SQL = (
        "INSERT INTO outcomes (run_id, row, key, action, status, remote_id, changed, error_code, error, at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?)"
    )

    def record_outcomes(self, run_id: int, outcomes: list[dict[str, Any]]) -> None:
        """Write row outcomes (dicts with row, key, action, status, remote_id, changed, error_code, error)."""
        at = _now()
        self._many(
            self._OUTCOME_SQL,
            [
                (
                    run_id,
                    o.get("row"),
                    o.get("key"),
                    o["action"],
                    o["status"],
                    o.get("remote_id"),
                    o.get("changed"),
                    None if o.get("error_code") in (None, "") else str(o["error_code"]),
                    o.get("error"),
                    at,
                )
                for o in outcomes
            ],
        )

    def outcomes(self, run_id: int) -> list[dict[str, Any]]:
        rows = self._read(
            "SELECT row, key, action, status, remote_id, changed, error_code, error, at FROM outcomes"
            " WHERE run_id=? ORDER BY row IS NULL, row, rowid",
            (run_id,),
        )
        return [dict(r) for r in rows]

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
        """Record a write about to be sent (committed before the request leaves)."""
        cur = self._write(
            "INSERT INTO intents (run_id, provider, base_url, row, key, action, remote_id, fields, sent_at)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            (
                run_id,
                provider,
                public_base_url(base_url),
                row,
                key,
                action,
                remote_id,
                json.dumps(fields, ensure_ascii=False),
                _now(),
            ),
        )
        return int(cur.lastrowid or 0)

    def end_intent(self, intent_id: int, state: str = "done") -> None:
        self._write("UPDATE intents SET state=?, settled_at=? WHERE id=?", (state, _now(), intent_id))

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
        with self._mutex:
            base = public_base_url(base_url)
            known: dict[str, str] = {}
            if merge:
                row = self._db.execute(
                    "SELECT fields FROM records WHERE provider=? AND base_url=? AND remote_id=?",
                    (provider, base, remote_id),
                ).fetchone()
                known = json.loads(row["fields"]) if row else {}
            merged = {**known, **fields}
            fp = fingerprint or fields_fingerprint(merged)
            self._db.execute(
                "INSERT OR REPLACE INTO records (provider, base_url, remote_id, fields, fingerprint, updated_at)"
                " VALUES (?,?,?,?,?,?)",
                (provider, base, remote_id, json.dumps(merged, ensure_ascii=False), fp, _now()),
            )
        return LedgerRecord(remote_id, merged, fp)

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

    def resolve_unknown(self, provider: str, base_url: str | None, key_value: str) -> int:
        """Forget unknown outcomes whose key value is ``key_value`` (any base URL when None)."""
        if base_url is None:
            cur = self._write("DELETE FROM unknowns WHERE provider=? AND key_value=?", (provider, key_value))
        else:
            cur = self._write(
                "DELETE FROM unknowns WHERE provider=? AND base_url=? AND key_value=?",
                (provider, public_base_url(base_url), key_value),
            )
        return cur.rowcount
