"""Jobs: the sync service the CLI, cron ``run`` jobs and tests share (:mod:`catalog_sync.jobs.sync`)."""

from catalog_sync.jobs.sync import (
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
