"""``catalog-sync run [JOB…]``: the jobs of ``catalog-sync.toml`` (what cron calls).

Parses, calls :func:`catalog_sync.run.jobs.run_jobs`, renders one line per job; the job logic
(config, reports, alerts, log) is library code in :mod:`catalog_sync.run.jobs`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from catalog_sync.config.credentials import CONFIG_FILE, redact
from catalog_sync.text import safe_text

from .options import json_option

if TYPE_CHECKING:  # imported when the command runs: --help needs none of them
    from rich.console import Console

    from catalog_sync.run.jobs import JobResult, RunOutcome


def _style(code: int) -> str:
    return "green" if code == 0 else ("yellow" if code in (4, 5) else "red")


def _report_errors(result: JobResult) -> None:
    """The job's error and any alert that could not be sent, on stderr."""
    if result.error:
        click.echo(f"Error: job {result.job}: {redact(result.error)}", err=True)
    for attempt in result.alerts:
        if not attempt.sent:
            click.echo(
                f"Warning: job {result.job}: alert to {attempt.url} not sent: {attempt.error}", err=True
            )
    if result.alert_note:
        click.echo(f"Warning: job {result.job}: {result.alert_note}", err=True)


def render_results(outcome: RunOutcome, console: Console) -> None:
    """One line per job: job, provider, counts, exit code, report (wrapped to the console width)."""
    from rich.table import Table
    from rich.text import Text

    from catalog_sync.run.jobs import counts_text

    table = Table("job", "provider", "counts", "exit", "report", header_style="bold", box=None)
    for r in outcome.results:
        table.add_row(
            Text(safe_text(r.job), overflow="fold"),
            Text(safe_text(r.provider)),
            Text(safe_text(counts_text(r.counts) or r.outcome), overflow="fold"),
            Text(str(r.exit_code), style=_style(r.exit_code)),
            Text(safe_text(r.report or "-"), overflow="fold"),
        )
    console.print(table)


@click.command("run")
@click.argument("jobs", nargs=-1, metavar="[JOB]...")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=CONFIG_FILE,
    show_default=True,
    help="The jobs file; relative paths in it are relative to it.",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Append one JSON object per job run (job, provider, times, exit code, counts, report, requests).",
)
@json_option
def run_command(jobs: tuple[str, ...], config_path: str, log_file: str | None, as_json: bool) -> None:
    """Run the jobs of catalog-sync.toml (all of them, or the JOBs named), one after another.

    Each job applies its catalog without asking (like apply --yes), writes a timestamped
    report into its reports folder and keeps the newest keep_reports. The exit code is the
    highest of its jobs' (0 ok, 1 could not run, 3 invalid catalog, 4 rows failed, 5 locked,
    6 a limit stopped it).

    \b
    Example:
      catalog-sync run
      catalog-sync run labels --config /etc/catalog-sync/catalog-sync.toml --log-file runs.jsonl
    """
    from rich.console import Console

    from catalog_sync.config.jobs import load_run_config
    from catalog_sync.run.jobs import run_jobs

    config = load_run_config(Path(config_path))
    unknown = [name for name in jobs if name not in config.jobs]
    if unknown:
        raise click.BadParameter(
            f"no job {', '.join(unknown)} in {config_path}; its jobs are: {', '.join(config.jobs)}",
            param_hint="JOB",
        )
    outcome = run_jobs(
        config,
        jobs,
        log_file=Path(log_file) if log_file else None,
        on_result=_report_errors,
        on_estimate=_say_estimate,
    )
    if as_json:
        payload = {"exit_code": outcome.exit_code, "jobs": [r.as_dict() for r in outcome.results]}
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        render_results(outcome, Console(soft_wrap=False))
    raise click.exceptions.Exit(outcome.exit_code)


def _say_estimate(result: JobResult) -> None:
    """A long job says how long before its writes are sent (stderr: cron mails it, a log keeps it)."""
    if result.estimate is not None and result.estimate.is_long:
        click.echo(f"{result.job}: {result.provider} will take {result.estimate.text()}", err=True)


#: What the command imports when it runs, loaded first with the collector paused (``cli.main.load_paused``).
LOADS = ("rich.console", "catalog_sync.config.jobs", "catalog_sync.run.jobs")

COMMANDS: list[click.Command] = [run_command]
