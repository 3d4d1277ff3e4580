"""``catalog-sync plan``: validate, read what the provider holds, show (and save) the per-row plan."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console

from catalog_sync.apply.service import (
    INTERRUPTED,
    connect,
    load_valid_catalog,
    plan_catalog,
    problems_as_json,
)
from catalog_sync.errors import CatalogSyncError, ChangesPendingError
from catalog_sync.plan.render import render_plan
from catalog_sync.state import Ledger

from .options import ReadOptions, json_option, provider_option, sheet_options
from .sync_options import sync_options


@click.command("plan")
@click.argument("catalog", type=click.Path(exists=True, dir_okay=False))
@provider_option
@sheet_options
@sync_options
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PLAN.json",
    help="Save the plan (with a fingerprint of each targeted remote record) for `apply PLAN.json`.",
)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 7 when changes are pending, 0 when nothing to do."
)
@click.option("--all", "show_all", is_flag=True, help="Also list unchanged rows.")
@json_option
@click.pass_context
def plan_command(
    ctx: click.Context,
    catalog: str,
    provider: str,
    read: ReadOptions,
    mode: str,
    blanks: str,
    base_url: str | None,
    state_path: str,
    rate: float | None,
    concurrency: int | None,
    timeout: float,
    out: str | None,
    detailed_exitcode: bool,
    show_all: bool,
    as_json: bool,
) -> None:
    """Show what `apply` would do: create / update (old → new per field) / unchanged / delete / conflict.

    The catalog is validated first (invalid → exit 3, nothing read or sent). Rows are matched to
    remote records by the provider's keys in order; a key matching two records is a conflict.
    Nothing is written to the provider.

    \b
    Example:
      catalog-sync plan products.xlsx -p royalti
      catalog-sync plan products.csv -p keevault --mode mirror -o plan.json
      catalog-sync plan products.csv -p jogg --json --detailed-exitcode
    """
    with problems_as_json(as_json):
        loaded, spec, _report = load_valid_catalog(
            catalog,
            provider,
            **read.as_kwargs(),
        )
    client = connect(provider, base_url=base_url, rate=rate, concurrency=concurrency, timeout=timeout)
    with Ledger(state_path) as ledger, ledger.locked("plan"):
        run_id = ledger.start_run("plan", provider, client.base_url, str(catalog), mode)
        try:
            plan, _current = plan_catalog(
                loaded, spec, client, ledger, mode=mode, blanks=blanks, run_id=run_id, catalog=str(catalog)
            )
        except CatalogSyncError as exc:
            ledger.finish_run(run_id, counts={}, requests=client.stats.requests, exit_code=exc.exit_code)
            raise
        except KeyboardInterrupt:
            ledger.finish_run(run_id, counts={}, requests=client.stats.requests, exit_code=INTERRUPTED)
            raise
        code = ChangesPendingError.exit_code if detailed_exitcode and plan.pending else 0
        ledger.finish_run(
            run_id, counts={"action": plan.summary}, requests=client.stats.requests, exit_code=code
        )
    if out:
        plan.save(out)
    if as_json:
        click.echo(json.dumps(plan.to_dict(), ensure_ascii=False, indent=2))
    else:
        console = Console(soft_wrap=False)
        render_plan(plan, console, show_unchanged=show_all)
        if out:
            console.print(f"Plan saved to {Path(out)}; apply it with: catalog-sync apply {out} -p {provider}")
    ctx.exit(code)


COMMANDS: list[click.Command] = [plan_command]
