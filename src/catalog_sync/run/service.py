"""The sync loop as library calls the CLI (and cron jobs) share.

sheet, spec = load_valid_catalog(path, "royalti", ...)        # InvalidCatalogError (exit 3)
provider = connect("royalti", base_url=..., rate=..., concurrency=...)
check_output(report, inputs=[catalog, state, ...])                # refused report paths (exit 1)
with sigterm_stops_the_run(), Ledger(state) as ledger, ledger.locked("apply"):
    run_id = ledger.start_run(...)
    plan, current = plan_catalog(sheet, spec, provider, ledger, mode=..., blanks=..., run_id=run_id)
    result = execute(plan, provider, ledger, run_id=run_id, current=current, ...)
    problem = finish_run(ledger, result, ...)                      # never raises StateDatabaseError
code, error = exit_code_for(result, max_failures, report=...)
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from catalog_sync.errors import (
    CatalogSyncError,
    InvalidCatalogError,
    LimitExceededError,
    RowsFailedError,
    StateDatabaseError,
    Terminated,
)
from catalog_sync.execute.executor import RunResult
from catalog_sync.plan.bulk import collector_paused
from catalog_sync.plan.diff import build_plan, canonical_sheet
from catalog_sync.plan.merge_base import BASE_SHEET, read_base, usable_base
from catalog_sync.plan.model import Plan, is_plan_file
from catalog_sync.providers.records import records_by_id
from catalog_sync.remote.read import read_remote
from catalog_sync.remote.settle import settle_open_intents
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import ProviderSpec
from catalog_sync.state import Ledger, public_base_url
from catalog_sync.validation import ValidationReport, validate_catalog, validate_sheet

__all__ = [
    "INTERRUPTED",
    "TERMINATED",
    "check_deletes",
    "connect",
    "exit_code_for",
    "finish_run",
    "interrupted_error",
    "invalid_message",
    "load_valid_catalog",
    "new_ledger_note",
    "plan_catalog",
    "problems_as_json",
    "run_inputs",
    "signal_of",
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
    ignore_unknown_columns: bool = False,
) -> tuple[Sheet, ProviderSpec, ValidationReport]:
    """Load and validate a catalog; raise InvalidCatalogError (exit 3) when it has errors.

    A header one or two edits from a field name (``relaseDate``) is a warning in ``validate`` but an
    error here, before anything is sent: the column would be dropped and matching could fall back
    to another key.  ``ignore_unknown_columns`` keeps it a warning."""
    loaded, spec, report = validate_catalog(
        path,
        provider,
        sheet=sheet,
        mapping=mapping,
        house_rules=house_rules,
        encoding=encoding,
        delimiter=delimiter,
    )
    if not ignore_unknown_columns:
        report = typos_as_errors(report)
    if not report.valid:
        raise InvalidCatalogError(invalid_message(report, loaded.display_name), report=report)
    return loaded, spec, report


def typos_as_errors(report: ValidationReport) -> ValidationReport:
    """The report with each header that is a near miss of a field name turned into an error."""
    typos = [p for p in report.problems if p.code == "unknown-column" and p.extra.get("near")]
    if not typos:
        return report
    problems = [
        replace(
            p,
            severity="error",
            message=f"{p.message}; plan and apply refuse a misspelt header (the column would be dropped): "
            "rename it, map it with --mapping, or pass --ignore-unknown-columns",
        )
        for p in typos
    ]
    others = [p for p in report.problems if p not in typos]
    # first: a misspelt header explains the errors it causes (a required column "missing")
    return ValidationReport(problems + others, sheet=report.sheet, path=report.path)


def validate_loaded(
    sheet: Sheet, spec: ProviderSpec, *, ignore_unknown_columns: bool = True
) -> ValidationReport:
    """Validate an already loaded sheet (rows read back from a report, or a catalog's rows to retry)."""
    report = validate_sheet(sheet, spec)
    if not ignore_unknown_columns:
        report = typos_as_errors(report)
    if not report.valid:
        raise InvalidCatalogError(invalid_message(report, sheet.display_name), report=report)
    return report


def connect(
    provider: str,
    *,
    base_url: str | None = None,
    rate: float | None = None,
    concurrency: int | None = None,
    timeout: float | None = None,
    limits: Any = None,
    env: Mapping[str, str] | None = None,
    config_path: str | Path | None = None,
) -> Any:
    """The provider client, with credentials from ``env`` (default: the process environment) or the
    config file (ConfigError when missing).  ``limits`` (``providers.base.ClientLimits``) bounds
    what the provider may answer."""
    from catalog_sync.config.defaults import DEFAULT_TIMEOUT
    from catalog_sync.providers import get_provider
    from catalog_sync.providers.base import ClientLimits

    klass = get_provider(provider)
    return klass.from_env(
        base_url=base_url,
        rate=rate,
        concurrency=concurrency,
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        env=None if env is None else dict(env),
        config_path=None if config_path is None else str(config_path),
        **(limits or ClientLimits()).as_kwargs(klass),
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
) -> tuple[Plan, Mapping[str, Any]]:
    """Check the credentials, settle what dead runs left in flight, read the remote side, and
    build the plan.

    Returns the plan and remote id → current remote record (for full-replace updates).
    The caller must hold the ledger's lock.  Refused credentials or an unreachable provider
    raise :class:`FatalProviderError` (exit 1) before anything is planned.
    """
    provider.check_access()
    notes = settle_open_intents(provider, ledger, run_id=run_id)
    base, base_note = usable_base(*read_base(sheet.path, spec), provider.base_url)
    with (
        collector_paused(),
        ThreadPoolExecutor(1) as pool,
    ):  # a million records and rows, none of them garbage
        # the sheet side of the diff is made while the listing is read (its Arrow kernels leave
        # the interpreter to the listing's threads): a second of a million-row plan
        canonical = pool.submit(canonical_sheet, sheet, spec)
        records, view = read_remote(provider, ledger)
        plan = build_plan(
            sheet,
            spec,
            records,
            view,
            mode,
            blanks,
            base_url=public_base_url(provider.base_url),
            catalog=catalog,
            base=base,
            canonical=canonical.result(),
        )
    if base is not None:
        notes.append(
            f"merged three ways with what was pulled at {base.pulled_at} (the sheet's {BASE_SHEET} sheet)"
        )
    elif base_note:
        notes.append(base_note)
    plan.notes[:0] = notes
    note = new_ledger_note(plan, provider, ledger)
    if note:
        plan.notes.insert(0, note)
    return plan, records_by_id(records)


def new_ledger_note(plan: Plan, provider: Any, ledger: Ledger) -> str | None:
    """For a provider that cannot be listed (JoggAI): warn when the ledger knows none of its products.

    The ledger is then the only memory of earlier creates; a new (or another) state database
    would create every row again.  None when nothing is created or the ledger knows this provider.
    """
    if provider.can_list or not plan.summary.get("create"):
        return None
    if not ledger.knows_nothing_of(provider.name, provider.base_url):
        return None
    title = provider.title or provider.name
    state = "is new: it holds" if ledger.created else "holds"
    return (
        f"this state database {state} no record of {title} products created earlier at "
        f"{public_base_url(provider.base_url)}; if this catalog was applied before with another state database, "
        f"its rows would be created again — use that --state, or fill {provider.spec.remote_id}"
    )


def run_inputs(
    *,
    source: str | Path | None = None,
    from_report: str | Path | None = None,
    mapping: str | Path | None = None,
    schemas: Sequence[str | Path] = (),
    state: str | Path | None = None,
) -> list[tuple[str, str | Path | None]]:
    """(what, path) of every file a run reads: what ``report.check_output`` keeps a report off."""
    inputs: list[tuple[str, str | Path | None]] = []
    if source:
        inputs.append(("plan" if is_plan_file(source) else "catalog", source))
    inputs += [("report read back (--from)", from_report), ("--mapping file", mapping)]
    inputs += [("--schema file", schema) for schema in schemas]
    if state:
        inputs += [("state database", state)]
        inputs += [("state database", f"{state}{suffix}") for suffix in ("-wal", "-shm", "-journal")]
    return inputs


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
#: Exit status of a run stopped by SIGTERM (128 + 15: cron, systemd, ``timeout``).
TERMINATED = 143


class RunInterruptedError(CatalogSyncError):
    """A run stopped by Ctrl+C after recording what it had sent (exit 130)."""

    exit_code = INTERRUPTED


class RunTerminatedError(RunInterruptedError):
    """A run stopped by SIGTERM after recording what it had sent (exit 143)."""

    exit_code = TERMINATED


class StateStoppedRunError(CatalogSyncError):
    """The state database could not be written mid-run; the report holds every outcome (exit 1)."""


def interrupted_error(signal_name: str, detail: str) -> RunInterruptedError:
    """The error (exit 130 for Ctrl+C, 143 for SIGTERM) of a run stopped by a signal."""
    if signal_name == "SIGTERM":
        return RunTerminatedError(f"stopped by SIGTERM: {detail}")
    return RunInterruptedError(f"interrupted (Ctrl+C): {detail}")


def signal_of(exc: KeyboardInterrupt) -> str:
    return "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"


def finish_run(
    ledger: Ledger, run_id: int, *, counts: dict[str, Any], requests: int, exit_code: int, stopped: str | None
) -> StateDatabaseError | None:
    """Try to close the run record; the state error when it cannot be written (never raised)."""
    try:
        ledger.finish_run(run_id, counts=counts, requests=requests, exit_code=exit_code, stopped=stopped)
    except StateDatabaseError as exc:
        return exc
    return None


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
