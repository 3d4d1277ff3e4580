"""Human views of plans and runs (rich tables), shared by ``plan`` and ``apply``."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from catalog_sync.plan.model import ACTIONS, Plan
from catalog_sync.text import safe_text

__all__ = ["ACTION_STYLES", "render_plan", "render_summary", "summary_line"]

ACTION_STYLES = {
    "create": "green",
    "update": "yellow",
    "delete": "red",
    "conflict": "magenta",
    "skip": "dim",
    "unchanged": "dim",
}
_MAX = 60


def _short(value: str) -> str:
    text = repr(value)[1:-1] if any(not ch.isprintable() for ch in value) else value
    return text if len(text) <= _MAX else text[: _MAX - 1] + "…"


def summary_line(plan: Plan) -> str:
    counts = plan.summary
    parts = [
        f"{counts[a]} {a}"
        for a in ("create", "update", "delete", "conflict", "skip", "unchanged")
        if counts[a]
    ]
    return ", ".join(parts) or "nothing"


def render_plan(plan: Plan, console: Console, *, show_unchanged: bool = False) -> None:
    """A table per action (create, update, delete, conflict, skip), old → new per field."""
    for action in ACTIONS:
        changes = [c for c in plan.changes if c.action == action]
        if not changes or (action == "unchanged" and not show_unchanged):
            continue
        style = ACTION_STYLES[action]
        table = Table(
            title=Text(f"{action} ({len(changes)})", style=f"bold {style}"),
            title_justify="left",
            header_style="bold",
            show_lines=False,
        )
        for name in ("row", "key", "remote id", "fields / reason"):
            table.add_column(name, overflow="fold")
        for change in changes:
            if change.fields and action in ("create", "update", "skip"):
                lines = [
                    f"{name}: {_short(d['new'])}"
                    if action == "create"
                    else f"{name}: {_short(d['old']) or '∅'} → {_short(d['new']) or '∅'}"
                    for name, d in change.fields.items()
                ]
                detail = "\n".join(lines)
                if change.reason:
                    detail = f"{safe_text(change.reason)}\n{detail}"
            else:
                detail = safe_text(change.reason)
            table.add_row(
                "" if change.row is None else str(change.row),
                _short(change.key),
                safe_text(change.remote_id or ""),
                Text(detail),
            )
        console.print(table)
    for note in plan.notes:
        console.print(Text(f"note: {safe_text(note)}", style="yellow"))
    style = "green" if not plan.pending else "yellow"
    console.print(
        Text(
            f"Plan for {plan.provider} ({plan.mode}, blanks {plan.blanks}): {summary_line(plan)}", style=style
        )
    )


def render_summary(summary: dict[str, Any], console: Console, report: str | None = None) -> None:
    """The end-of-run summary: counts per action and status, requests, time, report path."""
    actions = ", ".join(f"{n} {a}" for a, n in summary["action"].items() if n)
    statuses = ", ".join(f"{n} {s}" for s, n in summary["status"].items() if n)
    bad = any(summary["status"].get(s) for s in ("failed", "unknown", "conflict"))
    console.print(
        Text(f"Run {summary['run_id']} ({summary['provider']}): {actions or 'no rows'}", style="bold")
    )
    console.print(Text(f"Status: {statuses or 'nothing'}", style="red" if bad else "green"))
    console.print(f"{summary['requests']} request(s) sent in {summary['seconds']:.1f} s")
    if summary.get("stopped"):
        console.print(Text(f"Stopped early: {summary['stopped']}", style="red"))
    if report:
        console.print(f"Report: {report}")
