"""``catalog-sync plan``: validate, read what the provider holds, show (and save) the per-row plan."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from catalog_sync.config.defaults import PAGE_SUFFIXES
from catalog_sync.sheets.options import ReadOptions

from .options import (
    engine_option,
    json_option,
    path_ending_in,
    plan_file_options,
    provider_option,
    sheet_options,
)
from .sync_options import limit_options, sync_options

if TYPE_CHECKING:
    from catalog_sync.providers.base import ClientLimits


@click.command("plan")
@click.argument("catalog", type=click.Path(dir_okay=False))
@provider_option
@sheet_options
@sync_options
@limit_options
@plan_file_options("PLAN", "the plan")
@click.option(
    "--html",
    "html",
    callback=path_ending_in(PAGE_SUFFIXES, "the page"),
    metavar="FILE.html",
    help="Also write the plan as one self-contained page to review in a browser (no network): "
    "old → new per changed cell, conflicts side by side, filters by action and a search of every value. "
    "An existing FILE that is not a page catalog-sync wrote is refused.",
)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 7 when changes are pending, 0 when nothing to do."
)
@click.option("--all", "show_all", is_flag=True, help="Also list unchanged rows.")
@click.option(
    "--ignore-unknown-columns",
    is_flag=True,
    help="Let a header one or two edits from a field name (tilte, relaseDate) be ignored with a warning "
    "instead of refusing the catalog.",
)
@engine_option
@json_option
@click.pass_context
def plan_command(
    ctx: click.Context,
    catalog: str,
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
    out: str | None,
    html: Path | None,
    detailed_exitcode: bool,
    force: bool,
    show_all: bool,
    full: bool,
    ignore_unknown_columns: bool,
    engine: str,
    as_json: bool,
) -> None:
    """Show what `apply` would do: create / update (old → new per field) / unchanged / delete / conflict.

    The catalog is validated first (invalid → exit 3, nothing read or sent). Rows are matched to
    remote records by the provider's keys in order; a key matching two records is a conflict.
    Nothing is written to the provider. `-o PLAN.xlsx` writes a review workbook: one row per
    change with old and new per field side by side, an `approve` column (yes) and, on a
    conflict, a `take` column (sheet / remote); `apply PLAN.xlsx` applies what it approves.

    \b
    Example:
      catalog-sync plan products.xlsx -p royalti
      catalog-sync plan products.csv -p keevault --mode mirror -o plan.json
      catalog-sync plan products.xlsx -p royalti --html review.html
      catalog-sync plan pulled.xlsx -p royalti -o review.xlsx   # approve in Excel, then apply review.xlsx
      catalog-sync plan products.csv -p jogg --json --detailed-exitcode
      catalog-sync plan ten-million-rows.csv -p royalti --engine disk -o plan.json
    """
    from rich.console import Console  # the command's own imports: --help needs none of them

    from catalog_sync.planning.render import render_plan, render_warnings
    from catalog_sync.run import PlanRequest, Target, run_plan
    from catalog_sync.validation.gate import problems_as_json

    request = PlanRequest(
        target=Target(provider, base_url, Path(state_path), rate, concurrency, timeout, limits),
        catalog=str(catalog),
        read=read,
        mode=mode,
        blanks=blanks,
        prefer=prefer,
        out=Path(out) if out else None,
        html=html,
        detailed_exitcode=detailed_exitcode,
        force=force,
        ignore_unknown_columns=ignore_unknown_columns,
        engine=engine,
    )
    with problems_as_json(as_json):
        outcome = run_plan(request)
    plan = outcome.plan
    if not as_json:
        render_warnings(outcome.warnings, Console(stderr=True, soft_wrap=False))
    if as_json:  # every row, written a change at a time
        extra = {"estimate": outcome.estimate.to_dict()} if outcome.estimate is not None else None
        plan.write_json(sys.stdout, complete=True, extra=extra)
    else:
        console = Console(soft_wrap=False)
        render_plan(plan, console, show_unchanged=show_all, full=full)
        if outcome.estimate is not None and outcome.estimate.is_long:
            click.echo(f"Applying it will take {outcome.estimate.text()}.")
        if outcome.saved:  # one unwrapped line: the command is copied as it stands
            click.echo(
                f"Plan saved to {outcome.saved}; apply it with: "
                f"catalog-sync apply {shlex.quote(str(out))} -p {provider}"
            )
    if outcome.page is not None:
        click.echo(f"Page to review written to {outcome.page}", err=as_json)
    ctx.exit(outcome.exit_code)


#: What the command imports when it runs, loaded first with the collector paused (``cli.main.load_paused``).
LOADS = ("rich.console", "catalog_sync.planning.render", "catalog_sync.run", "catalog_sync.validation.gate")

COMMANDS: list[click.Command] = [plan_command]
