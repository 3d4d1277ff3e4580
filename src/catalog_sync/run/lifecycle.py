"""The one run lifecycle: every run (plan, apply, pull, videos, a cron job's apply) is opened here.

    with open_run(target, client, "apply", source=catalog, mode="upsert") as run:
        ...                                   # under the state lock, with a run record
        run.undone = "writes still in flight are settled by the next run"
        ...
        problem = run.finish(counts=..., exit_code=0)

``open_run`` owns, for the whole run:

* **signals** — SIGTERM (cron, systemd, ``timeout``) stops the run like Ctrl+C does;
* **the lock** — one run per state database (``LockHeldError``, exit 5, names the holder);
* **the run record** — started at once, and finished on every path: a refusal records its exit
  code, Ctrl+C and SIGTERM record the run as interrupted (130 / 143) and say what is left undone
  (``run.undone``), a normal end records its counts (:meth:`Run.finish`);
* **the report's path** — noted on the record after the lock is released (:func:`record_report`).

Signals and errors leave as one tree (:mod:`catalog_sync.errors`): a SIGTERM becomes
:class:`~catalog_sync.errors.RunTerminatedError` (exit 143); Ctrl+C goes on as KeyboardInterrupt
(the CLI exits 130), since a person pressed it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog_sync.errors import (
    INTERRUPTED,
    TERMINATED,
    CatalogSyncError,
    StateDatabaseError,
    Terminated,
    interrupted_error,
    signal_of,
)
from catalog_sync.providers.base import Provider
from catalog_sync.run.target import Target
from catalog_sync.state import Ledger

__all__ = ["Run", "open_run", "record_refused", "record_report", "sigterm_stops_the_run"]


@dataclass
class Run:
    """A run in progress: its ledger (locked), its record's id, and the client it sends through."""

    ledger: Ledger
    id: int
    client: Provider
    #: what a stop at this point leaves undone, said when SIGTERM ends the run
    undone: str = "nothing was sent"
    finished: bool = False

    def finish(
        self, *, counts: dict[str, Any], exit_code: int, stopped: str | None = None
    ) -> StateDatabaseError | None:
        """Close the run record (once): the state error when it cannot be written (never raised)."""
        self.finished = True
        try:
            self.ledger.finish_run(
                self.id,
                counts=counts,
                requests=self.client.stats.requests,
                exit_code=exit_code,
                stopped=stopped,
                account=self.client.account_in_use(),
            )
        except StateDatabaseError as exc:
            return exc
        return None

    @property
    def started_at(self) -> str | None:
        return (self.ledger.run(self.id) or {}).get("started_at")


@contextmanager
def open_run(
    target: Target,
    client: Provider,
    kind: str,
    *,
    source: str | None = None,
    mode: str | None = None,
    job: str | None = None,
    catalog_sha256: str | None = None,
) -> Iterator[Run]:
    """Open a run of ``kind`` on ``target``'s state database: see the module's docstring."""
    with (
        sigterm_stops_the_run(),
        Ledger(target.state) as ledger,
        ledger.locked(f"run {job}" if job else kind),
    ):
        run_id = ledger.start_run(
            kind, target.provider, client.base_url, source, mode, job=job, catalog_sha256=catalog_sha256
        )
        run = Run(ledger, run_id, client)
        try:
            yield run
        except (
            KeyboardInterrupt
        ) as exc:  # Ctrl+C, or SIGTERM (Terminated) outside the executor's own handling
            if not run.finished:
                run.finish(
                    counts={},
                    exit_code=TERMINATED if isinstance(exc, Terminated) else INTERRUPTED,
                    stopped="interrupted",
                )
            if signal_of(exc) == "SIGTERM":
                raise interrupted_error(
                    "SIGTERM", f"{run.undone}; run again to finish (nothing is created twice)"
                ) from None
            raise
        except BaseException as exc:  # refused: a CatalogSyncError (its exit code), a prompt's Abort (1)
            if not run.finished:
                run.finish(counts={}, exit_code=exc.exit_code if isinstance(exc, CatalogSyncError) else 1)
            raise


def record_report(state: Path, run_id: int, report: Path) -> None:
    """Note the report's path on a finished run's record (a failure here changes nothing)."""
    try:
        with Ledger(state) as ledger:
            ledger.set_run_report(run_id, str(report))
    except CatalogSyncError:
        pass


def record_refused(
    target: Target,
    kind: str,
    *,
    source: str | None,
    mode: str | None,
    exit_code: int,
    job: str | None = None,
    catalog_sha256: str | None = None,
) -> int | None:
    """A finished run record for a run refused before it could open (a cron job's invalid catalog
    or missing credentials), so ``runs`` shows it: its id, or None when it cannot be written."""
    try:
        with Ledger(target.state) as ledger:
            return ledger.record_refused_run(
                kind,
                target.provider,
                target.base_url,
                source,
                mode,
                exit_code=exit_code,
                job=job,
                catalog_sha256=catalog_sha256,
            )
    except CatalogSyncError:
        return None


@contextmanager
def sigterm_stops_the_run() -> Iterator[None]:
    """While inside: SIGTERM raises :class:`Terminated` (a KeyboardInterrupt) in the main thread.

    Outside the main thread (signals cannot be handled there) it does nothing.  The previous
    handler is restored on the way out.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise Terminated("SIGTERM")

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
