"""The sync loop as library calls the CLI (and cron jobs) share.

sheet, spec = load_valid_catalog(path, "royalti", ...)        # InvalidCatalogError (exit 3)
provider = connect("royalti", base_url=..., rate=..., concurrency=...)
with Ledger(state) as ledger, ledger.locked("apply"):
    run_id = ledger.start_run(...)
    plan, current = plan_catalog(sheet, spec, provider, ledger, mode=..., blanks=..., run_id=run_id)
    result = execute(plan, provider, ledger, run_id=run_id, current=current, ...)
    code = exit_code_for(result)
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from catalog_sync.apply.executor import RunResult
from catalog_sync.apply.settle import read_remote, settle_open_intents
from catalog_sync.errors import CatalogSyncError, InvalidCatalogError, LimitExceededError, RowsFailedError
from catalog_sync.plan.diff import build_plan
from catalog_sync.plan.model import Plan
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import ProviderSpec
from catalog_sync.state import Ledger, public_base_url
from catalog_sync.validation import ValidationReport, validate_catalog, validate_sheet

__all__ = [
    "check_deletes",
    "connect",
    "exit_code_for",
    "invalid_message",
    "load_valid_catalog",
    "plan_catalog",
    "problems_as_json",
    "validate_loaded",
]


def invalid_message(report: ValidationReport, where: str) -> str:
    first = report.errors[0]
    place = first.cell or (f"row {first.row}" if first.row else first.sheet or "")
    return (
        f"{where} is invalid: {report.summary()} (first: {place} {first.code}: {first.message}); "
        "run `catalog-sync validate` for the full list. Nothing was read or sent."
    )


@contextmanager
def problems_as_json(enabled: bool) -> Iterator[None]:
    """With ``--json``: an invalid catalog also prints the ``validate --json`` shape on stdout."""
    try:
        yield
    except InvalidCatalogError as exc:
        report = exc.context.get("report")
        if enabled and isinstance(report, ValidationReport):
            print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        raise


def load_valid_catalog(
    path: str | Path,
    provider: str,
    *,
    sheet: str | None = None,
    mapping: str | None = None,
    house_rules: Sequence[str] = (),
    encoding: str | None = None,
    delimiter: str | None = None,
) -> tuple[Sheet, ProviderSpec, ValidationReport]:
    """Load and validate a catalog; raise InvalidCatalogError (exit 3) when it has errors."""
    loaded, spec, report = validate_catalog(
        path,
        provider,
        sheet=sheet,
        mapping=mapping,
        house_rules=house_rules,
        encoding=encoding,
        delimiter=delimiter,
    )
    if not report.valid:
        raise InvalidCatalogError(invalid_message(report, loaded.display_name), report=report)
    return loaded, spec, report


def validate_loaded(sheet: Sheet, spec: ProviderSpec) -> ValidationReport:
    """Validate an already loaded sheet (rows read back from a report)."""
    report = validate_sheet(sheet, spec)
    if not report.valid:
        raise InvalidCatalogError(invalid_message(report, sheet.display_name), report=report)
    return report


def connect(
    provider: str,
    *,
    base_url: str | None = None,
    rate: float | None = None,
    concurrency: int | None = None,
    timeout: float = 30.0,
) -> Any:
    """The provider client, with credentials from the environment (ConfigError when missing)."""
    from catalog_sync.providers import get_provider

    return get_provider(provider).from_env(
        base_url=base_url, rate=rate, concurrency=concurrency, timeout=timeout
    )


def plan_catalog(
    sheet: Sheet,
    spec: ProviderSpec,
    provider: Any,
    ledger: Ledger,
    *,
    mode: str,
    blanks: str,
    run_id: int,
    catalog: str | None = None,
) -> tuple[Plan, dict[str, Any]]:
    """Settle what dead runs left in flight, read the remote side, and build the plan.

    Returns the plan and remote id → current remote record (for full-replace updates).
    The caller must hold the ledger's lock.
    """
    notes = settle_open_intents(provider, ledger, run_id=run_id)
    records, view = read_remote(provider, ledger)
    plan = build_plan(
        sheet, spec, records, view, mode, blanks, base_url=public_base_url(provider.base_url), catalog=catalog
    )
    plan.notes[:0] = notes
    return plan, {str(r.remote_id): r for r in records}


def check_deletes(plan: Plan, max_deletes: int) -> None:
    """LimitExceededError (exit 6) when the plan deletes more than ``max_deletes`` records."""
    deletes = plan.summary["delete"]
    if deletes > max_deletes:
        raise LimitExceededError(
            f"the plan deletes {deletes} remote record(s) but --max-deletes is {max_deletes}; nothing was sent. "
            f"Check the plan, then pass --max-deletes {deletes} to allow it."
        )


#: Exit status of a run stopped by Ctrl+C (128 + SIGINT, what shells and cron expect).
INTERRUPTED = 130


class RunInterruptedError(CatalogSyncError):
    """A run stopped by Ctrl+C after recording what it had sent (exit 130)."""

    exit_code = INTERRUPTED


def exit_code_for(result: RunResult, max_failures: int | None) -> tuple[int, Exception | None]:
    """The process exit code of a finished run and the error to raise for it (None for 0)."""
    if result.stopped == "interrupted":
        return INTERRUPTED, RunInterruptedError(
            "interrupted (Ctrl+C): the writes already sent were recorded, the rest not attempted; "
            "run again to finish (nothing is created twice)"
        )
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
