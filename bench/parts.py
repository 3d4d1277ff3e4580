"""The remote figures' measurements: :mod:`bench.remote`'s functions, with their answers read into
the keys :mod:`bench.figures` reads (``ours`` / ``sequential`` runs for plan, rates for apply,
the share of R for pacing) beside the keys they return.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench import remote, saved_plan
from bench.sizes import Sizes


def _plan(sizes: Sizes) -> dict[str, Any]:
    r = remote.bench_plan_read(records=sizes.plan_rows)
    return {**r, "ours": {"seconds": r["plan_process_s"]}, "sequential": {"seconds": r["plain_read_s"]}}


def _plan_fast(sizes: Sizes) -> dict[str, Any]:
    r = remote.bench_plan_fast(records=sizes.plan_rows)
    return {**r, "ours": {"seconds": r["plan_process_s"]}, "sequential": {"seconds": r["plain_read_s"]}}


def _plan_saved(sizes: Sizes) -> dict[str, Any]:
    r = saved_plan.bench_plan_saved(records=sizes.plan_rows)
    return {**r, "ours": r["plan_saved"], "shown": r["plan"]}


def _apply(sizes: Sizes) -> dict[str, Any]:
    r = remote.bench_apply_capacity(updates=sizes.updates, latency_ms=sizes.latency_ms, clients=8)
    rates = {"ours_writes_per_s": r["apply_rows_per_s"], "plain_per_s": r["plain_rows_per_s"]}
    return {**r, **rates, "ours_per_s": r["apply_process_rows_per_s"]}


def _pacing(sizes: Sizes) -> dict[str, Any]:
    r = remote.bench_paced_apply(limit_rps=sizes.rps, updates=sizes.pacing_updates)
    return {**r, "share_of_r": r["share_of_limit"], "achieved_rps": r["requests_per_s"]}


#: figure → (the bench.remote function measuring it, how to call it and read its answer)
REMOTE: dict[str, tuple[str, Callable[[Sizes], dict[str, Any]]]] = {
    "plan": ("bench_plan_read", _plan),
    "plan-fast": ("bench_plan_fast", _plan_fast),
    "plan-saved": ("bench_plan_saved", _plan_saved),
    "apply": ("bench_apply_capacity", _apply),
    "pacing": ("bench_paced_apply", _pacing),
}


def measure_remote(figure: str, sizes: Sizes) -> tuple[dict[str, Any], str]:
    """Measure remote ``figure``: the result and the function it came from."""
    function, measure = REMOTE[figure]
    module = "bench.saved_plan" if function == "bench_plan_saved" else "bench.remote"
    return measure(sizes), f"{module}.{function}"
