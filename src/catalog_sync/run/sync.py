"""The sync job as library calls: :func:`run_plan` and :func:`run_apply`.

The CLI parses options into a request, calls one of these, and renders what comes back; cron
``run`` jobs and tests call the same functions.  Everything that makes a run a run lives here:
the lock and the run record (started, and finished whatever happens: refused, limit, Ctrl+C,
SIGTERM), the saved-plan checks, the report-path policy, writing the report, and the exit code
(carried by the outcome, with the error to show for it).

What only a person can do is a hook (:class:`ApplyHooks`): confirm the plan, watch progress,
read the notes.  A hook may refuse by raising; the run record is finished before it propagates.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from catalog_sync.errors import CatalogSyncError, ChangesPendingError, ConfigError, InvalidCatalogError
from catalog_sync.execute.executor import RowOutcome, RunResult, execute, sigterm_stops_the_run
from catalog_sync.plan.model import Plan, is_plan_file
from catalog_sync.problems import Problem
from catalog_sync.providers.base import ClientLimits
from catalog_sync.remote.settle import recheck_saved_plan, settle_open_intents
from catalog_sync.run.report import catalog_from_report, report_rows, run_summary, write_report
from catalog_sync.run.service import (
    INTERRUPTED,
    TERMINATED,
    check_deletes,
    connect,
    exit_code_for,
    finish_run,
    interrupted_error,
    load_valid_catalog,
    new_ledger_note,
    plan_catalog,
    run_inputs,
    signal_of,
    validate_loaded,
)
from catalog_sync.sheets.model import Sheet
from catalog_sync.sheets.write.report import atomic_target, check_output
from catalog_sync.spec import ProviderSpec, load_spec
from catalog_sync.state import DEFAULT_STATE, Ledger, public_base_url

__all__ = [
    "ApplyHooks",
    "ApplyOutcome",
    "ApplyRequest",
    "PlanOutcome",
    "PlanRequest",
    "Target",
    "check_writable",
    "file_sha256",
    "run_apply",
    "run_plan",
]


@dataclass(frozen=True)
class Target:
    """Which provider, where, how fast, and which state database."""

    provider: str
    base_url: str | None = None
    state: Path = DEFAULT_STATE
    rate: float | None = None
    concurrency: int | None = None
    timeout: float | None = None
    limits: ClientLimits = field(default_factory=ClientLimits)
    #: the variables credentials and base URLs are read from (None: the process environment)
    env: Mapping[str, str] | None = field(default=None, repr=False)
    #: the config file whose ``[providers.<name>]`` is read (None: ./catalog-sync.toml)
    config_path: Path | None = None

    def connect(self) -> Any:
        return connect(
            self.provider,
            base_url=self.base_url,
            rate=self.rate,
            concurrency=self.concurrency,
            timeout=self.timeout,
            limits=self.limits,
            env=self.env,
            config_path=self.config_path,
        )


def file_sha256(path: str | Path | None) -> str | None:
    """The SHA-256 of the file at ``path`` (None when there is none to read)."""
    if not path:
        return None
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


@dataclass(frozen=True)
class PlanRequest:
    target: Target
    catalog: str
    read: dict[str, Any] = field(default_factory=dict)  # load_valid_catalog's sheet/mapping/… options
    mode: str = "upsert"
    blanks: str = "keep"
    out: Path | None = None  # save the plan here
    detailed_exitcode: bool = False
    ignore_unknown_columns: bool = False  # a misspelt header stays a warning (else: an error, exit 3)


@dataclass
class PlanOutcome:
    plan: Plan
    exit_code: int
    saved: Path | None = None
    warnings: list[Problem] = field(default_factory=list)  # the catalog's validation warnings


@dataclass(frozen=True)
class ApplyRequest:
    target: Target
    source: str | None = None  # a catalog or a saved PLAN.json
    read: dict[str, Any] = field(default_factory=dict)
    mode: str = "upsert"
    blanks: str = "keep"
    explicit: frozenset[str] = (
        frozenset()
    )  # options the user gave ("mode", "blanks"): a saved plan refuses others
    from_report: str | None = None  # --only failed --from REPORT
    report: Path | None = None
    max_deletes: int = 0
    max_failures: int | None = None
    ignore_unknown_columns: bool = False
    job: str | None = None  # the cron job (``catalog-sync run``) this run belongs to, recorded with it


def _no_progress(total: int) -> AbstractContextManager[Callable[[RowOutcome], None]]:
    @contextmanager
    def quiet() -> Iterator[Callable[[RowOutcome], None]]:
        yield lambda outcome: None

    return quiet()


@dataclass
class ApplyHooks:
    """What a person adds to a run: confirm the plan (raise to refuse), see it, watch progress."""

    confirm: Callable[[Plan, bool], None] = lambda plan, new_ledger: None
    planned: Callable[[Plan], None] = lambda plan: None
    progress: Callable[[int], AbstractContextManager[Callable[[RowOutcome], None]]] = _no_progress
    started: Callable[[int], None] = lambda run_id: None  # the run record exists (its id)
    checked: Callable[[list[Problem]], None] = lambda warnings: None  # the catalog's validation warnings


@dataclass
class ApplyOutcome:
    """A finished run: the plan, what happened, the report, and the exit code with its error."""

    plan: Plan
    result: RunResult
    summary: dict[str, Any]
    report: Path
    rows: list[dict[str, Any]]
    exit_code: int
    error: Exception | None
    warnings: list[Problem] = field(default_factory=list)  # the catalog's validation warnings


# ---------------------------------------------------------------------------------- plan
def run_plan(request: PlanRequest) -> PlanOutcome:
    """Validate, read the remote side, and build the plan (saved to ``request.out`` when given)."""
    target = request.target
    if request.out is not None:
        inputs = run_inputs(
            source=request.catalog,
            mapping=request.read.get("mapping"),
            schemas=request.read.get("house_rules", ()),
            state=target.state,
        )
        check_output(request.out, inputs, what="plan file")
    loaded, spec, checked = load_valid_catalog(
        request.catalog,
        target.provider,
        **request.read,
        ignore_unknown_columns=request.ignore_unknown_columns,
    )
    client = target.connect()
    with sigterm_stops_the_run(), Ledger(target.state) as ledger, ledger.locked("plan"):
        run_id = ledger.start_run(
            "plan",
            target.provider,
            client.base_url,
            request.catalog,
            request.mode,
            catalog_sha256=file_sha256(request.catalog),
        )
        with _finishing(ledger, run_id, client, "the plan was not made"):
            plan, _current = plan_catalog(
                loaded,
                spec,
                client,
                ledger,
                mode=request.mode,
                blanks=request.blanks,
                run_id=run_id,
                catalog=request.catalog,
            )
        code = ChangesPendingError.exit_code if request.detailed_exitcode and plan.pending else 0
        ledger.finish_run(
            run_id, counts={"action": plan.summary}, requests=client.stats.requests, exit_code=code
        )
    saved = _save_plan(plan, request.out) if request.out is not None else None
    return PlanOutcome(plan, code, saved, checked.warnings)


def _save_plan(plan: Plan, out: Path) -> Path:
    """Save the plan atomically (a crash never leaves half a plan file)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_target(out) as temp:
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
    target = request.target
    source = _source(request)
    hooks.checked(source.warnings)
    saved, loaded, spec, catalog = source.saved, source.sheet, source.spec, source.catalog
    if saved is not None:
        _check_saved_options(saved, request)
    client = target.connect()
    spec = spec or client.spec
    if saved is not None and saved.base_url and saved.base_url != public_base_url(client.base_url):
        raise ConfigError(
            f"the plan was made against {saved.base_url}, not {public_base_url(client.base_url)}; "
            "use the same --base-url or plan again"
        )
    _check_report_path(request)
    sha256 = file_sha256(request.from_report or request.source)
    command = f"run {request.job}" if request.job else "apply"
    with sigterm_stops_the_run(), Ledger(target.state) as ledger, ledger.locked(command):
        mode = saved.mode if saved else request.mode
        run_id = ledger.start_run(
            "apply", target.provider, client.base_url, catalog, mode, job=request.job, catalog_sha256=sha256
        )
        hooks.started(run_id)
        with _finishing(ledger, run_id, client, "nothing was sent"):
            plan, current = _plan_for_apply(request, saved, loaded, spec, client, ledger, run_id, catalog)
            plan.notes[:0] = source.notes
            check_deletes(plan, request.max_deletes)
            hooks.confirm(plan, new_ledger_note(plan, client, ledger) is not None)
        hooks.planned(plan)
        in_flight = "writes still in flight are settled by the next run"
        with _finishing(ledger, run_id, client, in_flight), hooks.progress(len(plan.writes)) as advance:
            result = execute(
                plan,
                client,
                ledger,
                run_id=run_id,
                concurrency=client.concurrency,
                max_failures=request.max_failures,
                on_progress=advance,
                current=current,
            )
        result.requests = client.stats.requests  # the whole run: reading the remote side too
        code, _error = exit_code_for(result, request.max_failures)
        started = (ledger.run(run_id) or {}).get("started_at")
        summary = run_summary(result, plan, started=started)
        unfinished = finish_run(
            ledger,
            run_id,
            counts={k: summary[k] for k in ("action", "status")},
            requests=result.requests,
            exit_code=code,
            stopped="interrupted" if result.stopped == "interrupted" else None,
        )
    report = request.report or target.state.parent / "reports" / f"run-{run_id}-{target.provider}.csv"
    written = write_report(report, plan, result, spec, loaded, summary=summary)
    _record_report(target.state, run_id, written)
    code, error = exit_code_for(result, request.max_failures, report=written, state_error=unfinished)
    _columns, _flat, rows = report_rows(plan, result, spec, loaded)
    return ApplyOutcome(plan, result, summary, written, rows, code, error, source.warnings)


def _record_report(state: Path, run_id: int, report: Path) -> None:
    """Note the report's path on the run record (the run is finished: a failure here changes nothing)."""
    try:
        with Ledger(state) as ledger:
            ledger.set_run_report(run_id, str(report))
    except CatalogSyncError:
        pass


def _plan_for_apply(
    request: ApplyRequest,
    saved: Plan | None,
    loaded: Sheet | None,
    spec: ProviderSpec,
    client: Any,
    ledger: Ledger,
    run_id: int,
    catalog: str,
) -> tuple[Plan, Mapping[str, Any]]:
    """The plan to carry out: a saved one re-checked against the remote side, or a fresh one."""
    if saved is None:
        assert loaded is not None
        return plan_catalog(
            loaded,
            spec,
            client,
            ledger,
            mode=request.mode,
            blanks=request.blanks,
            run_id=run_id,
            catalog=catalog,
        )
    client.check_access()  # a refused key says so before anything is compared or sent
    notes = settle_open_intents(client, ledger, run_id=run_id)
    current = recheck_saved_plan(saved, client, ledger)
    saved.notes.extend(notes)
    note = new_ledger_note(saved, client, ledger)
    if note:
        saved.notes.insert(0, note)
    return saved, current


@contextmanager
def _finishing(ledger: Ledger, run_id: int, client: Any, what: str) -> Iterator[None]:
    """Finish the run record when this step is refused or stopped, then let the stop go on."""
    try:
        yield
    except KeyboardInterrupt as exc:  # Ctrl+C or SIGTERM outside the executor's own handling
        _stopped_early(ledger, run_id, client, exc, what)
    except BaseException as exc:  # refused: a CatalogSyncError (its exit code), a prompt's Abort (1)
        code = getattr(exc, "exit_code", 1)
        finish_run(
            ledger,
            run_id,
            counts={},
            requests=client.stats.requests,
            exit_code=code if isinstance(code, int) else 1,
            stopped=None,
        )
        raise


def _stopped_early(ledger: Ledger, run_id: int, client: Any, exc: KeyboardInterrupt, what: str) -> NoReturn:
    how = signal_of(exc)
    code = TERMINATED if how == "SIGTERM" else INTERRUPTED
    finish_run(
        ledger, run_id, counts={}, requests=client.stats.requests, exit_code=code, stopped="interrupted"
    )
    if how == "SIGTERM":
        raise interrupted_error(how, f"{what}; run again to finish (nothing is created twice)") from None
    raise exc


@dataclass
class _Source:
    """What an apply request carries out, and what reading it had to say."""

    saved: Plan | None
    sheet: Sheet | None
    spec: ProviderSpec | None
    catalog: str
    warnings: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _source(request: ApplyRequest) -> _Source:
    """The saved plan, or the sheet (a catalog, or the rows of a report to retry) the request applies."""
    provider = request.target.provider
    if request.from_report and request.mode == "mirror":
        raise ConfigError("--mode mirror cannot be used with --only failed (it would delete the other rows)")
    if request.from_report:
        return _retry_source(request)
    if not request.source:
        raise ConfigError("give a CATALOG or PLAN.json (or --only failed --from REPORT)")
    if is_plan_file(request.source):
        plan = Plan.load(request.source)
        if plan.provider != provider:
            raise ConfigError(f"{request.source} is a plan for {plan.provider}, not {provider}")
        spec = load_spec(provider)
        plan.check(spec, request.source)
        return _Source(plan, None, spec, plan.catalog)
    sheet, spec, report = _catalog(request, request.source)
    return _Source(None, sheet, spec, str(request.source), report.warnings)


def _catalog(request: ApplyRequest, path: str) -> tuple[Sheet, ProviderSpec, Any]:
    return load_valid_catalog(
        path, request.target.provider, **request.read, ignore_unknown_columns=request.ignore_unknown_columns
    )


def _retry_source(request: ApplyRequest) -> _Source:
    """``--only failed --from REPORT``: the rows the report says were not done.

    With a catalog too, those rows are taken from the catalog as it is now (matched by their key,
    else by their row number), so corrections made since are what is sent; without one, the values
    the report holds are sent, and the plan says so."""
    provider = request.target.provider
    assert request.from_report is not None
    spec = load_spec(provider)
    mapping = request.read.get("mapping")
    retry = catalog_from_report(request.from_report, spec, mapping)
    if not request.source:
        try:
            checked = validate_loaded(retry, spec)
        except InvalidCatalogError as exc:
            raise InvalidCatalogError(
                _report_hint(exc.message, retry, provider, mapping), **exc.context
            ) from None
        note = (
            f"retrying {len(retry.data)} row(s) with the values recorded in {request.from_report}; give the "
            "catalog too (apply CATALOG --only failed --from REPORT) to retry them with its current values"
        )
        return _Source(None, retry, spec, str(request.from_report), checked.warnings, [note])
    catalog, spec = _load_for_retry(request)
    rows, missing = _rows_of(retry, catalog, spec)
    chosen = _subset(catalog, rows)
    checked = validate_loaded(chosen, spec, ignore_unknown_columns=request.ignore_unknown_columns)
    notes = [
        f"retrying {len(rows)} row(s) of {request.from_report} with their current values from {request.source}"
    ]
    if missing:
        shown = ", ".join(missing[:10]) + (", …" if len(missing) > 10 else "")
        notes.append(
            f"{len(missing)} row(s) of the report are no longer in the catalog and are not retried: {shown}"
        )
    return _Source(None, chosen, spec, str(request.source), checked.warnings, notes)


def _load_for_retry(request: ApplyRequest) -> tuple[Sheet, ProviderSpec]:
    """The catalog read, not yet validated: only the rows that are retried are (``validate_loaded``)."""
    from catalog_sync.sheets import load_sheet

    assert request.source is not None
    read = dict(request.read)
    spec = load_spec(request.target.provider, tuple(Path(p) for p in read.pop("house_rules", ())))
    return load_sheet(request.source, known_fields=spec.field_names, **read), spec


def _rows_of(retry: Sheet, catalog: Sheet, spec: ProviderSpec) -> tuple[list[int], list[str]]:
    """Catalog row numbers of the report's rows (by their first filled key, else by row number)."""
    from catalog_sync.spec.normalise import normalise_frame, normalise_value

    keys = [k for k in spec.keys if k in catalog.data.columns]
    canonical = normalise_frame(catalog.data[keys].astype(object).fillna(""), spec)
    index: dict[tuple[str, str], int] = {}
    for key in keys:  # one vectorised pass per key column: value -> its first row
        column = canonical[key][canonical[key].ne("")]
        first = column[~column.duplicated()]
        index.update(((key, str(v)), int(str(r))) for r, v in first.items())
    rows: list[int] = []
    missing: list[str] = []
    for row, values in retry.data.iterrows():
        keyed = [
            (k, normalise_value(str(values[k]), spec.field(k)))
            for k in spec.keys
            if k in retry.data.columns and str(values[k]).strip()
        ]
        found = next((index[k] for k in keyed if k in index), None)
        if found is None and not keyed and int(str(row)) in catalog.data.index:
            found = int(str(row))
        if found is None:
            missing.append(f"row {row}" + (f" ({keyed[0][0]}={keyed[0][1]})" if keyed else ""))
        elif found not in rows:
            rows.append(found)
    return sorted(rows), missing


def _subset(sheet: Sheet, rows: list[int]) -> Sheet:
    """The sheet with only ``rows`` (original row numbers kept)."""
    from dataclasses import replace

    return replace(
        sheet,
        data=sheet.data.loc[rows],
        kinds=None if sheet.kinds is None else sheet.kinds.loc[rows],
        ignored=None if sheet.ignored is None else sheet.ignored.loc[rows],
        problems=[p for p in sheet.problems if p.row is None or p.row in rows],
    )


def _report_hint(message: str, sheet: Sheet, provider: str, mapping: str | None) -> str:
    """An invalid report read back: say which columns were not fields, and the --mapping to pass."""
    unknown = [p.value for p in sheet.problems if p.code == "unknown-column" and p.value]
    if not unknown:
        return message
    shown = ", ".join(repr(c) for c in unknown[:4]) + (", …" if len(unknown) > 4 else "")
    fix = "check the --mapping" if mapping else "pass the --mapping the catalog was applied with"
    return f"{message} The report's columns {shown} are not fields of {provider}: {fix}."


def _check_saved_options(saved: Plan, request: ApplyRequest) -> None:
    """A saved plan is applied exactly: an explicit --mode/--blanks that differs is refused."""
    for name, given, planned in (
        ("mode", request.mode, saved.mode),
        ("blanks", request.blanks, saved.blanks),
    ):
        if name in request.explicit and given != planned:
            raise ConfigError(
                f"{request.source} was planned with --{name} {planned}; a saved plan is applied exactly, so "
                f"--{name} {given} cannot change it: plan again with --{name} {given}"
            )


def _check_report_path(request: ApplyRequest) -> None:
    """Refuse a report path that could not be written, or that is an input of the run (nothing sent)."""
    state = request.target.state
    if request.report is not None:
        inputs = run_inputs(
            source=request.source,
            from_report=request.from_report,
            mapping=request.read.get("mapping"),
            schemas=request.read.get("house_rules", ()),
            state=state,
        )
        check_output(request.report, inputs)
    check_writable(request.report or state.parent / "reports" / "run.csv")


def check_writable(target: Path) -> None:
    """ConfigError (nothing sent) when the report could not be written after the run."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the report to {target}: {exc.strerror or exc}; nothing was sent"
        ) from exc
    if not os.access(target.parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise ConfigError(f"cannot write the report to {target}: permission denied; nothing was sent")
