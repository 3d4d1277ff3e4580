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

* ``lock_holder`` — who holds the state lock (pid, host, start time, command), so a second
  run can name the holder whatever path (symlink, hard link) it reached the database by.

No secret is ever stored: base URLs are stored without user info, query or fragment.

Our databases are marked (``PRAGMA application_id``); an existing file that is empty (0 bytes),
not SQLite, or SQLite without our mark and tables is refused (:class:`ConfigError`) rather than
silently used as a new ledger.  A :class:`StateLock` (``flock`` on the database file itself, so
one lock per file however it is named) keeps two runs off the same state; the second gets
:class:`~catalog_sync.errors.LockHeldError` (exit 5) naming the holder.  A failed write raises
:class:`~catalog_sync.errors.StateDatabaseError` (classified by type: ``sqlite3.Error``, ``OSError``).
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import json
import os
import re
import socket
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog_sync.config import public_base_url
from catalog_sync.defaults import DEFAULT_STATE
from catalog_sync.errors import ConfigError, LockHeldError, StateDatabaseError
from catalog_sync.group_commit import GroupCommit
from catalog_sync.text import safe_text

__all__ = [
    "DEFAULT_STATE",
    "Intent",
    "Ledger",
    "LedgerRecord",
    "LedgerVideo",
    "StateLock",
    "Unknown",
    "fields_fingerprint",
    "public_base_url",
]

#: ``PRAGMA user_version`` of the schema below; a database with a higher one was written by a
#: newer catalog-sync and is refused rather than half-understood.  1 → 2: ``runs.stopped`` and
#: the ``lock_holder`` table; 2 → 3: ``runs.job``/``report``/``catalog_sha256``/``tool_version`` and
#: the ``job_outcomes`` table; 3 → 4: the ``videos`` table (each migrated in place).
SCHEMA_VERSION = 4
#: ``PRAGMA application_id`` marking a catalog-sync state database ("CSLG").
APPLICATION_ID = 0x43534C47
#: Seconds a write waits for another process's write transaction (``CATALOG_SYNC_STATE_TIMEOUT``).
BUSY_TIMEOUT = 30.0
_SQLITE_HEADER = b"SQLite format 3\x00"
_WAY_OUT = (
    "restore the file from a backup if it was your ledger, or move it aside (or delete it) to start a new "
    "ledger — providers that cannot be listed (JoggAI) would then get their earlier products created "
    "again — or pass another --state. Nothing was sent."
)

#: Product videos (JoggAI): the video made for a product with one set of settings; a row is written
#: (status ``sending``) before the create is sent, so a lost answer is settled, never sent again.
_VIDEOS_SQL = """
CREATE TABLE IF NOT EXISTS videos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    base_url TEXT NOT NULL,
    product_id TEXT NOT NULL,
    settings TEXT NOT NULL,
    row INTEGER,
    name TEXT,
    video_id TEXT,
    status TEXT NOT NULL,
    video_url TEXT,
    cover_url TEXT,
    credits REAL,
    error TEXT,
    run_id INTEGER,
    sent_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS videos_key ON videos(provider, base_url, product_id, settings);
"""

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
    exit_code INTEGER,
    stopped TEXT,
    job TEXT,
    report TEXT,
    catalog_sha256 TEXT,
    tool_version TEXT
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
CREATE TABLE IF NOT EXISTS lock_holder (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pid INTEGER,
    host TEXT,
    started_at TEXT,
    command TEXT
);
CREATE TABLE IF NOT EXISTS job_outcomes (
    job TEXT PRIMARY KEY,
    outcome TEXT NOT NULL,
    exit_code INTEGER,
    run_id INTEGER,
    at TEXT NOT NULL
);
"""
#: The tables (and their columns) a version-1 database has: what the previous version wrote.
_V1_TABLES = ("runs", "outcomes", "intents", "records", "unknowns")
#: Columns later versions added to the version-1 tables (added by :meth:`Ledger._migrate`).
_ADDED_COLUMNS = {"runs": {"stopped": 2, "job": 3, "report": 3, "catalog_sha256": 3, "tool_version": 3}}
_JOB_OUTCOMES_SQL = (
    "CREATE TABLE IF NOT EXISTS job_outcomes (job TEXT PRIMARY KEY, outcome TEXT NOT NULL, exit_code INTEGER, "
    "run_id INTEGER, at TEXT NOT NULL)"
)
#: The migration steps: (the version a step brings a database to, the statements it runs).  Each
#: step only adds; :meth:`Ledger._migrate` runs those above the database's version, in order.
_MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (4, tuple(stmt.strip() for stmt in _VIDEOS_SQL.split(";") if stmt.strip())),
)


def _schema_columns(schema: str) -> dict[str, set[str]]:
    """Table → column names, read from the CREATE TABLE statements of ``schema``."""
    tables: dict[str, set[str]] = {}
    for name, body in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\);", schema, re.S):
        tables[name] = {
            line.split()[0]
            for line in body.strip().splitlines()
            if line.strip() and not line.strip().startswith(("PRIMARY KEY", "CHECK"))
        }
    return tables


_COLUMNS = _schema_columns(_SCHEMA + _VIDEOS_SQL)


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


def _host() -> str:
    try:
        return socket.gethostname()
    except OSError:
        return "?"


def _busy_timeout(value: float | None) -> float:
    if value is not None:
        return value
    try:
        return float(os.environ.get("CATALOG_SYNC_STATE_TIMEOUT", BUSY_TIMEOUT))
    except ValueError:
        return BUSY_TIMEOUT


class StateLock:
    """A non-blocking lock on the state database file itself, naming its holder.

    ``flock`` on a descriptor of the database file (opened read-only, never truncated): the
    lock belongs to the file, so the same database reached through a symlink or a hard link is
    the same lock.  The holder (pid, host, start time, command) is written into the database's
    ``lock_holder`` table, where a second run finds it by whatever name it used.

    Closing any descriptor of a SQLite file drops this process's POSIX locks on it, so the
    descriptor stays open until :meth:`close` (the :class:`Ledger` calls it after closing its
    connection); :meth:`release` only unlocks.  ``ledger``: the connection holder info goes
    through (None: a short connection of its own).
    """

    def __init__(self, state_path: Path, ledger: Ledger | None = None) -> None:
        self.path = Path(state_path)
        self._ledger = ledger
        self._held = False
        try:
            self._fd: int | None = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            raise ConfigError(f"cannot open the state database {self.path} to lock it: {exc}") from exc

    def acquire(self, command: str) -> None:
        if self._fd is None:
            raise ConfigError(f"the lock on {self.path} was closed")
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeldError(self._holder_message()) from None
        except OSError as exc:
            raise ConfigError(f"cannot lock the state database {self.path}: {exc}") from exc
        self._held = True
        try:
            self._sql(
                "INSERT OR REPLACE INTO lock_holder (id, pid, host, started_at, command) VALUES (1,?,?,?,?)",
                (os.getpid(), _host(), _now(), command),
            )
            # into the main file: a run reaching the database through a hard link reads another -wal name
            self._sql("PRAGMA wal_checkpoint(PASSIVE)", ())
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        if not self._held or self._fd is None:
            return
        with suppress(StateDatabaseError):
            self._sql("DELETE FROM lock_holder WHERE pid=?", (os.getpid(),))
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._held = False
        if self._ledger is None:
            self.close()  # a lock of its own: no connection of ours is left on the file

    def close(self) -> None:
        """Close the descriptor (after every SQLite connection of this process on the file)."""
        self.release() if self._held else None
        if self._fd is not None:
            with suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def holder(self) -> dict[str, Any] | None:
        """pid, host, started_at, command of the run holding the lock (None when unknown)."""
        try:
            rows = self._sql("SELECT pid, host, started_at, command FROM lock_holder WHERE id=1", ())
        except StateDatabaseError:
            return None
        return dict(zip(("pid", "host", "started_at", "command"), rows[0], strict=True)) if rows else None

    def _sql(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        if self._ledger is not None:
            return [tuple(r) for r in self._ledger._execute(sql, params)]
        try:
            db = sqlite3.connect(str(self.path), timeout=_busy_timeout(None), isolation_level=None)
            try:
                return db.execute(sql, params).fetchall()
            finally:
                db.close()
        except (sqlite3.Error, OSError) as exc:
            raise StateDatabaseError(str(self.path), exc) from exc

    def _holder_message(self) -> str:
        info = self.holder()
        if info:
            holder = (
                f"pid {info.get('pid')} on host {safe_text(info.get('host'))}, "
                f"{safe_text(info.get('command') or 'a run')} started {safe_text(info.get('started_at'))}"
            )
        else:
            holder = "another process, which has not said who it is yet"
        return (
            f"another run holds the lock on this state database ({holder}); state {self.path}. "
            "Wait for it to finish, or use another --state."
        )

    def __enter__(self) -> StateLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _refuse_unusable_file(path: Path) -> None:
    """ConfigError when an existing ``path`` is empty or not a SQLite database at all."""
    if path.stat().st_size == 0:
        raise ConfigError(
            f"the state database {path} is empty (0 bytes): the record of earlier runs and of the products "
            f"they created is gone, and using it as a new ledger could create them again. {_WAY_OUT}"
        )
    with path.open("rb") as fh:
        head = fh.read(len(_SQLITE_HEADER))
    if head != _SQLITE_HEADER:
        raise ConfigError(
            f"cannot open the state database {path}: it is not a SQLite database (not a catalog-sync state "
            f"file). {_WAY_OUT}"
        )


class Ledger:
    """The SQLite state database.  Thread-safe: writes are serialised by a lock.

    ``created`` is True when this open made a new database.  ``busy_timeout``: seconds a
    write waits for another process's transaction (default ``CATALOG_SYNC_STATE_TIMEOUT`` or 30).
    """

    def __init__(self, path: str | Path = DEFAULT_STATE, *, busy_timeout: float | None = None) -> None:
        self.path = Path(path)
        self.created = False
        self._db: sqlite3.Connection | None = None
        self._lock: StateLock | None = None
        self._mutex = threading.Lock()
        #: intents and outcomes of concurrent workers share commits (each caller waits for its own)
        self._group = GroupCommit(lambda: self.db, self._mutex, self._db_error)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            existed = self.path.exists()
            if existed:
                _refuse_unusable_file(self.path)
            self._db = sqlite3.connect(
                str(self.path),
                check_same_thread=False,
                isolation_level=None,
                timeout=_busy_timeout(busy_timeout),
            )
            if existed:
                self._adopt()
            else:
                self._create()
            self._lock = StateLock(self.path, self)
        except (OSError, sqlite3.Error) as exc:
            self.close()
            raise ConfigError(f"cannot open the state database {self.path}: {exc}") from exc
        except BaseException:
            self.close()
            raise
        self._db.row_factory = sqlite3.Row

    @property
    def db(self) -> sqlite3.Connection:
        assert self._db is not None, "the ledger is closed"
        return self._db

    def close(self) -> None:
        """Close the connection, then the lock's descriptor (in that order: see StateLock)."""
        if self._db is not None:
            with suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _create(self) -> None:
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(
            f"BEGIN; {_SCHEMA} {_VIDEOS_SQL} PRAGMA application_id={APPLICATION_ID}; PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
        )
        self.created = True

    def _adopt(self) -> None:
        """An existing file: ours (marked, or the previous version's) is migrated; any other refused."""
        version = self._check_ours()
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        if version < SCHEMA_VERSION:
            self._migrate()
        self._check_columns(_COLUMNS)

    def _pragma(self, name: str) -> int:
        return int(self.db.execute(f"PRAGMA {name}").fetchone()[0])

    def _check_ours(self) -> int:
        """The schema version of a catalog-sync database; ConfigError for a newer or foreign one."""
        app, version = self._pragma("application_id"), self._pragma("user_version")
        if app == APPLICATION_ID and version > SCHEMA_VERSION:
            raise ConfigError(
                f"the state database {self.path} was written by a newer catalog-sync (schema {version}, this "
                f"version knows {SCHEMA_VERSION}); upgrade catalog-sync or use another --state"
            )
        if app == APPLICATION_ID:
            return version
        why = self._foreign_reason(app, version)
        if why is None:  # unmarked, version 1, every table: written by the previous catalog-sync
            return version
        raise ConfigError(
            f"the state database {self.path} is not one this catalog-sync can use: {why}. {_WAY_OUT}"
        )

    def _foreign_reason(self, app: int, version: int) -> str | None:
        """Why an unmarked SQLite file is not the previous version's ledger (None when it is)."""
        if app != 0:
            return f"it belongs to another program (application id {app})"
        tables = {str(r[0]) for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        ours = [t for t in _V1_TABLES if t in tables]
        if not ours:
            return "it is a SQLite database without catalog-sync's tables (another program's file?)"
        missing_tables = [t for t in _V1_TABLES if t not in tables]
        missing = self._missing_columns({t: _COLUMNS[t] - set(_ADDED_COLUMNS.get(t, {})) for t in ours})
        if missing:
            table, columns = missing
            return f"table {table} lacks {', '.join(columns)} (an older version's or another program's file?)"
        if missing_tables:
            return f"it lacks the tables {', '.join(missing_tables)} (an older version's or another program's file?)"
        if version > SCHEMA_VERSION:
            return f"it was written by a newer catalog-sync (schema {version}); upgrade catalog-sync"
        if version != 1:
            return f"it has catalog-sync's tables but schema version {version} and no catalog-sync mark"
        return None

    def _missing_columns(self, wanted: dict[str, set[str]]) -> tuple[str, list[str]] | None:
        for table, columns in wanted.items():
            have = {str(r[1]) for r in self.db.execute(f"PRAGMA table_info({table})")}
            missing = sorted(columns - have)
            if missing:
                return table, missing
        return None

    def _migrate(self) -> None:
        """Older versions → this one in one transaction (each step only adds; nothing is rewritten).

        1 → 2: ``runs.stopped``, ``lock_holder``, the mark; 2 → 3: the ``runs`` columns ``job``,
        ``report``, ``catalog_sha256``, ``tool_version`` and the ``job_outcomes`` table; then the
        steps of ``_MIGRATIONS`` (3 → 4: the ``videos`` table).
        """
        self.db.execute("BEGIN IMMEDIATE")
        try:
            version = self._pragma("user_version")
            if version < SCHEMA_VERSION:
                self._add_run_columns()
                self.db.execute(
                    "CREATE TABLE IF NOT EXISTS lock_holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER, "
                    "host TEXT, started_at TEXT, command TEXT)"
                )
                self.db.execute(_JOB_OUTCOMES_SQL)
                for step, statements in _MIGRATIONS:
                    if version < step:
                        for statement in statements:
                            self.db.execute(statement)
                self.db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self.db.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")
            raise

    def _add_run_columns(self) -> None:
        """``ALTER TABLE runs ADD COLUMN`` for each column a later version added (all TEXT)."""
        have = {str(r[1]) for r in self.db.execute("PRAGMA table_info(runs)")}
        for column in _ADDED_COLUMNS["runs"]:
            if column not in have:
                self.db.execute(f"ALTER TABLE runs ADD COLUMN {column} TEXT")

    def _check_columns(self, wanted: dict[str, set[str]]) -> None:
        """Every table has the columns this version writes (else: a damaged or foreign database)."""
        missing = self._missing_columns(wanted)
        if missing:
            table, columns = missing
            raise ConfigError(
                f"the state database {self.path} is not one this catalog-sync can use: table {table} lacks "
                f"{', '.join(columns)} (an older version's or another program's file?). {_WAY_OUT}"
            )

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def locked(self, command: str) -> Iterator[StateLock]:
        """Hold the state lock for the duration of a run (LockHeldError, exit 5, when taken).

        Runs this database still shows unfinished belong to processes that died (kill -9, power
        loss): they are marked interrupted once the lock is ours.
        """
        assert self._lock is not None, "the ledger is closed"
        self._lock.acquire(command)
        try:
            self._write("UPDATE runs SET stopped='interrupted' WHERE finished_at IS NULL AND stopped IS NULL")
            yield self._lock
        finally:
            self._lock.release()

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """One statement; sqlite and OS failures become StateDatabaseError (naming the file)."""
        with self._mutex:
            try:
                return self.db.execute(sql, params).fetchall()
            except (sqlite3.Error, OSError) as exc:
                raise StateDatabaseError(str(self.path), exc) from exc

    def _write(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        with self._mutex:
            try:
                return self.db.execute(sql, params)
            except (sqlite3.Error, OSError) as exc:
                raise StateDatabaseError(str(self.path), exc) from exc

    def _db_error(self, exc: Exception) -> StateDatabaseError:
        error = StateDatabaseError(str(self.path), exc)
        error.__cause__ = exc
        return error

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return self._execute(sql, params)

    def knows_nothing_of(self, provider: str, base_url: str) -> bool:
        """True when this database holds no record, unknown or write of ``provider`` at ``base_url``."""
        base = public_base_url(base_url)
        return not any(
            self._read(f"SELECT 1 FROM {table} WHERE provider=? AND base_url=? LIMIT 1", (provider, base))
            for table in ("records", "unknowns", "intents")
        )

    # -- runs --------------------------------------------------------------------------
    def start_run(
        self,
        command: str,
        provider: str,
        base_url: str,
        catalog: str | None,
        mode: str | None,
        *,
        job: str | None = None,
        catalog_sha256: str | None = None,
    ) -> int:
        """Open a run record (with the cron job's name, the catalog file's SHA-256 and our version)."""
        from catalog_sync import __version__

        cur = self._write(
            "INSERT INTO runs (command, provider, base_url, catalog, mode, pid, started_at, job, catalog_sha256,"
            " tool_version) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                command,
                provider,
                public_base_url(base_url),
                catalog,
                mode,
                os.getpid(),
                _now(),
                job,
                catalog_sha256,
                __version__,
            ),
        )
        return int(cur.lastrowid or 0)

    def record_refused_run(
        self,
        command: str,
        provider: str,
        base_url: str | None,
        catalog: str | None,
        mode: str | None,
        *,
        exit_code: int,
        job: str | None = None,
        catalog_sha256: str | None = None,
    ) -> int:
        """A finished run record for a run refused before it began (invalid catalog, lock held, …)."""
        from catalog_sync import __version__

        now = _now()
        cur = self._write(
            "INSERT INTO runs (command, provider, base_url, catalog, mode, pid, started_at, finished_at, counts,"
            " requests, exit_code, job, catalog_sha256, tool_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                command,
                provider,
                public_base_url(base_url),
                catalog,
                mode,
                os.getpid(),
                now,
                now,
                "{}",
                0,
                exit_code,
                job,
                catalog_sha256,
                __version__,
            ),
        )
        return int(cur.lastrowid or 0)

    def set_run_report(self, run_id: int, report: str) -> None:
        """Record where the run's report was written."""
        self._write("UPDATE runs SET report=? WHERE id=?", (report, run_id))

    def finish_run(
        self,
        run_id: int,
        *,
        counts: dict[str, Any],
        requests: int,
        exit_code: int,
        stopped: str | None = None,
    ) -> None:
        """Close the run record; ``stopped="interrupted"`` for a run stopped by Ctrl+C or SIGTERM."""
        self._write(
            "UPDATE runs SET finished_at=?, counts=?, requests=?, exit_code=?, stopped=? WHERE id=?",
            (_now(), json.dumps(counts, sort_keys=True), requests, exit_code, stopped, run_id),
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
        try:
            data["counts"] = json.loads(data["counts"]) if data.get("counts") else {}
        except ValueError:  # hand-edited: show nothing rather than fail
            data["counts"] = {}
        return data

    # -- outcomes ----------------------------------------------------------------------
    _OUTCOME_SQL = (
        "INSERT INTO outcomes (run_id, row, key, action, status, remote_id, changed, error_code, error, at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?)"
    )

    def record_outcomes(self, run_id: int, outcomes: list[dict[str, Any]]) -> None:
        """Write row outcomes (dicts with row, key, action, status, remote_id, changed, error_code, error)."""
        at = _now()
        self._group.run(
            lambda db: db.executemany(
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

    # -- job outcomes (what the last run of each cron job ended as: alert once per change) --
    def job_outcome(self, job: str) -> dict[str, Any] | None:
        """outcome, exit_code, run_id, at of ``job``'s last remembered run (None: never ran here)."""
        rows = self._read("SELECT outcome, exit_code, run_id, at FROM job_outcomes WHERE job=?", (job,))
        return dict(rows[0]) if rows else None

    def remember_job_outcome(self, job: str, outcome: str, exit_code: int, run_id: int | None) -> None:
        self._write(
            "INSERT OR REPLACE INTO job_outcomes (job, outcome, exit_code, run_id, at) VALUES (?,?,?,?,?)",
            (job, outcome, exit_code, run_id, _now()),
        )

    # -- product videos (JoggAI): product + settings fingerprint -> the video made ---------
    def begin_video(
        self,
        provider: str,
        base_url: str,
        *,
        product_id: str,
        settings: str,
        row: int | None,
        name: str,
        run_id: int,
        credits: float | None = None,
    ) -> int:
        """Record a video create about to be sent (status ``sending``, committed before it leaves)."""
        now = _now()
        cur = self._write(
            "INSERT INTO videos (provider, base_url, product_id, settings, row, name, status, credits, run_id,"
            " sent_at, created_at, updated_at) VALUES (?,?,?,?,?,?,'sending',?,?,?,?,?)",
            (
                provider,
                public_base_url(base_url),
                product_id,
                settings,
                row,
                name,
                credits,
                run_id,
                now,
                now,
                now,
            ),
        )
        return int(cur.lastrowid or 0)

    _VIDEO_COLUMNS = ("video_id", "status", "video_url", "cover_url", "credits", "error", "row", "run_id")

    def update_video(self, entry_id: int, **values: Any) -> None:
        """Set columns of a video entry (``video_id``, ``status``, ``video_url``, ``cover_url``, ``credits``,
        ``error``, ``row``, ``run_id``)."""
        unknown = set(values) - set(self._VIDEO_COLUMNS)
        if unknown:
            raise ValueError(f"not columns of a video entry: {', '.join(sorted(unknown))}")
        if not values:
            return
        names = sorted(values)
        assignments = ", ".join(f"{name}=?" for name in names)
        self._write(
            f"UPDATE videos SET {assignments}, updated_at=? WHERE id=?",
            (*(values[name] for name in names), _now(), entry_id),
        )

    def latest_video(
        self, provider: str, base_url: str, product_id: str, settings: str
    ) -> LedgerVideo | None:
        """The newest video entry of ``product_id`` with the settings fingerprint ``settings``."""
        rows = self._read(
            "SELECT * FROM videos WHERE provider=? AND base_url=? AND product_id=? AND settings=?"
            " ORDER BY id DESC LIMIT 1",
            (provider, public_base_url(base_url), product_id, settings),
        )
        return LedgerVideo.of(rows[0]) if rows else None

    def videos(self, provider: str, base_url: str, *, statuses: tuple[str, ...] = ()) -> list[LedgerVideo]:
        """Every video entry at ``base_url`` (only those in ``statuses`` when given), oldest first."""
        sql = "SELECT * FROM videos WHERE provider=? AND base_url=?"
        params: tuple[Any, ...] = (provider, public_base_url(base_url))
        if statuses:
            sql += f" AND status IN ({','.join('?' * len(statuses))})"
            params += tuple(statuses)
        return [LedgerVideo.of(r) for r in self._read(sql + " ORDER BY id", params)]


@dataclass(frozen=True)
class LedgerVideo:
    """One product video the ledger knows: what was asked (product, settings) and what came of it.

    ``status``: ``sending`` (the create was about to leave, or its answer was lost: settled by the
    video list, never by creating again), ``unknown`` (sent, not found yet), then the provider's
    ``pending``/``processing``/``completed``/``failed``."""

    id: int
    product_id: str
    settings: str
    row: int | None
    name: str
    video_id: str | None
    status: str
    video_url: str
    cover_url: str
    credits: float | None
    error: str
    run_id: int | None
    sent_at: str
    created_at: str

    @classmethod
    def of(cls, row: sqlite3.Row) -> LedgerVideo:
        return cls(
            id=int(row["id"]),
            product_id=str(row["product_id"]),
            settings=str(row["settings"]),
            row=row["row"],
            name=row["name"] or "",
            video_id=row["video_id"],
            status=str(row["status"]),
            video_url=row["video_url"] or "",
            cover_url=row["cover_url"] or "",
            credits=row["credits"],
            error=row["error"] or "",
            run_id=row["run_id"],
            sent_at=row["sent_at"] or "",
            created_at=str(row["created_at"]),
        )
