"""Figures and their checks (a number beside its anchor and its target), as a rich table and JSON."""

from __future__ import annotations

import json
import operator
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_OPS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "<=": (operator.le, "≤"),
    ">=": (operator.ge, "≥"),
    "<": (operator.lt, "<"),
}


@dataclass(frozen=True)
class Target:
    """``value OP limit`` with a unit for display (``×``, ``s``, ``GB``, ``%``)."""

    op: str
    limit: float
    unit: str = "×"

    def met(self, value: float | None) -> bool | None:
        return None if value is None else _OPS[self.op][0](value, self.limit)

    @property
    def text(self) -> str:
        return f"{_OPS[self.op][1]} {_show(self.limit, self.unit)}"


@dataclass(frozen=True)
class Check:
    """One ratio of a figure: what ours did, what the anchor did, the value and its target."""

    name: str
    ours: str
    anchor: str
    value: float | None
    target: Target

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ours": self.ours,
            "anchor": self.anchor,
            "value": None if self.value is None else round(self.value, 4),
            "unit": self.target.unit,
            "target": self.target.text,
            "met": self.target.met(self.value),
        }


@dataclass
class Figure:
    """One figure of the issue: its size, status, measurements, checks and a note."""

    name: str
    title: str
    size: dict[str, Any]
    status: str = "measured"  # measured | refused | unavailable | failed
    measurements: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "status": self.status,
            "size": self.size,
            "measurements": self.measurements,
            "checks": [c.to_dict() for c in self.checks],
            "note": self.note,
        }


def _show(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{value * 100:.1f} %"
    if unit == "×":
        return f"{value:.2f}×" if value < 10 else f"{value:.1f}×"
    return f"{value:.2f} {unit}"


def write_json(
    path: Path, machine: dict[str, Any], options: dict[str, Any], figures: Iterable[Figure]
) -> None:
    data = {"machine": machine, "options": options, "figures": {f.name: f.to_dict() for f in figures}}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def render(figures: Iterable[Figure], machine: dict[str, Any]) -> None:
    """Print every check beside its anchor and target, then the figures' notes."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="catalog-sync bench", show_lines=False)
    for column in ("figure", "ours", "anchor", "ratio", "target", "met"):
        table.add_column(column, overflow="fold")
    notes = []
    for figure in figures:
        rows: list[Check | None] = [*figure.checks] or [None]
        for check in rows:
            if check is None:
                table.add_row(figure.title, figure.status, "", "", "", "")
                continue
            met = check.target.met(check.value)
            unknown = "n/a" if figure.status == "measured" else figure.status
            mark = {True: "[green]met[/]", False: "[red]missed[/]", None: f"[yellow]{unknown}[/]"}[met]
            table.add_row(
                f"{figure.title}: {check.name}",
                check.ours,
                check.anchor,
                _show(check.value, check.target.unit),
                check.target.text,
                mark,
            )
        if figure.note:
            notes.append(f"[bold]{figure.name}[/] ({figure.status}): {figure.note}")
    console = Console(width=None if sys.stdout.isatty() else 160)  # piped to a file: keep rows whole
    console.print(table)
    for note in notes:
        console.print(note, highlight=False)
    console.print(
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['ram_gb']} GB RAM, "
        f"Python {machine['python']}, commit {machine['commit']}",
        highlight=False,
    )
