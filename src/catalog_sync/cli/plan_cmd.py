"""``catalog-sync plan``: validate, read what the provider holds, show (and save) the per-row plan."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console

from catalog_sync.apply.executor import sigterm_stops_the_run
from catalog_sync.apply.service import (
    INTERRUPTED,
    TERMINATED,
    connect,
    finish_run,
    interrupted_error,
    load_valid_catalog,
    plan_catalog,
    problems_as_json,
    run_inputs,
    signal_of,
)
from catalog_sync.errors import CatalogSyncError, ChangesPendingError, ConfigError
from catalog_sync.plan.model import Plan
from catalog_sync.plan.render import render_plan
from catalog_sync.providers.base import ClientLimits
from catalog_sync.report import atomic_target, check_output
from catalog_sync.state import Ledger

from .options import ReadOptions, json_option, provider_option, sheet_options
from .sync_options import limit_options, sync_options


@click.command("plan")
@click.argument("catalog", type=click.Path(exists=True, dir_okay=False))
@provider_option
@sheet_options
@sync_options
@limit_options
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
    limits: ClientLimits,
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
    if out:
        inputs = run_inputs(source=catalog, mapping=read.mapping, schemas=read.house_rules, state=state_path)
        check_output(out, inputs, what="plan file")
    with problems_as_json(as_json):
        loaded, spec, _report = load_valid_catalog(
            catalog,
            provider,
            **read.as_kwargs(),
        )
    client = connect(
        provider, base_url=base_url, rate=rate, concurrency=concurrency, timeout=timeout, limits=limits
    )
    with sigterm_stops_the_run(), Ledger(state_path) as ledger, ledger.locked("plan"):
        run_id = ledger.start_run("plan", provider, client.base_url, str(catalog), mode)
        try:
            plan, _current = plan_catalog(
                loaded, spec, client, ledger, mode=mode, blanks=blanks, run_id=run_id, catalog=str(catalog)
            )
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
        except KeyboardInterrupt as exc:
            how = signal_of(exc)
            code = TERMINATED if how == "SIGTERM" else INTERRUPTED
            finish_run(
                ledger,
                run_id,
                counts={},
                requests=client.stats.requests,
                exit_code=code,
                stopped="interrupted",
            )
            if how == "SIGTERM":
                raise interrupted_error(how, "the plan was not made") from None
            raise
        code = ChangesPendingError.exit_code if detailed_exitcode and plan.pending else 0
        ledger.finish_run(
            run_id, counts={"action": plan.summary}, requests=client.stats.requests, exit_code=code
        )
    if out:
        _save(plan, Path(out))
    if as_json:
        click.echo(json.dumps(plan.to_dict(), ensure_ascii=False, indent=2))
    else:
        console = Console(soft_wrap=False)
        render_plan(plan, console, show_unchanged=show_all)
        if out:
            console.print(f"Plan saved to {Path(out)}; apply it with: catalog-sync apply {out} -p {provider}")
    ctx.exit(code)


def _save(plan: Plan, out: Path) -> None:
    """Save the plan atomically (a crash never leaves half a plan file)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_target(out) as temp:
            plan.save(temp)
    except OSError as exc:
        raise ConfigError(f"cannot write the plan to {out}: {exc.strerror or exc}") from exc


COMMANDS: list[click.Command] = [plan_command]
