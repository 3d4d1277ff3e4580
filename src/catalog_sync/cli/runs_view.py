"""What ``catalog-sync runs`` does once it runs: read the ledger and render (``runs_cmd`` only
declares the options, so ``runs --help`` imports none of this)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from catalog_sync.errors import ConfigError
from catalog_sync.state import Ledger
from catalog_sync.text import safe_text

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


def run_runs(
    run_id: int | None,
    provider: str | None,
    state_path: str,
    limit: int,
    resolve: str | None,
    as_json: bool,
    base_url: str | None = None,
) -> None:
    """The runs command's work (see ``runs_cmd``)."""
    if not Path(state_path).exists():
        raise ConfigError(f"no state database at {state_path}; nothing has run with this --state yet")
    with Ledger(state_path) as ledger:
        if resolve is not None:
            if provider is None:
                raise click.UsageError("--resolve-unknown needs -p/--provider")
            _resolve(ledger, provider, resolve, base_url)
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
    console = Console(soft_wrap=False)
    if not runs:
        console.print("No runs recorded yet.")
    for run in runs:
        _render_run_lines(run, console)


def _exit_style(exit_code: Any) -> str:
    return "green" if exit_code == 0 else ("yellow" if exit_code in (4, 5, 7) else "red")


def _what(run: dict[str, Any]) -> str:
    """``run labels`` for a cron job's run, else the command; then provider and mode."""
    name = f"run {run['job']}" if run.get("job") else str(run["command"])
    return f"{name}  {run['provider']} {run['mode'] or ''}".rstrip()


def _render_run_lines(run: dict[str, Any], console: Console) -> None:
    """One run as a short block (readable in 80 columns; long paths fold onto the next line)."""
    exit_code = run["exit_code"]
    head = Text(safe_text(f"{run['id']:>4}  {str(run['started_at']).replace('T', ' ')[:19]}  {_what(run)}  "))
    head.append("exit " + ("-" if exit_code is None else safe_text(exit_code)), style=_exit_style(exit_code))
    head.append(safe_text(f"  ({_took(run)})"))
    console.print(head, overflow="fold")
    counts = _counts(run["counts"], statuses_only=run["command"] == "apply") or "no rows"
    requests = run["requests"] if run["requests"] is not None else "?"
    lines = [f"{counts} · {requests} request(s)"]
    if run.get("report"):
        lines.append(f"report {run['report']}")
    sha = run.get("catalog_sha256")
    if sha or run.get("tool_version"):
        short = f"sheet sha256 {str(sha)[:16]}…" if sha else "sheet sha256 -"
        lines.append(f"{short}  catalog-sync {run.get('tool_version') or '?'}")
    for line in lines:
        console.print(Text("      " + safe_text(line)), overflow="fold")


def _status(run: dict[str, Any]) -> dict[str, Any]:
    """The run as JSON, with ``status``: finished, interrupted or running (not finished yet)."""
    if run.get("stopped") == "interrupted":
        status = "interrupted"
    else:
        status = "finished" if run.get("finished_at") else "running"
    return {**run, "status": status}


def _resolve(ledger: Ledger, provider: str, key: str, base_url: str | None) -> None:
    """Forget the unknown create of ``key`` of one account at one base URL (``--base-url``, else the
    provider's own; the account of the credentials in use: JoggAI asks ``whoami``)."""
    from catalog_sync.run.target import connect

    with connect(provider, base_url=base_url) as client:
        scope = client.ledger_scope
    with ledger.locked("runs --resolve-unknown"):
        count = ledger.resolve_unknown(scope, key)
    for note in ledger.notes:
        click.echo(f"Note: {note}", err=True)
    where = f"{scope.base_url} (account {scope.account})"
    if not count:
        elsewhere = [
            f"{url} (account {account or 'none'})" for url, account in ledger.unknown_scopes(provider, key)
        ]
        hint = (
            f"; it is recorded at {', '.join(elsewhere)}: pass that --base-url, with that account's credentials"
            if elsewhere
            else ""
        )
        raise ConfigError(f"no unknown outcome with key {key!r} for {provider} at {where}{hint}")
    click.echo(
        f"Forgot {count} unknown outcome(s) for {key!r} at {where}; the next apply there may create it."
    )


def _render_run(run: dict[str, Any], outcomes: list[dict[str, Any]]) -> None:
    console = Console(soft_wrap=False)
    stopped = ", interrupted" if run.get("stopped") == "interrupted" else ""
    title = f"Run {run['id']}: {_what(run)}, exit {run['exit_code']}{stopped}"
    console.print(Text(safe_text(title), style="bold"), overflow="fold")
    details = [
        ("catalog", run.get("catalog")),
        ("sheet sha256", run.get("catalog_sha256")),
        ("started", run.get("started_at")),
        ("took", _took(run)),
        ("counts", _counts(run["counts"]) or "no rows"),
        ("requests", run.get("requests")),
        ("report", run.get("report")),
        ("catalog-sync", run.get("tool_version")),
    ]
    for name, value in details:
        if value not in (None, ""):
            console.print(Text(safe_text(f"  {name}: {value}")), overflow="fold")
    names = ("row", "key", "action", "status", "remote_id", "changed", "error_code", "error")
    table = Table(*(Column(n, overflow="fold") for n in names), header_style="bold")
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
