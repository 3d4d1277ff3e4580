"""``catalog-sync undo RUN_ID``: the inverse of an apply run, shown (and saved) as a plan."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .options import json_option, plan_file_options, provider_option
from .sync_options import connection_options, limit_options

if TYPE_CHECKING:
    from catalog_sync.providers.base import ClientLimits


@click.command("undo")
@click.argument("run_id", type=click.IntRange(min=1))
@provider_option
@connection_options
@limit_options
@plan_file_options("UNDO", "the undo plan")
@click.option("--all", "show_all", is_flag=True, help="Also list rows already as they were before the run.")
@json_option
@click.pass_context
def undo_command(
    ctx: click.Context,
    run_id: int,
    provider: str,
    base_url: str | None,
    state_path: str,
    rate: float | None,
    concurrency: int | None,
    timeout: float,
    limits: ClientLimits,
    out: str | None,
    force: bool,
    show_all: bool,
    full: bool,
    as_json: bool,
) -> None:
    """Build the inverse of an apply run as a plan: fields back to the values it replaced.

    Each field the run updated goes back to the value it replaced; each record it created is
    deleted (JoggAI cannot delete: listed as `cannot-undo`); each record it deleted is created
    again from the values it had (with a new id). A record changed since the run is a `conflict`
    and is never overwritten (exit 4). A run that was killed is undone from what it recorded; a
    write it had in flight is undone where settling it shows what it did, else listed as
    `cannot-undo`. Nothing is sent: `-o UNDO.json` saves the plan and
    `apply UNDO.json` carries it out like any saved plan (its deletes need --max-deletes), so an
    undo can itself be undone. `catalog-sync runs` lists the run ids.

    \b
    Example:
      catalog-sync runs -p royalti
      catalog-sync undo 12 -p royalti
      catalog-sync undo 12 -p royalti -o undo-12.json
      catalog-sync apply undo-12.json -p royalti
    """
    from rich.console import Console  # the command's own imports: --help needs none of them

    from catalog_sync.planning.render import render_plan
    from catalog_sync.run import Target
    from catalog_sync.run.undo import UndoRequest, run_undo

    target = Target(provider, base_url, Path(state_path), rate, concurrency, timeout, limits)
    request = UndoRequest(target, run_id, Path(out) if out else None, force)
    outcome = run_undo(request)
    plan = outcome.plan
    if as_json:
        click.echo(json.dumps(plan.to_dict(), ensure_ascii=False, indent=2))
    elif not plan.changes:
        click.echo(f"Nothing to undo: {plan.notes[-1]}" if plan.notes else "Nothing to undo.")
    else:
        render_plan(plan, Console(soft_wrap=False), show_unchanged=show_all, full=full)
        if outcome.estimate is not None and outcome.estimate.is_long:
            click.echo(f"Applying it will take {outcome.estimate.text()}.")
    if outcome.saved and not as_json:  # one unwrapped line: the command is copied as it stands
        deletes = plan.summary["delete"]
        allow = f" --max-deletes {deletes}" if deletes else ""
        click.echo(
            f"Undo plan saved to {outcome.saved}; apply it with: "
            f"catalog-sync apply {shlex.quote(str(out))} -p {provider}{allow}"
        )
    ctx.exit(outcome.exit_code)


COMMANDS: list[click.Command] = [undo_command]
