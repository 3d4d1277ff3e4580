"""Carry a plan out: the executor (concurrency, retries, unknown outcomes), signals mid-run.

from catalog_sync.execute import execute, RunResult, RowOutcome
"""

from catalog_sync.execute.executor import RowOutcome, RunResult, execute

__all__ = ["RowOutcome", "RunResult", "execute"]
