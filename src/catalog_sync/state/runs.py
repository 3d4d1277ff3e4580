"""Runs, their row outcomes, and what each cron job last ended as."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from catalog_sync.config.credentials import public_base_url
from catalog_sync.state.database import Database
from catalog_sync.state.lock import host_name
from catalog_sync.state.model import _now

#: the order counts are shown in
ACTION_ORDER = ("create", "update", "delete", "conflict", "protected", "skip", "unchanged")
STATUS_ORDER = ("ok", "failed", "skipped", "conflict", "unknown")


class RunStore(Database):
    """The ``runs``, ``outcomes`` and ``job_outcomes`` tables."""

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
        account: str | None = None,
    ) -> None:
        """Close the run record; ``stopped="interrupted"`` for a run stopped by Ctrl+C or SIGTERM;
        ``account``: whose records it read and wrote (None: it never came to the ledger's records)."""
        self._write(
            "UPDATE runs SET finished_at=?, counts=?, requests=?, exit_code=?, stopped=?,"
            " account=COALESCE(?, account) WHERE id=?",
            (_now(), json.dumps(counts, sort_keys=True), requests, exit_code, stopped, account, run_id),
        )

    def runs(self, *, limit: int = 20, provider: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM runs" + (" WHERE provider=?" if provider else "") + " ORDER BY id DESC LIMIT ?"
        params: tuple[Any, ...] = (provider, limit) if provider else (limit,)
        return [self._run_dict(r) for r in self._read(sql, params)]

    def run(self, run_id: int) -> dict[str, Any] | None:
        rows = self._read("SELECT * FROM runs WHERE id=?", (run_id,))
        return self._run_dict(rows[0]) if rows else None

    def _run_dict(self, row: sqlite3.Row) -> dict[str, Any]:
        """A run as a dict.  A run that never closed its record (killed with -9, or still going)
        counts the outcomes it recorded, and the writes it sent stand in for its requests
        (``requests_counted`` False)."""
        data = dict(row)
        try:
            data["counts"] = json.loads(data["counts"]) if data.get("counts") else {}
        except ValueError:  # hand-edited: show nothing rather than fail
            data["counts"] = {}
        data["requests_counted"] = data.get("requests") is not None
        if data.get("finished_at") is None:
            data["counts"] = self.outcome_counts(int(data["id"]))
            data["requests"] = self._writes_sent(int(data["id"]))
            data["alive"] = self._alive(data.get("pid"))
            data["account"] = data.get("account") or self._account_written(int(data["id"]))
        return data

    def _account_written(self, run_id: int) -> str | None:
        """The account of the writes a run that never closed its record sent (None: it sent none)."""
        rows = self._read("SELECT account FROM intents WHERE run_id=? LIMIT 1", (run_id,))
        return str(rows[0]["account"]) if rows else None

    def outcome_counts(self, run_id: int) -> dict[str, dict[str, int]]:
        """``{"action": {...}, "status": {...}}`` of the outcomes recorded for ``run_id``."""
        counts: dict[str, dict[str, int]] = {"action": {}, "status": {}}
        for group in counts:
            for row in self._read(
                f"SELECT {group} AS name, COUNT(*) AS n FROM outcomes WHERE run_id=? GROUP BY {group}",
                (run_id,),
            ):
                counts[group][str(row["name"])] = int(row["n"])
        return counts

    def _writes_sent(self, run_id: int) -> int:
        return int(self._read("SELECT COUNT(*) AS n FROM intents WHERE run_id=?", (run_id,))[0]["n"])

    def _alive(self, pid: Any) -> bool:
        """True while the unfinished run's process holds this database's lock (a run killed with -9
        leaves its name in ``lock_holder`` but its process is gone)."""
        rows = self._read("SELECT pid, host FROM lock_holder WHERE id=1")
        if not rows or rows[0]["pid"] != pid:
            return False
        if rows[0]["host"] != host_name():
            return True  # another host's process cannot be asked: trust its lock
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except (OSError, ValueError):
            return True
        return True

    # -- outcomes ----------------------------------------------------------------------
    _OUTCOME_SQL = (
        "INSERT INTO outcomes (run_id, row, key, action, status, remote_id, changed, error_code, error, at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?)"
    )

    def record_outcomes(self, run_id: int, outcomes: list[dict[str, Any]]) -> None:
        """Write row outcomes (dicts with row, key, action, status, remote_id, changed, error_code, error)."""
        self._group.run(self._outcome_statement(run_id, outcomes))

    def _outcome_statement(
        self, run_id: int, outcomes: list[dict[str, Any]]
    ) -> Callable[[sqlite3.Connection], Any]:
        """The insert of ``outcomes``, to run inside a group commit."""
        at = _now()
        rows = [
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
        ]
        return lambda db: db.executemany(self._OUTCOME_SQL, rows)

    def outcomes(
        self, run_id: int, *, statuses: Sequence[str] = (), actions: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """The row outcomes of ``run_id`` in row order; only those with one of ``statuses`` /
        ``actions`` when given."""
        where, params = "run_id=?", [str(run_id)]
        for column, wanted in (("status", statuses), ("action", actions)):
            if wanted:
                where += f" AND {column} IN ({','.join('?' * len(wanted))})"
                params += list(wanted)
        rows = self._read(
            "SELECT row, key, action, status, remote_id, changed, error_code, error, at FROM outcomes"
            f" WHERE {where} ORDER BY row IS NULL, row, rowid",
            tuple(params),
        )
        return [dict(r) for r in rows]

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
