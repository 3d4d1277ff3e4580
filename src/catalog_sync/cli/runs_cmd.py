"""``catalog-sync runs``: the history of runs from the state database, and one run's row outcomes."""

from __future__ import annotations

import click

from catalog_sync.config.defaults import DEFAULT_STATE

from .options import PROVIDER_NAMES, json_option


@click.command("runs")
@click.argument("run_id", required=False, type=int)
@click.option(
    "-p", "--provider", type=click.Choice(PROVIDER_NAMES), default=None, help="Only this provider's runs."
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False),
    default=str(DEFAULT_STATE),
    show_default=True,
    help="State database to read.",
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many runs to list."
)
@click.option(
    "--resolve-unknown",
    "resolve",
    metavar="KEY",
    default=None,
    help="Forget an unknown create (JoggAI) whose key value is KEY, so the next apply may create it; only the "
    "account of the credentials in use (JOGG_API_KEY: one whoami request) at one base URL.",
)
@click.option(
    "--base-url",
    default=None,
    metavar="URL",
    help="With --resolve-unknown: the provider address the create was sent to (default: <PROVIDER>_BASE_URL, "
    "the config file, the provider's public address); unknowns elsewhere are kept.",
)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(("ok", "failed", "skipped", "conflict", "unknown")),
    help="With RUN_ID: only rows with this status (repeat for several).",
)
@click.option(
    "--all", "show_all", is_flag=True, help="With RUN_ID: list every row, unchanged and skipped ones too."
)
@json_option
def runs_command(
    run_id: int | None,
    provider: str | None,
    state_path: str,
    limit: int,
    resolve: str | None,
    base_url: str | None,
    statuses: tuple[str, ...],
    show_all: bool,
    as_json: bool,
) -> None:
    """List past runs (newest first), or the per-row outcomes of RUN_ID.

    Each run shows its id, start, job (for `catalog-sync run`), provider, mode, counts per
    status, requests sent, exit code, report, the catalog file's SHA-256 and the version.
    RUN_ID shows its counts (actions, then statuses) and the rows that matter: failed, conflict,
    unknown first, then those that changed something, at most 50 of each (the rest counted:
    "… and 2,950 more created"); unchanged and skipped rows are counted, not listed (`--all`
    lists every row, `--status` picks rows; `--json` has every row). A run killed before it
    finished shows the outcomes it recorded.

    \b
    Example:
      catalog-sync runs
      catalog-sync runs 12 --status failed --status conflict
      catalog-sync runs 12 --json
      catalog-sync runs -p jogg --resolve-unknown https://shop.example.com/products/blush
      catalog-sync runs -p jogg --resolve-unknown https://shop.example.com/p/1 --base-url http://127.0.0.1:8761
    """
    from catalog_sync.cli.runs_view import run_runs

    if (statuses or show_all) and run_id is None:
        raise click.UsageError("--status and --all show one run's rows: give a RUN_ID")
    run_runs(
        run_id, provider, state_path, limit, resolve, as_json, base_url, statuses=statuses, show_all=show_all
    )


COMMANDS: list[click.Command] = [runs_command]
