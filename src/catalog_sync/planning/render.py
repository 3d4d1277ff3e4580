"""Human views of plans and runs (rich tables), shared by ``plan`` and ``apply``."""

from __future__ import annotations

import itertools
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from catalog_sync.planning.model import ACTIONS, Change, Plan
from catalog_sync.spec import ProviderSpec, load_spec
from catalog_sync.text import KEY_WIDTH, safe_text, shorten_middle

__all__ = [
    "ACTION_STYLES",
    "render_failures",
    "render_plan",
    "render_summary",
    "render_warnings",
    "summary_line",
]

ACTION_STYLES = {
    "create": "green",
    "update": "yellow",
    "delete": "red",
    "conflict": "magenta",
    "protected": "cyan",
    "skip": "dim",
    "unchanged": "dim",
}
_MAX = 60


def _short(value: str, *, cut: bool = True) -> str:
    text = repr(value)[1:-1] if any(not ch.isprintable() for ch in value) else value
    return text if len(text) <= _MAX or not cut else text[: _MAX - 1] + "…"


def summary_line(plan: Plan) -> str:
    counts = plan.summary
    parts = [
        f"{counts[a]} {a}"
        for a in ("create", "update", "delete", "conflict", "skip", "unchanged")
        if counts[a]
    ]
    return ", ".join(parts) or "nothing"


#: Rows of each action the terminal shows by default (``--full`` shows all; ``--json`` is complete).
SHOWN_PER_ACTION = 20


def render_plan(plan: Plan, console: Console, *, show_unchanged: bool = False, full: bool = False) -> None:
    """A table per action (create, update, delete, conflict, skip), old → new per field.

    Big plans stay readable: the first :data:`SHOWN_PER_ACTION` rows of each action and a count of
    the rest, unless ``full``."""
    spec = load_spec(plan.provider)
    counts = plan.changes.counts()
    for action in ACTIONS:
        if not counts[action] or (action == "unchanged" and not show_unchanged):
            continue
        # the unchanged rows (most of a big plan) are made into changes only as far as they are shown
        among = plan.changes.transient() if action == "unchanged" else plan.changes.notable()
        of_action = (c for c in among if c.action == action)
        changes = list(of_action if full else itertools.islice(of_action, SHOWN_PER_ACTION))
        _render_action(console, spec, action, changes, counts[action])
    for note in plan.notes:
        console.print(Text(f"note: {safe_text(note)}", style="yellow"))
    style = "green" if not plan.pending else "yellow"
    console.print(
        Text(
            f"Plan for {plan.provider} ({plan.mode}, blanks {plan.blanks}): {summary_line(plan)}", style=style
        )
    )


def _render_action(
    console: Console, spec: ProviderSpec, action: str, changes: list[Change], total: int
) -> None:
    """One table per action: row, key, the record's name, then what changes.  A create is one line
    (the fields it sets, by name); the other actions list old → new per field."""
    table = Table(
        title=Text(f"{action} ({total:,})", style=f"bold {ACTION_STYLES[action]}"),
        title_justify="left",
        header_style="bold",
        show_lines=False,
    )
    table.add_column("row", no_wrap=True, min_width=3)
    one_line = action == "create"  # many creates: one line each (--json and --html have every value)
    wrap: dict[str, Any] = {"no_wrap": True, "overflow": "ellipsis"} if one_line else {"overflow": "fold"}
    keys = [_key_cell(change) for change in changes]  # shortened in the middle: the column keeps them whole
    widest = max((len(line) for key in keys for line in key.plain.split("\n")), default=0)
    table.add_column("key", min_width=max(18, min(widest, KEY_WIDTH + 2)), max_width=40, **wrap)
    table.add_column("name", min_width=12, max_width=40, **wrap)
    table.add_column("fields" if one_line else "fields / reason", max_width=32 if one_line else None, **wrap)
    for change, key in zip(changes, keys, strict=True):
        table.add_row(
            "" if change.row is None else str(change.row),
            key,
            Text(_short(spec.label_of(change.values))),
            Text(_detail(change, action)),
        )
    console.print(table)
    if total > len(changes):
        more = f"… and {total - len(changes):,} more {action} row(s): --full lists them all, --json gives everything"
        console.print(Text(more, style="dim"))


def _key_cell(change: Change) -> Text:
    """The key that matched, and the remote id when the key is not already it (a pulled sheet's rows
    are keyed by their id: shown once)."""
    key = shorten_middle(_short(change.key, cut=False))
    if change.remote_id and change.remote_id not in change.key:
        key += f"\n→ {shorten_middle(_short(change.remote_id, cut=False))}"
    return Text(key)


def _detail(change: Change, action: str) -> str:
    """The last column: for a create the fields it sets (one line), for an update old → new per
    field, else the reason; a three-way conflict names its cells, kept remote edits too."""
    lines: list[str] = []
    if change.reason:
        lines.append(safe_text(change.reason))
    if action == "create":
        set_fields = [name for name, d in change.fields.items() if d["new"]]
        return (
            f"{len(set_fields)} field(s): "
            + ", ".join(set_fields[:3])
            + (", …" if len(set_fields) > 3 else "")
        )
    if change.fields and action in ("update", "skip"):
        lines += [
            f"{name}: {_short(d['old']) or '∅'} → {_short(d['new']) or '∅'}"
            for name, d in change.fields.items()
        ]
    lines += [
        f"{name}: kept the remote's {_short(d['remote'])!r} (was {_short(d['old'])!r})"
        for name, d in change.remote_changed.items()
    ]
    lines += [
        f"{name}: held, {_short(d.get('new', ''))!r} not sent ({d.get('policy', '')})"
        for name, d in change.held.items()
    ]
    return "\n".join(lines)


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


#: Rows that did not go through listed after a run (the report has them all).
SHOWN_FAILURES = 20


def render_failures(rows: list[dict[str, Any]], console: Console, report: str | None = None) -> None:
    """The rows that failed, are unknown or in conflict: row, key, status, error (the first 20)."""
    bad = [r for r in rows if r.get("status") in ("failed", "unknown", "conflict")]
    if not bad:
        return
    table = Table(
        title=Text(f"not done ({len(bad):,})", style="bold red"), title_justify="left", header_style="bold"
    )
    for name in ("row", "key", "status", "error"):
        table.add_column(name, overflow="fold")
    for row in bad[:SHOWN_FAILURES]:
        table.add_row(
            "" if row.get("row") is None else str(row["row"]),
            shorten_middle(_short(str(row.get("key") or ""), cut=False)),
            str(row.get("status")),
            Text(safe_text(row.get("error") or "")),
        )
    console.print(table)
    if len(bad) > SHOWN_FAILURES:
        where = f" in {report}" if report else " in the report"
        console.print(Text(f"… and {len(bad) - SHOWN_FAILURES:,} more{where}", style="dim"))


#: Warnings shown in full before a plan (the rest are counted per code; ``validate`` lists all).
SHOWN_WARNINGS = 5


def render_warnings(problems: list[Any], console: Console) -> None:
    """The catalog's validation warnings: a count per code, then the first few in full."""
    if not problems:
        return
    counts: dict[str, int] = {}
    for problem in problems:
        counts[problem.code] = counts.get(problem.code, 0) + 1
    per_code = ", ".join(f"{n} {code}" for code, n in counts.items())
    console.print(Text(f"{len(problems)} warning(s) in the catalog: {per_code}", style="yellow"))
    for problem in problems[:SHOWN_WARNINGS]:
        where = problem.cell or (f"row {problem.row}" if problem.row else problem.sheet or "")
        console.print(Text(f"  {where} {problem.code}: {safe_text(problem.message)}", style="yellow"))
    if len(problems) > SHOWN_WARNINGS:
        console.print(Text(f"  … `catalog-sync validate` lists all {len(problems)}", style="dim"))
