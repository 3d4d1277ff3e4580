"""Runs, their row outcomes, and what each cron job last ended as."""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

from catalog_sync.config.credentials import public_base_url
from catalog_sync.state.database import Database
from catalog_sync.state.model import _now


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
