"""How big each figure of the bench is."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Sizes"]


@dataclass(frozen=True)
class Sizes:
    """How big each figure is (``python -m bench --help`` sets them)."""

    rows: int = 1_000_000  # validate
    big_rows: int = 10_000_000  # validate-10m: the out-of-core engine
    plan_rows: int = 1_000_000  # plan: rows and remote records
    plan_big_rows: int = 10_000_000  # plan-10m: rows and remote records, the out-of-core engine
    changed_share: float = 0.01
    xlsx_rows: int = 100_000
    updates: int = 1_000
    latency_ms: float = 50.0
    rps: float = 40.0
    pacing_updates: int = 400
    help_repeats: int = 3
    timeout_s: float = 3600.0  # per child process
