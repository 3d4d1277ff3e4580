"""The sync as library calls: :func:`run_plan` and :func:`run_apply`.

Each is one pipeline, read top to bottom (as dlt's ``pipeline.run()`` reads extract → normalize →
load), each stage a package with typed inputs and outputs::

    read the sheet → validate      → read the remote → plan       → execute          → report
    sheets           validation.gate  remote           planning     execute (the gate)  run.report

Everything that makes a run a run (signals, the lock, the run record finished on every path) is
:func:`~catalog_sync.run.lifecycle.open_run`'s; every write passes the write gate
(:mod:`catalog_sync.execute.gate`).  The CLI parses options into a request, calls one of these,
and renders what comes back; cron ``run`` jobs and tests call the same functions.

What only a person can do is a hook (:class:`ApplyHooks`): confirm the plan, watch progress,
read the notes.  A hook may refuse by raising; the run record is finished before it propagates.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog_sync.config.credentials import configured_base_url
from catalog_sync.engine.choose import choose_engine
from catalog_sync.errors import ChangesPendingError, ConfigError, OutputRefusedError, RowsFailedError
from catalog_sync.execute.estimate import estimate_writes
from catalog_sync.execute.executor import RunResult, execute
from catalog_sync.planning.make import new_ledger_note, plan_catalog, recheck_plan
from catalog_sync.planning.model import Plan, is_plan_file
from catalog_sync.planning.review_page import write_review_page
from catalog_sync.planning.workbook import save_plan_workbook
from catalog_sync.problems import Problem
from catalog_sync.providers.base import Provider
from catalog_sync.run.ids import check_ids_target, write_ids_copy
from catalog_sync.run.lifecycle import Run, open_run, record_report
from catalog_sync.run.outcome import check_deletes, exit_code_for
from catalog_sync.run.report import REPORT_SHAPE, report_rows, run_summary, write_report
from catalog_sync.run.requests import ApplyHooks, ApplyOutcome, ApplyRequest, PlanOutcome, PlanRequest
from catalog_sync.run.source import Source, check_saved_options, read_source, valid_catalog
from catalog_sync.run.target import Target, check_writable, file_sha256, run_inputs
from catalog_sync.sheets.model import Sheet
from catalog_sync.sheets.options import ReadOptions
from catalog_sync.sheets.write.ids import IdsCopy
from catalog_sync.sheets.write.report import atomic_target, check_new_file, check_output, check_report
from catalog_sync.spec import ProviderSpec
from catalog_sync.state import public_base_url

if TYPE_CHECKING:
    from catalog_sync.engine.plan import DiskCatalog

__all__ = [
    "ApplyHooks",
    "ApplyOutcome",
    "ApplyRequest",
    "PlanOutcome",
    "PlanRequest",
    "Target",
    "check_plan_file",
    "plan_exit_code",
    "run_apply",
    "run_plan",
    "save_plan",
]


# ---------------------------------------------------------------------------------- plan
def run_plan(request: PlanRequest) -> PlanOutcome:
    """Validate, read the remote side, and build the plan (saved to ``request.out`` when given)."""
    target = request.target
    if request.out is not None:
        check_plan_file(request.out, force=request.force)
        check_output(request.out, _inputs(request, request.catalog), what="plan file")
    if request.html is not None:
        check_report(request.html, _inputs(request, request.catalog), REPORT_SHAPE, what="page")
    sheet, spec, warnings = _valid_catalog(request)
    client = target.connect()
    sha256 = file_sha256(request.catalog)
    with open_run(
        target, client, "plan", source=request.catalog, mode=request.mode, catalog_sha256=sha256
    ) as run:
        run.undone = "the plan was not made"
        plan, _current = plan_catalog(
            sheet,
            spec,
            client,
            run.ledger,
            mode=request.mode,
            blanks=request.blanks,
            prefer=request.prefer,
            run_id=run.id,
            catalog=request.catalog,
        )
        plan.read, plan.catalog_sha256 = _read_options(request.read), sha256 or ""
        code = plan_exit_code(plan, detailed=request.detailed_exitcode)
        failed = run.finish(counts={"action": plan.summary}, exit_code=code)
        if failed is not None:
            raise failed
        estimate = estimate_writes(plan, client)
    saved = save_plan(plan, request.out) if request.out is not None else None
    page = write_review_page(request.html, plan) if request.html is not None else None
    return PlanOutcome(plan, code, saved, page, warnings, estimate)


def _valid_catalog(request: PlanRequest) -> tuple[Sheet | DiskCatalog, ProviderSpec, list[Problem]]:
    return valid_catalog(
        request.catalog,
        request.target.provider,
        request.read,
        engine=request.engine,
        ignore_unknown_columns=request.ignore_unknown_columns,
    )


def _read_options(read: ReadOptions) -> dict[str, str]:
    """How the catalog was read, for a saved plan's report (house rules are not needed there)."""
    return {name: str(value) for name, value in read.sheet_kwargs().items() if value is not None}


def plan_exit_code(plan: Plan, *, detailed: bool) -> int:
    """4 when rows are in conflict (they will not go through until resolved: the exit code of an
    apply of them); else, with ``--detailed-exitcode``, 7 when changes are pending; else 0."""
    if plan.summary["conflict"]:
        return RowsFailedError.exit_code
    return ChangesPendingError.exit_code if detailed and plan.pending else 0


#: What ``plan -o`` writes: a JSON plan, or a review workbook (approve / take per change).
PLAN_SUFFIXES = (".json", ".xlsx")


def check_plan_file(out: Path, *, force: bool = False) -> None:
    """OutputRefusedError (exit 2) for a plan file that is neither ``.json`` nor ``.xlsx``, and for
    an existing plan workbook without ``force`` (its reviewer's approvals are edits)."""
    if out.suffix.lower() not in PLAN_SUFFIXES:
        raise OutputRefusedError(
            f"plan -o writes a JSON plan (PLAN.json) or a review workbook (PLAN.xlsx), not {out.name!r}. "
            "Nothing was read or sent."
        )
    if out.suffix.lower() == ".xlsx":
        check_new_file(out, force=force, what="plan workbook")


def save_plan(plan: Plan, out: Path) -> Path:
    """Save the plan atomically (a crash never leaves half a plan file): JSON, or a review workbook."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_target(out) as temp:
            if out.suffix.lower() == ".xlsx":
                save_plan_workbook(plan, temp)
            else:
                plan.save(temp)
    except OSError as exc:
        raise ConfigError(f"cannot write the plan to {out}: {exc.strerror or exc}") from exc
    return out


# ---------------------------------------------------------------------------------- apply
def run_apply(request: ApplyRequest, hooks: ApplyHooks | None = None) -> ApplyOutcome:
    """Plan (or load the saved plan), confirm, carry it out, record it, and write the report.

    Refusals before anything is sent raise (``CatalogSyncError``, with their exit code); a run
    that started returns its outcome, whose ``exit_code``/``error`` say how it ended.
    """
    hooks = hooks or ApplyHooks()
    _check_ids_path(request)
    _check_report_path(request)  # before anything is read or sent
    source = read_source(request)  # the catalog through the validation gate, a saved plan, or a report's rows
    hooks.checked(source.warnings)
    client = _connect(request, source)
    with _open_apply(request, source, client) as run:
        hooks.started(run.id)
        plan, current = _plan(request, source, run)  # what the provider holds, and what to change
        check_deletes(plan, request.max_deletes)
        hooks.estimated(estimate_writes(plan, client))
        hooks.confirm(plan, new_ledger_note(plan, client, run.ledger) is not None)
        hooks.planned(plan)
        run.undone = "writes still in flight are settled by the next run"
        result = _execute(request, run, plan, current, hooks)  # every write through the write gate
        summary, unfinished = _finish(request, run, plan, result)
    table = report_rows(plan, result, source.spec, source.sheet)  # for the report and the outcome: once
    report = write_report(
        _report_path(request, run), plan, result, source.spec, source.sheet, summary=summary, rows=table
    )
    record_report(request.target.state, run.id, report)
    code, error = exit_code_for(result, request.max_failures, report=report, state_error=unfinished)
    rows = table[2]
    ids = _write_ids(request, source, result)
    return ApplyOutcome(plan, result, summary, report, rows, code, error, source.warnings, ids)


def _check_ids_path(request: ApplyRequest) -> None:
    """Refuse a ``--write-ids`` target before anything is read or sent (see :func:`check_ids_target`)."""
    if request.write_ids is not None:
        check_ids_target(
            request.write_ids,
            source=request.source,
            from_report=request.from_report,
            inputs=_inputs(request, request.source, request.from_report),
            report=request.report,
            force=request.force,
        )
        _refuse_ids_on_disk(request)


def _refuse_ids_on_disk(request: ApplyRequest) -> None:
    """``--write-ids`` copies the catalog whole: refused for one the out-of-core engine reads (a
    catalog past memory, or ``--engine disk``), before anything is read or sent."""
    source = request.source
    if not source or request.from_report or is_plan_file(source):
        return
    if choose_engine(source, request.engine) == "disk":
        raise ConfigError(
            "--write-ids copies the whole catalog, which the out-of-core engine (a CSV past memory, or "
            "--engine disk) does not hold: use --engine memory, or match by the keys the catalog has. "
            "Nothing was read or sent."
        )


def _write_ids(request: ApplyRequest, source: Source, result: RunResult) -> IdsCopy | None:
    """The copy of the catalog with the ids of the rows created or matched (``--write-ids``)."""
    if request.write_ids is None or not isinstance(source.sheet, Sheet):
        return None
    return write_ids_copy(request.write_ids, source.sheet, source.spec, request.read, result)


def _connect(request: ApplyRequest, source: Source) -> Provider:
    """The provider's client; a saved plan is applied where it was made (its own base URL unless
    --base-url is given, and only there)."""
    target = request.target
    if source.saved is not None:
        check_saved_options(source.saved, request)
        configured = configured_base_url(target.provider, env=target.env, config_path=target.config_path)
        if target.base_url is None and configured is None and source.saved.base_url:
            target = dataclasses.replace(target, base_url=source.saved.base_url)
    client = target.connect()
    here = public_base_url(client.base_url)
    if source.saved is not None and source.saved.base_url and source.saved.base_url != here:
        raise ConfigError(
            f"the plan was made against {source.saved.base_url}, not {here}; use the same --base-url (or "
            f"{request.target.provider.upper()}_BASE_URL), or plan again"
        )
    return client


def _open_apply(request: ApplyRequest, source: Source, client: Provider) -> AbstractContextManager[Run]:
    return open_run(
        request.target,
        client,
        "apply",
        source=source.catalog,
        mode=source.saved.mode if source.saved else request.mode,
        job=request.job,
        catalog_sha256=_catalog_sha256(source),
    )


def _catalog_sha256(source: Source) -> str | None:
    """The SHA-256 of the catalog the run records by name: a saved plan's catalog as it was when
    planned (the plan file is not the catalog; an older plan without it: none), else the file read."""
    if source.saved is not None:
        return source.saved.catalog_sha256 or None
    return file_sha256(source.catalog)


def _plan(request: ApplyRequest, source: Source, run: Run) -> tuple[Plan, Mapping[str, Any]]:
    """The plan to carry out: a saved one re-checked against the remote side, or a fresh one."""
    if source.saved is not None:
        plan, current = recheck_plan(source.saved, run.client, run.ledger, run_id=run.id)
    else:
        assert source.sheet is not None
        plan, current = plan_catalog(
            source.sheet,
            source.spec,
            run.client,
            run.ledger,
            mode=request.mode,
            blanks=request.blanks,
            prefer=request.prefer,
            run_id=run.id,
            catalog=source.catalog,
            carried=source.carried,
        )
    plan.notes[:0] = source.notes
    return plan, current


def _execute(
    request: ApplyRequest, run: Run, plan: Plan, current: Mapping[str, Any], hooks: ApplyHooks
) -> RunResult:
    with hooks.progress(len(plan.writes)) as advance:
        result = execute(
            plan,
            run.client,
            run.ledger,
            run_id=run.id,
            concurrency=run.client.concurrency,
            max_failures=request.max_failures,
            on_progress=advance,
            current=current,
        )
    result.requests = run.client.stats.requests  # the whole run: reading the remote side too
    return result


def _finish(request: ApplyRequest, run: Run, plan: Plan, result: RunResult) -> tuple[dict[str, Any], Any]:
    """The run's summary, and the state error when its record could not be closed (None when it was)."""
    code, _error = exit_code_for(result, request.max_failures)
    summary = run_summary(result, plan, started=run.started_at)
    unfinished = run.finish(
        counts={k: summary[k] for k in ("action", "status")},
        exit_code=code,
        stopped="interrupted" if result.stopped == "interrupted" else None,
    )
    return summary, unfinished


def _report_path(request: ApplyRequest, run: Run) -> Path:
    return request.report or request.target.report_folder() / f"run-{run.id}-{request.target.provider}.csv"


def _inputs(
    request: PlanRequest | ApplyRequest, source: str | None, from_report: str | None = None
) -> list[Any]:
    """Every file the run reads (a report or plan file may be none of them)."""
    return run_inputs(
        source=source,
        from_report=from_report,
        mapping=request.read.mapping,
        schemas=request.read.house_rules,
        state=request.target.state,
    )


def _check_report_path(request: ApplyRequest) -> None:
    """Refuse a report path that could not be written, that is an input of the run, or that is an
    existing file other than a report catalog-sync wrote (nothing read or sent)."""
    if request.report is not None:
        check_report(request.report, _inputs(request, request.source, request.from_report), REPORT_SHAPE)
    check_writable(request.report or request.target.report_folder() / "run.csv")
