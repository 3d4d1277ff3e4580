"""The state lock: ``flock`` on the database file itself, naming its holder."""

from __future__ import annotations

import fcntl
import os
import socket
import sqlite3
from contextlib import suppress
from pathlib import Path
from typing import Any, Protocol

from catalog_sync.errors import ConfigError, LockHeldError, StateDatabaseError
from catalog_sync.state.model import _now
from catalog_sync.state.schema import BUSY_TIMEOUT
from catalog_sync.text import safe_text


class Statements(Protocol):
    """What the lock needs of an open ledger: a statement run on its connection."""

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]: ...


def host_name() -> str:
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

    def __init__(self, state_path: Path, ledger: Statements | None = None) -> None:
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
                (os.getpid(), host_name(), _now(), command),
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
