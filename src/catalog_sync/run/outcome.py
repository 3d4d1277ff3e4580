"""How a run ends: the limits that stop it before anything is sent, and the exit code of a
finished apply with the error that says why (:func:`exit_code_for`)."""

from __future__ import annotations

from pathlib import Path

from catalog_sync.errors import (
    LimitExceededError,
    RowsFailedError,
    StateDatabaseError,
    StateStoppedRunError,
    interrupted_error,
)
from catalog_sync.execute.executor import RunResult
from catalog_sync.planning.model import Plan

__all__ = ["check_deletes", "exit_code_for"]


def check_deletes(plan: Plan, max_deletes: int) -> None:
    """LimitExceededError (exit 6) when the plan deletes more than ``max_deletes`` records."""
    deletes = plan.summary["delete"]
    if deletes > max_deletes:
        raise LimitExceededError(
            f"the plan deletes {deletes} remote record(s) but --max-deletes is {max_deletes}; nothing was sent. "
            f"Check the plan, then pass --max-deletes {deletes} to allow it."
        )


def _state_error(error: StateDatabaseError, report: str | Path | None) -> StateStoppedRunError:
    where = (
        f"the report {report} holds every outcome" if report else "the outcomes above are all that is known"
    )
    return StateStoppedRunError(
        f"{error.message}; the run stopped sending (the writes already sent were waited for) and {where}; "
        "free the database (another process may hold a write transaction on it, or the disk is full) and "
        "run again to settle (nothing is created twice)"
    )


def exit_code_for(
    result: RunResult,
    max_failures: int | None,
    *,
    report: str | Path | None = None,
    state_error: StateDatabaseError | None = None,
) -> tuple[int, Exception | None]:
    """The process exit code of a finished run and the error to raise for it (None for 0).

    ``state_error``: a ledger write that failed after the run (finishing its record); a run
    whose ledger could not be written exits 1 naming the cause and the ``report``.
    """
    failed = result.state_error or state_error
    if failed is not None:
        return StateStoppedRunError.exit_code, _state_error(failed, report)
    if result.stopped == "interrupted":
        error = interrupted_error(
            result.signal,
            "the writes already sent were recorded, the rest not attempted; run again to finish "
            "(nothing is created twice)",
        )
        return error.exit_code, error
    if result.fatal is not None:
        return result.fatal.exit_code, result.fatal
    if result.stopped == "max-failures":
        return LimitExceededError.exit_code, LimitExceededError(
            f"--max-failures {max_failures} reached: the run stopped; the rest were not attempted (see the report)"
        )
    if result.problems:
        counts = result.counts()["status"]
        return RowsFailedError.exit_code, RowsFailedError(
            f"{counts['failed']} failed, {counts['unknown']} unknown, {counts['conflict']} in conflict; "
            "the report names each (retry with --only failed --from REPORT)"
        )
    return 0, None
