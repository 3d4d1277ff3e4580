"""Ledger group commits: concurrent outcomes share a commit, each caller returns once it is on disk."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from catalog_sync.errors import StateDatabaseError
from catalog_sync.state import Ledger, LedgerScope
from catalog_sync.state.group_commit import GroupCommit

_SCOPE = LedgerScope.of("royalti", "http://127.0.0.1:1", "key:0123456789abcdef")


def _queued(group: GroupCommit, n: int) -> None:
    """Block until ``n`` writes wait behind the running commit (woken by the group's condition)."""
    with group._cond:
        group._cond.wait_for(lambda: len(group._queue) >= n, timeout=30)


def _intents(ledger: Ledger, n: int) -> list[int]:
    run = ledger.start_run("apply", "royalti", "http://127.0.0.1:1", "c.csv", "upsert")
    return [
        ledger.begin_intent(
            run,
            _SCOPE,
            row=i,
            key=f"k={i}",
            action="update",
            remote_id=str(i),
            fields={"title": "t"},
        )
        for i in range(n)
    ]


def test_outcomes_finished_together_share_one_commit_and_are_on_disk_when_the_call_returns(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    with Ledger(path) as ledger:
        ids = _intents(ledger, 8)
        before = ledger._group.commits
        returned: list[int] = []
        seen_on_disk: list[str] = []

        def settle(intent: int) -> None:
            ledger.end_intent(intent, "done")
            with sqlite3.connect(path) as other:  # what another process would read now
                (state,) = other.execute("SELECT state FROM intents WHERE id=?", (intent,)).fetchone()
            seen_on_disk.append(state)
            returned.append(intent)

        with ledger._mutex:  # a commit in progress: the first caller leads and waits for it
            threads = [threading.Thread(target=settle, args=(i,)) for i in ids]
            for t in threads:
                t.start()
            _queued(ledger._group, 7)  # the leader took its own; seven queue behind it
            assert returned == []  # nobody returns before its commit
        for t in threads:
            t.join()
        assert sorted(returned) == sorted(ids)
        assert seen_on_disk == ["done"] * 8
        assert ledger._group.commits - before == 2  # the leader's own, then the seven together


def test_a_lone_write_commits_at_once(tmp_path: Path) -> None:
    with Ledger(tmp_path / "state.db") as ledger:
        (intent,) = _intents(ledger, 1)
        before = ledger._group.commits
        ledger.end_intent(intent, "failed")
        assert ledger._group.commits == before + 1
        record = ledger.remember(_SCOPE, "r1", {"title": "a"})
        assert record.fields == {"title": "a"}
        assert ledger.records(_SCOPE)[0].fields == {"title": "a"}


def test_a_batch_with_a_failing_write_fails_only_that_write(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "g.db", isolation_level=None, check_same_thread=False)
    db.execute("CREATE TABLE t (v INTEGER PRIMARY KEY)")
    mutex = threading.Lock()
    group = GroupCommit(lambda: db, mutex, lambda exc: StateDatabaseError("g.db", exc))
    results: dict[int, Any] = {}

    def put(v: int) -> None:
        try:
            results[v] = group.run(
                lambda c: c.execute("INSERT INTO t VALUES (?)", (v if v != 3 else 1,)).rowcount
            )
        except StateDatabaseError as exc:
            results[v] = exc

    group.run(lambda c: c.execute("INSERT INTO t VALUES (1)"))
    with mutex:
        threads = [threading.Thread(target=put, args=(v,)) for v in (2, 3, 4, 5)]
        for t in threads:
            t.start()
        _queued(group, 3)
    for t in threads:
        t.join()
    assert isinstance(results.pop(3), StateDatabaseError)  # 3 inserts a duplicate
    assert results == {2: 1, 4: 1, 5: 1}
    assert sorted(v for (v,) in db.execute("SELECT v FROM t")) == [1, 2, 4, 5]
    with pytest.raises(StateDatabaseError):
        group.run(lambda c: c.execute("INSERT INTO t VALUES (1)"))
