"""``catalog-sync runs``: the history of runs from the state database, and one run's row outcomes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from catalog_sync.errors import ConfigError
from catalog_sync.state import DEFAULT_STATE, Ledger
from catalog_sync.text import safe_text

from .options import PROVIDER_NAMES, json_option

_STATUS_STYLE = {"ok": "green", "failed": "red", "unknown": "yellow", "conflict": "magenta", "skipped": "dim"}


def _took(run: dict[str, Any]) -> str:
    """How long the run took; "interrupted" for a run stopped by a signal or found dead by a later run."""
    interrupted = run.get("stopped") == "interrupted"
    if not run.get("finished_at"):
        return "interrupted" if interrupted else "(not finished)"
    try:
        seconds = (
            dt.datetime.fromisoformat(run["finished_at"]) - dt.datetime.fromisoformat(run["started_at"])
        ).seconds
    except (TypeError, ValueError):  # a hand-edited date
        return "interrupted" if interrupted else "?"
    return f"{seconds} s, interrupted" if interrupted else f"{seconds} s"


def _t(value: Any) -> Text:
    """A cell read from the state database, without control characters (someone may have edited it)."""
    return Text(safe_text(value))


def _counts(counts: dict[str, dict[str, int]], *, statuses_only: bool = False) -> str:
    parts: list[str] = []
    for group in ("status",) if statuses_only else ("action", "status"):
        parts.extend(f"{n} {name}" for name, n in (counts.get(group) or {}).items() if n)
    return ", ".join(parts)


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
    help="Forget an unknown create (JoggAI) whose key value is KEY, so the next apply may create it.",
)
@json_option
def runs_command(
    run_id: int | None, provider: str | None, state_path: str, limit: int, resolve: str | None, as_json: bool
) -> None:
    """List past runs (newest first), or the per-row outcomes of RUN_ID.

    \b
    Example:
      catalog-sync runs
      catalog-sync runs 12 --json
      catalog-sync runs -p jogg --resolve-unknown https://shop.example.com/products/blush
    """
    if not Path(state_path).exists():
        raise ConfigError(f"no state database at {state_path}; nothing has run with this --state yet")
    with Ledger(state_path) as ledger:
        if resolve is not None:
            if provider is None:
                raise click.UsageError("--resolve-unknown needs -p/--provider")
            with ledger.locked("runs --resolve-unknown"):
                count = ledger.resolve_unknown(provider, None, resolve)
            if not count:
                raise ConfigError(f"no unknown outcome with key {resolve!r} for {provider}")
            click.echo(f"Forgot {count} unknown outcome(s) for {resolve!r}; the next apply may create it.")
            return
        if run_id is not None:
            run = ledger.run(run_id)
            if run is None:
                raise ConfigError(f"no run {run_id} in {state_path}")
            outcomes = ledger.outcomes(run_id)
            if as_json:
                click.echo(json.dumps({"run": _status(run), "rows": outcomes}, ensure_ascii=False, indent=2))
                return
            _render_run(run, outcomes)
            return
        runs = ledger.runs(limit=limit, provider=provider)
    if as_json:
        click.echo(json.dumps({"runs": [_status(r) for r in runs]}, ensure_ascii=False, indent=2))
        return
    table = Table(
        "id", "run", "catalog", "started (UTC)", "took", "counts", "req", "exit", header_style="bold"
    )
    for run in runs:
        exit_code = run["exit_code"]
        style = "green" if exit_code == 0 else ("yellow" if exit_code in (4, 7) else "red")
        table.add_row(
            _t(run["id"]),
            _t(f"{run['command']} {run['provider']} {run['mode'] or ''}".strip()),
            _t(Path(str(run["catalog"])).name if run["catalog"] else ""),
            _t(str(run["started_at"]).replace("T", " ")[:19]),
            _t(_took(run)),
            _t(_counts(run["counts"], statuses_only=run["command"] == "apply")),
            _t(run["requests"] if run["requests"] is not None else ""),
            Text("-" if exit_code is None else safe_text(exit_code), style=style),
        )
    Console(soft_wrap=False).print(table)


def _status(run: dict[str, Any]) -> dict[str, Any]:
    """The run as JSON, with ``status``: finished, interrupted or running (not finished yet)."""
    if run.get("stopped") == "interrupted":
        status = "interrupted"
    else:
        status = "finished" if run.get("finished_at") else "running"
    return {**run, "status": status}


def _render_run(run: dict, outcomes: list[dict]) -> None:
    console = Console(soft_wrap=False)
    stopped = ", interrupted" if run.get("stopped") == "interrupted" else ""
    console.print(
        Text(
            safe_text(
                f"Run {run['id']}: {run['command']} {run['provider']} {run['catalog'] or ''} "
                f"({run['mode']}), started {run['started_at']}, exit {run['exit_code']}{stopped}"
            ),
            style="bold",
        )
    )
    table = Table(
        "row", "key", "action", "status", "remote_id", "changed", "error_code", "error", header_style="bold"
    )
    for o in outcomes:
        table.add_row(
            _t(o["row"]),
            _t(o["key"]),
            _t(o["action"]),
            Text(safe_text(o["status"]), style=_STATUS_STYLE.get(str(o["status"]), "")),
            _t(o["remote_id"]),
            _t(o["changed"]),
            _t(o["error_code"]),
            _t(o["error"]),
        )
    console.print(table)


COMMANDS: list[click.Command] = [runs_command]
