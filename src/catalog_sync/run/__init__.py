"""Runs: the sync as library calls the CLI, cron ``run`` jobs and tests share (:mod:`catalog_sync.run.sync`)."""

from catalog_sync.run.sync import (
    ApplyHooks,
    ApplyOutcome,
    ApplyRequest,
    PlanOutcome,
    PlanRequest,
    Target,
    run_apply,
    run_plan,
)

__all__ = [
    "ApplyHooks",
    "ApplyOutcome",
    "ApplyRequest",
    "PlanOutcome",
    "PlanRequest",
    "Target",
    "run_apply",
    "run_plan",
]
