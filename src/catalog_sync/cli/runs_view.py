"""What ``catalog-sync runs`` does once it runs: read the ledger and render (``runs_cmd`` only
declares the options, so ``runs --help`` imports none of this)."""

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
from catalog_sync.state import Ledger
from catalog_sync.state.runs import ACTION_ORDER, STATUS_ORDER
from catalog_sync.text import safe_text, shorten_middle

_STATUS_STYLE = {"ok": "green", "failed": "red", "unknown": "yellow", "conflict": "magenta", "skipped": "dim"}


def _took(run: dict[str, Any]) -> str:
    """How long the run took; "interrupted" for a run stopped by a signal or found dead by a later run."""
    interrupted = run.get("stopped") == "interrupted"
    if not run.get("finished_at"):
        return "interrupted" if interrupted else f"({_state(run)}, not finished)"
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


def _counts_line(counts: dict[str, Any]) -> str:
    """``2 update, 4 unchanged → 6 ok``: the actions planned, then the statuses they ended in."""
    actions, statuses = _group(counts, "action"), _group(counts, "status")
    if isinstance(counts.get("pulled"), int):
        return f"{counts['pulled']:,} pulled"
    if actions and statuses:
        return f"{actions} → {statuses}"
    return actions or statuses or "no rows"


def run_runs(
    run_id: int | None,
    provider: str | None,
    state_path: str,
    limit: int,
    resolve: str | None,
    as_json: bool,
    base_url: str | None = None,
    *,
    statuses: tuple[str, ...] = (),
    show_all: bool = False,
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
            outcomes = ledger.outcomes(run_id, statuses=statuses)
            if as_json:
                click.echo(json.dumps({"run": _status(run), "rows": outcomes}, ensure_ascii=False, indent=2))
                return
            _render_run(run, outcomes, filtered=bool(statuses), show_all=show_all)
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
    counts = _counts_line(run["counts"])
    requests = f"{run['requests']} request(s)" if run.get("requests_counted", True) else _requests(run)
    lines = [f"{counts} · {requests}"]
    if run.get("report"):
        lines.append(f"report {run['report']}")
    sha = run.get("catalog_sha256")
    if sha or run.get("tool_version"):
        short = f"sheet sha256 {str(sha)[:16]}…" if sha else "sheet sha256 -"
        lines.append(f"{short}  catalog-sync {run.get('tool_version') or '?'}")
    if run.get("account"):
        lines.append(f"account {run['account']} at {run['base_url']}")
    for line in lines:
        console.print(Text("      " + safe_text(line)), overflow="fold")


def _status(run: dict[str, Any]) -> dict[str, Any]:
    """The run as JSON, with ``status``: finished, interrupted, running, or killed (gone without
    closing its record: its counts are the outcomes it recorded)."""
    data = {k: v for k, v in run.items() if k != "alive"}
    return {**data, "status": _state(run)}


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


#: What ``runs RUN_ID`` lists by default: rows that did not go through, and rows that changed
#: something.  The rest (unchanged, skipped) are counted.
_NOT_DONE = ("failed", "conflict", "unknown")
_CHANGED = ("create", "update", "delete")


#: At most this many rows of each kind are listed by default (a 3,000-create run is 50 lines and a count).
MAX_LISTED = 50
_DONE_WORDS = {"create": "created", "update": "updated", "delete": "deleted"}


def _matters(outcome: dict[str, Any]) -> bool:
    return outcome["status"] in _NOT_DONE or (outcome["status"] == "ok" and outcome["action"] in _CHANGED)


def _kind(outcome: dict[str, Any]) -> str:
    """What a row that matters is listed as: its status when it did not go through, else what it did."""
    status = str(outcome["status"])
    return status if status in _NOT_DONE else _DONE_WORDS.get(str(outcome["action"]), status)


def _capped(outcomes: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The rows that matter, those that did not go through first, at most :data:`MAX_LISTED` of each
    kind; and how many of each kind are left out."""
    order = [*_NOT_DONE, *_DONE_WORDS.values()]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for o in outcomes:
        if _matters(o):
            by_kind.setdefault(_kind(o), []).append(o)
    kinds = sorted(by_kind, key=lambda k: order.index(k) if k in order else len(order))
    listed = [o for k in kinds for o in by_kind[k][:MAX_LISTED]]
    return listed, {k: len(by_kind[k]) - MAX_LISTED for k in kinds if len(by_kind[k]) > MAX_LISTED}


def _render_run(
    run: dict[str, Any], outcomes: list[dict[str, Any]], *, filtered: bool, show_all: bool
) -> None:
    """One run: what it was, its counts (actions, then statuses), then its rows that matter."""
    console = Console(soft_wrap=False)
    title = f"Run {run['id']}: {_what(run)}, exit {run['exit_code'] if run['exit_code'] is not None else '-'}"
    title += f" ({_state(run)})" if _state(run) != "finished" else ""
    console.print(Text(safe_text(title), style="bold"), overflow="fold")
    for name, value in _details(run):
        if value not in (None, ""):
            console.print(Text(safe_text(f"  {name}: {value}")), overflow="fold")
    listed, more = (outcomes, {}) if filtered or show_all else _capped(outcomes)
    if listed:
        console.print(_outcome_table(listed))
    for kind, count in more.items():
        console.print(Text(f"… and {count:,} more {kind} (--all lists them)", style="dim"), overflow="fold")
    left = _counted_not_listed(outcomes, listed, sum(more.values()))
    if left:
        console.print(
            Text(f"Not listed: {left} (--all lists every row, --status STATUS picks rows)", style="dim"),
            overflow="fold",
        )
    elif not listed and run.get("command") == "plan" and not outcomes:
        console.print(Text("A plan records no row outcomes: plan again, or see its report.", style="dim"))
    elif not listed:
        console.print(Text("No rows" + (" with that status." if filtered else "."), style="dim"))


def _details(run: dict[str, Any]) -> list[tuple[str, Any]]:
    counts = run["counts"]
    return [
        ("catalog", run.get("catalog")),
        ("at", run.get("base_url")),
        ("account", run.get("account")),
        ("sheet sha256", run.get("catalog_sha256")),
        ("started", run.get("started_at")),
        ("took", _took(run)),
        ("actions", _group(counts, "action") or ("no rows" if counts.get("action") is not None else "")),
        ("statuses", _group(counts, "status")),
        ("pulled", (counts.get("pulled") if isinstance(counts.get("pulled"), int) else None)),
        ("requests", _requests(run)),
        ("report", run.get("report")),
        ("catalog-sync", run.get("tool_version")),
    ]


def _group(counts: dict[str, Any], group: str) -> str:
    """``1 create, 2 update``: one group of a run's counts, in the order a plan shows them."""
    values = counts.get(group)
    if not isinstance(values, dict):
        return ""
    order = ACTION_ORDER if group == "action" else STATUS_ORDER
    names = [*(n for n in order if n in values), *sorted(n for n in values if n not in order)]
    return ", ".join(f"{values[n]:,} {n}" for n in names if isinstance(values[n], int) and values[n])


def _requests(run: dict[str, Any]) -> str:
    if run.get("requests_counted", True):
        return "" if run.get("requests") is None else str(run["requests"])
    return f"not counted (the run did not finish); {run.get('requests') or 0} write(s) sent"


def _state(run: dict[str, Any]) -> str:
    """finished, interrupted (Ctrl+C, SIGTERM), running, or killed (gone without closing its record)."""
    if run.get("stopped") == "interrupted":
        return "interrupted"
    if run.get("finished_at"):
        return "finished"
    return "running" if run.get("alive") else "killed"


def _outcome_table(outcomes: list[dict[str, Any]]) -> Table:
    table = Table(header_style="bold")
    table.add_column("row", no_wrap=True)
    table.add_column("key", overflow="fold", max_width=36)
    table.add_column("outcome", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for o in outcomes:
        outcome = Text(safe_text(f"{o['action']} ") if o["action"] != o["status"] else "")
        outcome.append(safe_text(o["status"]), style=_STATUS_STYLE.get(str(o["status"]), ""))
        table.add_row(
            _t(o["row"] if o["row"] is not None else ""),
            _t(shorten_middle(safe_text(o["key"]))),
            outcome,
            _t(_detail(o)),
        )
    return table


def _detail(outcome: dict[str, Any]) -> str:
    """The error of a row that did not go through; else what it changed (a create: its new id)."""
    if outcome.get("error") or outcome.get("error_code"):
        code = outcome.get("error_code") or ""
        code = f"{code}: " if code and code != outcome["status"] else ""
        return f"{code}{outcome.get('error') or ''}"
    if outcome["action"] in ("create", "delete"):
        return f"id {outcome['remote_id']}" if outcome.get("remote_id") else ""
    return ", ".join(name for name in str(outcome.get("changed") or "").split(";") if name)


def _counted_not_listed(outcomes: list[dict[str, Any]], listed: list[dict[str, Any]], capped: int = 0) -> str:
    """``2,990 unchanged, 3 skipped``: the rows of the run that are not in the table, by kind (rows
    that matter but were left out, ``capped`` of them, are counted by :func:`_capped`'s lines)."""
    if len(listed) + capped == len(outcomes):
        return ""
    shown = {id(o) for o in listed}
    counts: dict[str, int] = {}
    for o in outcomes:
        if id(o) not in shown and not _matters(o):
            kind = "unchanged" if o["action"] == "unchanged" else str(o["status"])
            counts[kind] = counts.get(kind, 0) + 1
    return ", ".join(f"{n:,} {kind}" for kind, n in counts.items())
