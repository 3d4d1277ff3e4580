"""``catalog-sync apply``: carry a plan out (from a catalog, a saved plan, or a report's failed rows)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from catalog_sync.apply.executor import RowOutcome, execute, sigterm_stops_the_run
from catalog_sync.apply.report import catalog_from_report, report_rows, run_summary, write_report
from catalog_sync.apply.service import (
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
    problems_as_json,
    run_inputs,
    signal_of,
    validate_loaded,
)
from catalog_sync.apply.settle import recheck_saved_plan, settle_open_intents
from catalog_sync.errors import CatalogSyncError, ConfigError, InvalidCatalogError
from catalog_sync.plan.model import Plan, is_plan_file
from catalog_sync.plan.render import render_plan, render_summary, summary_line
from catalog_sync.providers.base import ClientLimits
from catalog_sync.report import SUFFIXES, check_output
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import load_spec
from catalog_sync.state import Ledger, public_base_url
from catalog_sync.text import safe_text

from .options import ReadOptions, json_option, provider_option, sheet_options
from .sync_options import limit_options, sync_options


def _report_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    if value is not None and Path(value).suffix.lower() not in SUFFIXES:
        raise click.BadParameter("the report must end in .csv, .xlsx or .json", ctx=ctx, param=param)
    return None if value is None else Path(value)


def _confirm(plan: Plan, yes: bool, console: Console, *, new_ledger: bool = False) -> None:
    writes = len(plan.writes)
    if yes or not writes:
        return
    if not sys.stdin.isatty():
        raise ConfigError(
            f"the plan sends {writes} write(s) and stdin is not a terminal, so nothing can be "
            "confirmed; pass --yes to apply without asking (nothing was sent)"
        )
    render_plan(plan, console)
    question = f"Apply {writes} write(s) to {plan.provider}?"
    if new_ledger:
        question = (
            f"The state database holds no record of {plan.provider} products created earlier (see the note "
            f"above): rows applied before with another --state would be created again. {question}"
        )
    if not click.confirm(question, default=False, err=True):
        raise ConfigError("not confirmed; nothing was sent")


def _check_writable(target: Path) -> None:
    """ConfigError (nothing sent) when the report could not be written after the run."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the report to {target}: {exc.strerror or exc}; nothing was sent"
        ) from exc
    if not os.access(target.parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise ConfigError(f"cannot write the report to {target}: permission denied; nothing was sent")


class _Progress:
    """A rich progress bar with ETA on stderr (off for --json or when stderr is not a terminal)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar: Progress | None = None
        if enabled and total:
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self.task = self.bar.add_task("applying", total=total)

    def __enter__(self) -> _Progress:
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.stop()

    def advance(self, outcome: RowOutcome) -> None:
        if self.bar and outcome.change.action in ("create", "update", "delete"):
            self.bar.advance(self.task)


def _source_plan(
    source: str | None, provider: str, only: str | None, from_report: str | None, read: ReadOptions
) -> tuple[Plan | None, Any, Any, str]:
    """(saved plan | None, sheet, spec, catalog name) from the command's arguments."""
    if from_report or only:
        if not (from_report and only):
            raise click.UsageError("--only failed and --from REPORT go together")
        spec = load_spec(provider)
        mapping = read.mapping
        sheet = catalog_from_report(from_report, spec, mapping)
        try:
            validate_loaded(sheet, spec)
        except InvalidCatalogError as exc:
            raise InvalidCatalogError(
                _report_hint(exc.message, sheet, provider, mapping), **exc.context
            ) from None
        return None, sheet, spec, str(from_report)
    if not source:
        raise click.UsageError("give a CATALOG or PLAN.json (or --only failed --from REPORT)")
    if is_plan_file(source):
        plan = Plan.load(source)
        if plan.provider != provider:
            raise ConfigError(f"{source} is a plan for {plan.provider}, not {provider}")
        spec = load_spec(provider)
        plan.check(spec, source)
        return plan, None, spec, plan.catalog
    sheet, spec, _report = load_valid_catalog(source, provider, **read.as_kwargs())
    return None, sheet, spec, str(source)


def _report_hint(message: str, sheet: Sheet, provider: str, mapping: str | None) -> str:
    """An invalid report read back: say which columns were not fields, and the --mapping to pass."""
    unknown = [p.value for p in sheet.problems if p.code == "unknown-column" and p.value]
    if not unknown:
        return message
    shown = ", ".join(repr(c) for c in unknown[:4]) + (", …" if len(unknown) > 4 else "")
    fix = "check the --mapping" if mapping else "pass the --mapping the catalog was applied with"
    return f"{message} The report's columns {shown} are not fields of {provider}: {fix}."


@click.command("apply")
@click.argument("source", required=False, metavar="CATALOG|PLAN.json")
@provider_option
@sheet_options
@sync_options
@limit_options
@click.option(
    "--yes", "-y", is_flag=True, help="Apply without asking for confirmation (required when not a TTY)."
)
@click.option(
    "--report",
    "report_file",
    callback=_report_path,
    metavar="FILE",
    help="Write the per-row report to FILE (.csv, .xlsx, .json); default: next to the state database.",
)
@click.option(
    "--max-deletes",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Refuse (exit 6, nothing sent) a mirror plan deleting more records than this.",
)
@click.option(
    "--max-failures",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after N failed rows (exit 6); the rest are reported skipped.",
)
@click.option(
    "--only",
    type=click.Choice(["failed"]),
    default=None,
    help="With --from REPORT: retry only rows whose status was failed, unknown or conflict "
    "(and rows a stopped run never attempted).",
)
@click.option(
    "--from",
    "from_report",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    metavar="REPORT",
    help="A previous apply report (.csv/.xlsx/.json) to take rows from.",
)
@json_option
@click.pass_context
def apply_command(
    ctx: click.Context,
    source: str | None,
    provider: str,
    read: ReadOptions,
    mode: str,
    blanks: str,
    base_url: str | None,
    state_path: str,
    rate: float | None,
    concurrency: int | None,
    timeout: float,
    limits: ClientLimits,
    yes: bool,
    report_file: Path | None,
    max_deletes: int,
    max_failures: int | None,
    only: str | None,
    from_report: str | None,
    as_json: bool,
) -> None:
    """Carry the plan out: send only the changes, record each row's outcome, write a report.

    From a CATALOG the plan is made first; a saved PLAN.json is applied exactly, and rows whose
    remote record changed since the plan become `conflict` instead of being overwritten.
    Exit 0 all ok, 4 some rows failed/unknown/conflict, 5 lock held, 6 a limit stopped the run.

    \b
    Example:
      catalog-sync apply products.xlsx -p royalti --yes --report report.xlsx
      catalog-sync apply plan.json -p keevault --max-deletes 3
      catalog-sync apply -p royalti --only failed --from report.xlsx --yes
    """
    if mode == "mirror" and from_report:
        raise click.UsageError(
            "--mode mirror cannot be used with --only failed (it would delete the other rows)"
        )
    with problems_as_json(as_json):
        saved, loaded, spec, catalog = _source_plan(
            source,
            provider,
            only,
            from_report,
            read,
        )
    if saved is not None:
        for name, given, planned in (("mode", mode, saved.mode), ("blanks", blanks, saved.blanks)):
            explicit = ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
            if explicit and given != planned:
                raise ConfigError(
                    f"{source} was planned with --{name} {planned}; a saved plan is applied exactly, so "
                    f"--{name} {given} cannot change it: plan again with --{name} {given}"
                )
    client = connect(
        provider, base_url=base_url, rate=rate, concurrency=concurrency, timeout=timeout, limits=limits
    )
    spec = spec or client.spec
    if saved is not None and saved.base_url and saved.base_url != public_base_url(client.base_url):
        raise ConfigError(
            f"the plan was made against {saved.base_url}, not {public_base_url(client.base_url)}; "
            "use the same --base-url or plan again"
        )
    err = Console(stderr=True, soft_wrap=False)
    state = Path(state_path)
    inputs = run_inputs(
        source=source, from_report=from_report, mapping=read.mapping, schemas=read.house_rules, state=state
    )
    if report_file is not None:
        check_output(report_file, inputs)  # before anything is sent
    _check_writable(report_file or state.parent / "reports" / "run.csv")  # before anything is sent
    with sigterm_stops_the_run(), Ledger(state) as ledger, ledger.locked("apply"):
        run_id = ledger.start_run("apply", provider, client.base_url, catalog, saved.mode if saved else mode)
        try:
            if saved is not None:
                plan = saved
                notes = settle_open_intents(client, ledger, run_id=run_id)
                current = recheck_saved_plan(plan, client, ledger)
                plan.notes.extend(notes)
                note = new_ledger_note(plan, client, ledger)
                if note:
                    plan.notes.insert(0, note)
            else:
                plan, current = plan_catalog(
                    loaded, spec, client, ledger, mode=mode, blanks=blanks, run_id=run_id, catalog=catalog
                )
            check_deletes(plan, max_deletes)
            _confirm(plan, yes, err, new_ledger=new_ledger_note(plan, client, ledger) is not None)
        except CatalogSyncError as exc:
            finish_run(
                ledger,
                run_id,
                counts={},
                requests=client.stats.requests,
                exit_code=exc.exit_code,
                stopped=None,
            )
            raise
        except KeyboardInterrupt as exc:  # Ctrl+C or SIGTERM while planning
            _stopped_early(ledger, run_id, client, exc, "nothing was sent")
        except click.exceptions.Abort:  # Ctrl+C at the prompt: click exits 1 ("Aborted!")
            finish_run(ledger, run_id, counts={}, requests=client.stats.requests, exit_code=1, stopped=None)
            raise
        if not as_json:
            err.print(f"Applying to {provider}: {summary_line(plan)}", markup=False)
            for note in plan.notes:
                err.print(f"note: {safe_text(note)}", style="yellow", markup=False)
        show = not as_json and sys.stderr.isatty()
        try:
            with _Progress(len(plan.writes), show) as progress:
                result = execute(
                    plan,
                    client,
                    ledger,
                    run_id=run_id,
                    concurrency=client.concurrency,
                    max_failures=max_failures,
                    on_progress=progress.advance,
                    current=current,
                )
        except (
            KeyboardInterrupt
        ) as exc:  # a second Ctrl+C/SIGTERM: writes left in flight are settled next run
            _stopped_early(ledger, run_id, client, exc, "writes still in flight are settled by the next run")
        result.requests = client.stats.requests  # the whole run: reading the remote side too
        code, _error = exit_code_for(result, max_failures)
        summary = run_summary(result, plan)
        unfinished = finish_run(
            ledger,
            run_id,
            counts={k: summary[k] for k in ("action", "status")},
            requests=result.requests,
            exit_code=code,
            stopped="interrupted" if result.stopped == "interrupted" else None,
        )
    target = report_file or state.parent / "reports" / f"run-{run_id}-{provider}.csv"
    written = write_report(target, plan, result, spec, loaded)
    code, error = exit_code_for(result, max_failures, report=written, state_error=unfinished)
    if as_json:
        _columns, _flat, rows = report_rows(plan, result, spec, loaded)
        click.echo(
            json.dumps(
                {"summary": summary, "rows": rows, "report": str(written)}, ensure_ascii=False, indent=2
            )
        )
    else:
        render_summary(summary, Console(soft_wrap=False), str(written))
    if error is not None:
        raise error
    ctx.exit(code)


def _stopped_early(ledger: Ledger, run_id: int, client: Any, exc: KeyboardInterrupt, what: str) -> NoReturn:
    """Ctrl+C / SIGTERM outside the executor's own handling: finish the run record, then stop."""
    how = signal_of(exc)
    code = TERMINATED if how == "SIGTERM" else INTERRUPTED
    finish_run(
        ledger, run_id, counts={}, requests=client.stats.requests, exit_code=code, stopped="interrupted"
    )
    if how == "SIGTERM":
        raise interrupted_error(how, f"{what}; run again to finish (nothing is created twice)") from None
    raise exc


COMMANDS: list[click.Command] = [apply_command]
