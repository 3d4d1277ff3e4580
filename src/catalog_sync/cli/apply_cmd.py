"""``catalog-sync apply``: carry a plan out (from a catalog, a saved plan, or a report's failed rows)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from catalog_sync.config.defaults import APPLY_REPORT_SUFFIXES, FIXED_SUFFIXES
from catalog_sync.errors import ConfigError
from catalog_sync.sheets.options import ReadOptions
from catalog_sync.text import safe_text

from .options import engine_option, json_option, path_ending_in, provider_option, sheet_options
from .sync_options import limit_options, sync_options

if TYPE_CHECKING:  # the command's heavy modules are imported when it runs (--help needs none)
    from rich.console import Console

    from catalog_sync.execute.estimate import Estimate
    from catalog_sync.execute.executor import RowOutcome
    from catalog_sync.planning.model import Plan
    from catalog_sync.providers.base import ClientLimits
    from catalog_sync.run import ApplyHooks
    from catalog_sync.sheets.write.ids import IdsCopy


def _confirm(
    plan: Plan, yes: bool, console: Console, *, new_ledger: bool = False, estimate: Estimate | None = None
) -> bool:
    """Ask before the writes go (unless ``yes``); True when the plan, with its notes, was shown."""
    writes = len(plan.writes)
    if estimate is not None and estimate.is_long:  # before anything is asked or sent
        console.print(f"Estimated time: {estimate.text()}", markup=False)
    if yes or not writes:
        return False
    if not sys.stdin.isatty():
        raise ConfigError(
            f"the plan sends {writes} write(s) and stdin is not a terminal, so nothing can be "
            "confirmed; pass --yes to apply without asking (nothing was sent)"
        )
    from catalog_sync.execute.estimate import duration_text
    from catalog_sync.planning.render import render_plan

    render_plan(plan, console)
    host = urlsplit(plan.base_url).netloc or plan.base_url or "its default address"
    question = f"Apply {writes} write(s) to {plan.provider} at {host}?"
    if estimate is not None and estimate.is_long:
        question = f"{question} (about {duration_text(estimate.seconds)})"
    if new_ledger:
        question = (
            f"The state database holds no record of {plan.provider} products created earlier (see the note "
            f"above): rows applied before with another --state would be created again. {question}"
        )
    if not click.confirm(question, default=False, err=True):
        raise ConfigError("not confirmed; nothing was sent")
    return True


class _Progress:
    """A rich progress bar with ETA on stderr (off for --json or when stderr is not a terminal)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar: Any = None
        if enabled and total:  # rich's progress machinery is loaded only for a bar that is shown
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

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

    def __enter__(self) -> Callable[[RowOutcome], None]:
        if self.bar:
            self.bar.start()
        return self.advance

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.stop()

    def advance(self, outcome: RowOutcome) -> None:
        if self.bar and outcome.change.action in ("create", "update", "delete"):
            self.bar.advance(self.task)


@click.command("apply")
@click.argument("source", required=False, metavar="CATALOG|PLAN.json|PLAN.xlsx")
@provider_option
@sheet_options
@sync_options
@limit_options
@click.option(
    "--ignore-unknown-columns",
    is_flag=True,
    help="Let a header one or two edits from a field name (tilte, relaseDate) be ignored with a warning "
    "instead of refusing the catalog.",
)
@click.option(
    "--yes", "-y", is_flag=True, help="Apply without asking for confirmation (required when not a TTY)."
)
@click.option(
    "--report",
    "report_file",
    callback=path_ending_in(APPLY_REPORT_SUFFIXES, "the report"),
    metavar="FILE",
    help="Write the per-row report to FILE (.csv, .xlsx, .json; .html: a page to review in a browser); "
    "default: next to the state database. An existing FILE that is not a report catalog-sync wrote is refused.",
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
    "(and rows a stopped run never attempted); a mirror run's unfinished deletes are carried too "
    "(they still need --max-deletes).",
)
@click.option(
    "--from",
    "from_report",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="REPORT",
    help="A previous apply report (.csv/.xlsx/.json) to take rows from.",
)
@click.option(
    "--write-ids",
    "write_ids",
    callback=path_ending_in(FIXED_SUFFIXES, "the copy with ids"),
    metavar="OUT.xlsx|.csv",
    help="After the run, write a copy of the catalog with the provider's id column filled for every row "
    "created or matched (added when the catalog has none), so the next run matches by id. An xlsx copy "
    "keeps the other sheets, formats and cells; a CSV copy keeps its delimiter and encoding. Never the "
    "catalog itself.",
)
@click.option(
    "--force", is_flag=True, help="With --write-ids: overwrite OUT if it exists (it may hold your edits)."
)
@engine_option
@json_option
@click.pass_context
def apply_command(
    ctx: click.Context,
    source: str | None,
    provider: str,
    read: ReadOptions,
    mode: str,
    blanks: str,
    prefer: str | None,
    base_url: str | None,
    state_path: str,
    rate: float | None,
    concurrency: int | None,
    timeout: float,
    limits: ClientLimits,
    yes: bool,
    ignore_unknown_columns: bool,
    report_file: Path | None,
    max_deletes: int,
    max_failures: int | None,
    only: str | None,
    from_report: str | None,
    write_ids: Path | None,
    force: bool,
    engine: str,
    as_json: bool,
) -> None:
    """Carry the plan out: send only the changes, record each row's outcome, write a report.

    From a CATALOG the plan is made first; a saved PLAN.json is applied exactly, and rows whose
    remote record changed since the plan become `conflict` instead of being overwritten. A plan
    workbook (`plan -o PLAN.xlsx`) is applied as its reviewer left it: only the changes whose
    `approve` is yes (the others are `skipped`, `not approved`), each conflict's `take` honoured.
    Exit 0 all ok, 4 some rows failed/unknown/conflict, 5 lock held, 6 a limit stopped the run.

    \b
    Example:
      catalog-sync apply products.xlsx -p royalti --yes --report report.xlsx
      catalog-sync apply plan.json -p keevault --max-deletes 3
      catalog-sync apply products.csv -p royalti --yes --report review.html
      catalog-sync apply review.xlsx -p royalti --yes
      catalog-sync apply -p royalti --only failed --from report.xlsx --yes
      catalog-sync apply products.xlsx -p jogg --yes --write-ids products-with-ids.xlsx
      catalog-sync apply big-catalog.csv -p royalti --yes --engine disk
    """
    from rich.console import Console

    from catalog_sync.planning.render import render_failures, render_summary
    from catalog_sync.run import ApplyRequest, Target, run_apply
    from catalog_sync.validation.gate import problems_as_json

    if mode == "mirror" and from_report:
        raise click.UsageError(
            "--mode mirror cannot be used with --only failed (it would delete the other rows)"
        )
    if bool(from_report) != bool(only):
        raise click.UsageError("--only failed and --from REPORT go together")
    if not source and not from_report:
        raise click.UsageError("give a CATALOG, PLAN.json or PLAN.xlsx (or --only failed --from REPORT)")
    explicit = frozenset(
        name
        for name in ("mode", "blanks", "prefer")
        if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
    )
    request = ApplyRequest(
        target=Target(provider, base_url, Path(state_path), rate, concurrency, timeout, limits),
        source=source,
        read=read,
        mode=mode,
        blanks=blanks,
        prefer=prefer,
        explicit=explicit,
        from_report=from_report,
        report=report_file,
        max_deletes=max_deletes,
        max_failures=max_failures,
        ignore_unknown_columns=ignore_unknown_columns,
        write_ids=write_ids,
        force=force,
        engine=engine.lower(),
    )
    err = Console(stderr=True, soft_wrap=False)
    with problems_as_json(as_json):
        outcome = run_apply(request, _hooks(yes, as_json, err))
    if as_json:
        ids = {"ids": str(outcome.ids.path)} if outcome.ids is not None else {}
        click.echo(
            json.dumps(
                {"summary": outcome.summary, "rows": outcome.rows, "report": str(outcome.report), **ids},
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        out = Console(soft_wrap=False)
        render_failures(outcome.rows, out, str(outcome.report))
        render_summary(outcome.summary, out, str(outcome.report))
        if outcome.ids is not None:
            out.print(_ids_line(outcome.ids), markup=False)
    if outcome.error is not None:
        raise outcome.error
    ctx.exit(outcome.exit_code)


def _ids_line(ids: IdsCopy) -> str:
    cells = f"{ids.filled} id{'' if ids.filled == 1 else 's'}"
    column = f"a new {ids.header} column" if ids.added else f"the {ids.header} column"
    return f"Wrote {ids.path} with {cells} in {column} (the catalog itself is unchanged)"


def _hooks(yes: bool, as_json: bool, err: Console) -> ApplyHooks:
    """The terminal's part of a run: the confirmation prompt, the plan's notes, the progress bar."""
    from catalog_sync.planning.render import render_warnings, summary_line
    from catalog_sync.run import ApplyHooks

    told: list[Estimate | None] = [None]  # the run tells how long before it asks
    shown = [False]  # the prompt showed the plan and its notes: not twice

    def planned(plan: Plan) -> None:
        if not as_json:
            err.print(f"Applying to {plan.provider}: {summary_line(plan)}", markup=False)
            for note in [] if shown[0] else plan.notes:
                err.print(f"note: {safe_text(note)}", style="yellow", markup=False)

    def confirm(plan: Plan, new_ledger: bool) -> None:
        shown[0] = _confirm(plan, yes, err, new_ledger=new_ledger, estimate=None if as_json else told[0])

    show = not as_json and sys.stderr.isatty()
    return ApplyHooks(
        estimated=lambda estimate: told.__setitem__(0, estimate),
        confirm=confirm,
        planned=planned,
        progress=lambda total: _Progress(total, show),
        checked=lambda warnings: None if as_json else render_warnings(warnings, err),
    )


#: What the command imports when it runs, loaded first with the collector paused (``cli.main.load_paused``).
LOADS = ("rich.console", "catalog_sync.planning.render", "catalog_sync.run", "catalog_sync.validation.gate")

COMMANDS: list[click.Command] = [apply_command]
