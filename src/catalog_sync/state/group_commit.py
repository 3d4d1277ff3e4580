"""Group commit for the ledger: many threads' small writes committed together, each caller
returning only once its own write is committed.

Leader/follower: a caller queues its write; if no commit is running it becomes the leader,
takes every write queued so far, runs them in one transaction and commits, then wakes the
others.  A caller whose write was in that batch returns with its result; one that queued while
the commit ran leads the next batch.  So a lone writer commits at once (no added wait), and N
workers finishing together share one commit instead of N.

Durability is the caller's as before: the call returns after the COMMIT that holds its write.
When a batch fails, it is rolled back and each write is tried again in a transaction of its
own, so only the writes that fail themselves raise (a database that cannot be written fails
them all).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import Any

__all__ = ["GroupCommit"]

Write = Callable[[sqlite3.Connection], Any]


class _Pending:
    def __init__(self, write: Write) -> None:
        self.write = write
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


class GroupCommit:
    """Commits queued writes on ``db`` in shared transactions.

    ``mutex``: the lock every other use of the connection holds; ``wrap``: turns a database
    failure (``sqlite3.Error``, ``OSError``) into the error callers see.
    """

    def __init__(
        self,
        db: Callable[[], sqlite3.Connection],
        mutex: threading.Lock,
        wrap: Callable[[Exception], Exception],
    ) -> None:
        self._db, self._mutex, self._wrap = db, mutex, wrap
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._leading = False
        self.commits = 0  # transactions committed (a batch of one counts as one)

    def run(self, write: Write) -> Any:
        """Run ``write(connection)`` in a committed transaction; its return value once committed."""
        pending = _Pending(write)
        with self._cond:
            self._queue.append(pending)
            self._cond.notify_all()  # anyone watching the queue (tests, a waiting leader-to-be)
            while self._leading and not pending.done:
                self._cond.wait()
            if pending.done:
                return pending.result()
            self._leading = True
            batch, self._queue = self._queue, []
        try:
            self._commit(batch)
        finally:
            with self._cond:
                for item in batch:
                    if not item.done:  # the leader was interrupted: nobody may wait for ever
                        item.error = item.error or RuntimeError("the ledger write was interrupted")
                        item.done = True
                self._leading = False
                self._cond.notify_all()
        return pending.result()

    def _commit(self, batch: list[_Pending]) -> None:
        with self._mutex:
            try:
                values = self._transaction([item.write for item in batch])
            except Exception as exc:
                if len(batch) == 1:
                    batch[0].error, batch[0].done = self._error(exc), True
                    return
                self._one_by_one(batch)
                return
            for item, value in zip(batch, values, strict=True):
                item.value, item.done = value, True

    def _one_by_one(self, batch: list[_Pending]) -> None:
        for item in batch:
            try:
                item.value = self._transaction([item.write])[0]
            except Exception as exc:
                item.error = self._error(exc)
            item.done = True

    def _error(self, exc: Exception) -> BaseException:
        """What the caller sees: a database failure wrapped, anything else as it was raised."""
        return self._wrap(exc) if isinstance(exc, sqlite3.Error | OSError) else exc

    def _transaction(self, writes: list[Write]) -> list[Any]:
        db = self._db()
        db.execute("BEGIN")  # a failure here began nothing: nothing to roll back
        try:
            values = [write(db) for write in writes]
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                with suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            raise
        self.commits += 1
        return values
