"""Carry plans out: the executor, settling of interrupted writes, and the per-row report.

from catalog_sync.apply import execute, RunResult, RowOutcome
"""

from catalog_sync.apply.executor import RowOutcome, RunResult, execute

__all__ = ["RowOutcome", "RunResult", "execute"]
