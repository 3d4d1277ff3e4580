"""``catalog-sync pull``: what the provider holds as a sheet that ``apply`` takes back unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from .options import json_option, provider_option
from .sync_options import connection_options, limit_options

if TYPE_CHECKING:
    from catalog_sync.providers.base import ClientLimits
    from catalog_sync.run import Target


@click.command("pull")
@provider_option
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="The sheet to write: .xlsx, .ods (with the hidden base for three-way merges) or .csv.",
)
@click.option(
    "--refresh",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Bring the pulled .xlsx FILE's hidden base, and the cells nobody edited, up to date in place "
    "(after an apply, or a colleague's remote edit); your edits not applied yet are kept. Not with -o.",
)
@click.option("--sheet", default="Products", show_default=True, help="Name of the worksheet.")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists (it may hold your edits).")
@connection_options
@limit_options
@json_option
def pull_command(
    provider: str,
    out: str | None,
    refresh: str | None,
    sheet: str,
    force: bool,
    base_url: str | None,
    state_path: str,
    rate: float | None,
    concurrency: int | None,
    timeout: float,
    limits: ClientLimits,
    as_json: bool,
) -> None:
    """Export every record the provider holds as a catalog sheet `apply` takes back unchanged.

    The columns are the template's, with the provider's id column filled, every cell stored as
    text, the header frozen with notes and dropdowns. A pulled .xlsx/.ods remembers what was
    pulled in a hidden sheet `_catalog_sync`. JoggAI cannot be listed: its sheet holds the
    products the state database knows for the key's account (whoami). An existing FILE is refused
    (exit 2) without --force.

    After you apply your edits (or a colleague edits remotely), `--refresh FILE` brings a pulled
    .xlsx up to date in place: per cell, one nobody edited takes the provider's value, an edit the
    provider now holds joins the base, and an edit not applied yet (or a conflict) is left as it
    is; a row you added and applied gets its id. It never adds rows. A .csv has no base and an .ods
    would lose what you added: both are refused (exit 2).

    \b
    Example:
      catalog-sync pull -p royalti -o products.xlsx
      catalog-sync pull -p keevault -o products.ods --sheet Licences
      catalog-sync pull -p jogg -o products.csv
      catalog-sync pull -p royalti -o products.xlsx --force   # over the file pulled last week
      catalog-sync pull -p royalti --refresh products.xlsx    # after `apply products.xlsx`
    """
    from catalog_sync.run import Target

    if (out is None) == (refresh is None):
        raise click.UsageError("give -o FILE (a new pull) or --refresh FILE (a pulled workbook), not both")
    if refresh is not None and force:
        raise click.UsageError(
            "--force goes with -o: --refresh rewrites only a pulled workbook's base and unedited cells"
        )
    target = Target(provider, base_url, Path(state_path), rate, concurrency, timeout, limits)
    if refresh is not None:
        explicit = click.get_current_context().get_parameter_source("sheet") != ParameterSource.DEFAULT
        _refresh(target, Path(refresh), sheet if explicit else None, as_json)
    else:
        _pull(target, Path(str(out)), sheet, force, as_json)


def _pull(target: Target, out: Path, sheet: str, force: bool, as_json: bool) -> None:
    from rich.console import Console

    from catalog_sync.run.pull import PullRequest, run_pull

    provider = target.provider
    outcome = run_pull(PullRequest(target, out, sheet, force=force))
    for note in outcome.notes:
        click.echo(f"Note: {note}", err=True)
    if as_json:
        body = {
            "provider": provider,
            "records": outcome.records,
            "path": str(outcome.path),
            "base_url": outcome.base_url,
        }
        click.echo(json.dumps(body, indent=2))
    else:
        Console(soft_wrap=False).print(
            f"Pulled {outcome.records} record(s) from {provider} ({outcome.base_url}) into {outcome.path}",
            markup=False,
        )


def _refresh(target: Target, path: Path, sheet: str | None, as_json: bool) -> None:
    from rich.console import Console

    from catalog_sync.run.refresh import RefreshRequest, run_refresh

    outcome = run_refresh(RefreshRequest(target, path, sheet))
    for note in outcome.notes:
        click.echo(f"Note: {note}", err=True)
    if as_json:
        body = {
            "provider": outcome.provider,
            "path": str(outcome.path),
            "base_url": outcome.base_url,
            **outcome.counts(),
            "gone_ids": outcome.gone,
        }
        click.echo(json.dumps(body, indent=2))
        return
    Console(soft_wrap=False).print(
        f"Refreshed {outcome.path} from {outcome.provider} ({outcome.base_url}): "
        f"{outcome.refreshed} cell(s) nobody edited now show the provider's value, "
        f"{outcome.caught_up} applied edit(s) joined the base, {outcome.ids_filled} added row(s) got their id; "
        f"{outcome.kept} cell(s) kept as your edits not applied yet (or conflicts): the next plan shows them",
        markup=False,
    )


#: What the command imports when it runs, loaded first with the collector paused (``cli.main.load_paused``).
LOADS = ("rich.console", "catalog_sync.run.pull")

COMMANDS: list[click.Command] = [pull_command]
