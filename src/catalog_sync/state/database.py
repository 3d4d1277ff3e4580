"""The state database: opened, marked, migrated or refused; its lock; statements and group commits.

The tables are read and written by the stores beside this module (runs, records, videos);
:class:`~catalog_sync.state.Ledger` is all of them in one front."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

from catalog_sync.config.defaults import DEFAULT_STATE
from catalog_sync.errors import ConfigError, StateDatabaseError
from catalog_sync.state.group_commit import GroupCommit
from catalog_sync.state.lock import StateLock, _busy_timeout
from catalog_sync.state.schema import (
    _ACCOUNT_ADDED,
    _ACCOUNT_INDEXES,
    _ACCOUNT_REBUILT,
    _ADDED_COLUMNS,
    _COLUMNS,
    _JOB_OUTCOMES_SQL,
    _MIGRATIONS,
    _REPLACED_SQL,
    _SCHEMA,
    _SQLITE_HEADER,
    _V1_TABLES,
    _VIDEOS_SQL,
    _WAY_OUT,
    APPLICATION_ID,
    SCHEMA_VERSION,
    create_statement,
)
from catalog_sync.state.scope import UNOWNED, LedgerScope

_D = TypeVar("_D", bound="Database")
#: the tables whose rows belong to one account (:class:`LedgerScope`)
_OWNED_TABLES = ("records", "intents", "unknowns", "videos")


def _refuse_unusable_file(path: Path) -> None:
    """ConfigError when an existing ``path`` has other names (hard links), is empty or is not a
    SQLite database at all."""
    links = path.stat().st_nlink
    if links > 1:
        raise ConfigError(
            f"the state database {path} has {links} names (hard links): SQLite keeps a database's write-ahead "
            "log beside the name it was opened by, so a run through another name can miss the writes of a run "
            "that was killed, and create products twice. Keep one name: remove the other links (`find / "
            f"-samefile {path}` lists them) or copy the file. Nothing was sent."
        )
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


class Database:
    """The SQLite state database.  Thread-safe: writes are serialised by a lock.

    ``created`` is True when this open made a new database.  ``busy_timeout``: seconds a
    write waits for another process's transaction (default ``CATALOG_SYNC_STATE_TIMEOUT`` or 30).
    """

    def __init__(self, path: str | Path = DEFAULT_STATE, *, busy_timeout: float | None = None) -> None:
        self.path = Path(path)
        self.created = False
        #: what this open of the ledger has to say once (rows written before accounts, adopted)
        self.notes: list[str] = []
        self._adopted: set[LedgerScope] = set()
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
            f"BEGIN; {_SCHEMA} {_VIDEOS_SQL} {_REPLACED_SQL} PRAGMA application_id={APPLICATION_ID}; PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
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
        steps of ``_MIGRATIONS`` (3 → 4: the ``videos`` table; 5 → 6: the ``replaced`` table);
        4 → 5: the ``account`` columns (:meth:`_add_accounts`).
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
                if version < 5:
                    self._add_accounts()
                self.db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self.db.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")
            raise

    def _add_accounts(self) -> None:
        """4 → 5: every row written so far gets the account ``''`` (adopted by the first account that
        uses its provider and base URL).  Tables whose primary key gains ``account`` are copied into
        the new shape (SQLite cannot change a primary key in place); the others get the column."""
        for table in _ACCOUNT_REBUILT:
            old = f"{table}_before_accounts"
            self.db.execute(f"ALTER TABLE {table} RENAME TO {old}")
            self.db.execute(create_statement(table))
            columns = ", ".join(str(r[1]) for r in self.db.execute(f"PRAGMA table_info({old})"))
            self.db.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {old}")
            self.db.execute(f"DROP TABLE {old}")
        for table in _ACCOUNT_ADDED:
            have = {str(r[1]) for r in self.db.execute(f"PRAGMA table_info({table})")}
            if "account" not in have:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN account TEXT NOT NULL DEFAULT ''")
        for statement in _ACCOUNT_INDEXES:
            self.db.execute(statement)

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

    def __enter__(self: _D) -> _D:
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

    def _scope(self, scope: LedgerScope) -> tuple[str, str, str]:
        """The ``provider, base_url, account`` to match rows of ``scope`` by, once rows written before
        accounts (at its provider and base URL) are adopted by its account."""
        if scope not in self._adopted:
            self._adopt_unowned(scope)
            self._adopted.add(scope)
        return scope.provider, scope.base_url, scope.account

    def _adopt_unowned(self, scope: LedgerScope) -> None:
        """Rows of ``scope``'s provider and base URL that have no account (written before the ledger
        kept accounts) become ``scope``'s, with a note; from then on no other account sees them."""
        where = (scope.provider, scope.base_url, UNOWNED)
        adopted = 0
        with self._mutex:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    for table in _OWNED_TABLES:
                        adopted += self.db.execute(
                            f"UPDATE {table} SET account=? WHERE provider=? AND base_url=? AND account=?",
                            (scope.account, *where),
                        ).rowcount
                    self.db.execute("COMMIT")
                except BaseException:
                    with suppress(sqlite3.Error):
                        self.db.execute("ROLLBACK")
                    raise
            except (sqlite3.Error, OSError) as exc:
                raise StateDatabaseError(str(self.path), exc) from exc
        if adopted:
            self.notes.append(
                f"the state database held {adopted} row(s) of {scope.provider} at {scope.base_url} written before "
                f"it kept accounts: they are now account {scope.account}'s (the account in use); another "
                "account at this base URL will not see them"
            )
