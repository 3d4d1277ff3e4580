"""What a sandbox holds: records by kind and id, counters and settings, optionally in SQLite.

In memory it is a dict per kind (insertion-ordered).  With a path, every change is written
through to a SQLite file at once (WAL, one transaction per change), and a new store opened
on the same file serves the same records and continues the same id counters.

Not thread-safe on its own: emulators call it while holding their lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

__all__ = ["Store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Store:
    """Records ``{kind: {id: dict}}`` plus ``meta`` values, write-through to SQLite if a path is given."""

    def __init__(self, path: str | Path | None = None, *, provider: str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._records: dict[str, dict[str, dict[str, Any]]] = {}
        self._meta: dict[str, Any] = {}
        self._seq = 0
        self.version = 0  # changes on every put and delete (emulators cache sorted listings on it)
        self._db: sqlite3.Connection | None = None
        self._db_lock = threading.Lock()
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.executescript(_SCHEMA)
                self._load()
            except (sqlite3.DatabaseError, ValueError, TypeError) as exc:
                self.close()
                raise ValueError(
                    f"state file {self.path} is not a usable sandbox state ({exc}); "
                    "give another --state path or remove the file"
                ) from None
            if provider is not None:
                held = self._meta.get("provider")
                if held is not None and held != provider:
                    self.close()
                    raise ValueError(f"state file {self.path} holds a {held} sandbox, not {provider}")
                if held is None:
                    self.set_meta("provider", provider)

    def _load(self) -> None:
        assert self._db is not None
        for kind, rid, seq, body in self._db.execute("SELECT kind, id, seq, body FROM records ORDER BY seq"):
            self._records.setdefault(kind, {})[rid] = json.loads(body)
            self._seq = max(self._seq, seq)
        for key, value in self._db.execute("SELECT key, value FROM meta"):
            self._meta[key] = json.loads(value)

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        if self._db is None:
            return
        with self._db_lock:
            self._db.execute(sql, params)

    # records ---------------------------------------------------------------------------------
    def get(self, kind: str, rid: str) -> dict[str, Any] | None:
        return self._records.get(kind, {}).get(str(rid))

    def all(self, kind: str) -> list[dict[str, Any]]:
        return list(self._records.get(kind, {}).values())

    def ids(self, kind: str) -> list[str]:
        return list(self._records.get(kind, {}))

    def put(self, kind: str, rid: str, record: dict[str, Any]) -> None:
        rid = str(rid)
        bucket = self._records.setdefault(kind, {})
        if rid not in bucket:
            self._seq += 1
        bucket[rid] = record
        self.version += 1
        self._write(
            "INSERT INTO records(kind, id, seq, body) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(kind, id) DO UPDATE SET body = excluded.body",
            (kind, rid, self._seq, json.dumps(record, sort_keys=False)),
        )

    def delete(self, kind: str, rid: str) -> bool:
        rid = str(rid)
        existed = self._records.get(kind, {}).pop(rid, None) is not None
        if existed:
            self.version += 1
            self._write("DELETE FROM records WHERE kind = ? AND id = ?", (kind, rid))
        return existed

    # meta and counters ----------------------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        return self._meta.get(key, default)

    def set_meta(self, key: str, value: Any) -> None:
        self._meta[key] = value
        self._write(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    def next_id(self, name: str, start: int = 1) -> int:
        """The next value of a persisted counter (first call returns ``start``)."""
        value = int(self._meta.get(f"counter:{name}", start - 1)) + 1
        self.set_meta(f"counter:{name}", value)
        return value

    def dump(self) -> dict[str, Any]:
        return {kind: list(bucket.values()) for kind, bucket in self._records.items()}

    def close(self) -> None:
        if self._db is not None:
            with self._db_lock:
                self._db.close()
            self._db = None
