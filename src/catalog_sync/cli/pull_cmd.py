"""``catalog-sync pull``: what the provider holds as a sheet that ``apply`` takes back unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .options import json_option, provider_option
from .sync_options import connection_options, limit_options

if TYPE_CHECKING:
    from catalog_sync.providers.base import ClientLimits


@click.command("pull")
@provider_option
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="The sheet to write: .xlsx, .ods (with the hidden base for three-way merges) or .csv.",
)
@click.option("--sheet", default="Products", show_default=True, help="Name of the worksheet.")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists (it may hold your edits).")
@connection_options
@limit_options
@json_option
def pull_command(
    provider: str,
    out: str,
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

    \b
    Example:
      catalog-sync pull -p royalti -o products.xlsx
      catalog-sync pull -p keevault -o products.ods --sheet Licences
      catalog-sync pull -p jogg -o products.csv
      catalog-sync pull -p royalti -o products.xlsx --force   # over the file pulled last week
    """
    from rich.console import Console

    from catalog_sync.run import Target
    from catalog_sync.run.pull import PullRequest, run_pull

    target = Target(provider, base_url, Path(state_path), rate, concurrency, timeout, limits)
    outcome = run_pull(PullRequest(target, Path(out), sheet, force=force))
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


COMMANDS: list[click.Command] = [pull_command]
