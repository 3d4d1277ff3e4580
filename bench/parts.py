"""Where the generator and the remote measurements come from: ``bench.generate`` / ``bench.remote``
when present, else the stand-ins of :mod:`bench._fallback`.

``bench.remote`` (issue 10 items 4-5) names its functions and keys its own way; each
:class:`RemoteWay` says how to call one and how to read its answer into the keys the
figures read (those of :mod:`bench._fallback`), so the harness works before and after it lands.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from bench import _fallback

if TYPE_CHECKING:
    from bench.figures import Sizes

Args = Callable[["Sizes", Path], dict[str, Any]]
Adapt = Callable[[dict[str, Any]], dict[str, Any]]


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"bench.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"bench.{name}":  # the module is there but needs something missing: say so
            raise
        return None


def generator() -> Callable[..., Any]:
    """``make_catalog(provider, rows, path, changed_share=0.0, seed=0)``."""
    module = _module("generate")
    return getattr(module, "make_catalog", None) or _fallback.make_catalog


def source(name: str) -> str:
    """``bench.<name>`` when that module is present, else ``bench._fallback``."""
    return f"bench.{name}" if _module(name) is not None else "bench._fallback"


@dataclass(frozen=True)
class RemoteWay:
    """One function measuring a remote figure: its name, its keyword arguments, its answer's reading."""

    function: str
    arguments: Args
    adapt: Adapt


def _same(result: dict[str, Any]) -> dict[str, Any]:
    return result


def _run(seconds: Any) -> dict[str, Any] | None:
    return None if seconds is None else {"seconds": float(seconds), "returncode": 0}


def _plan_from_remote(r: dict[str, Any]) -> dict[str, Any]:
    return {**r, "ours": _run(r.get("plan_process_s")), "sequential": _run(r.get("plain_read_s"))}


def _apply_from_remote(r: dict[str, Any]) -> dict[str, Any]:
    out = {**r, "ours": {"returncode": 0}, "plain_per_s": r.get("plain_rows_per_s")}
    out.update(ours_per_s=r.get("apply_process_rows_per_s"), ours_writes_per_s=r.get("apply_rows_per_s"))
    return out


def _pacing_from_remote(r: dict[str, Any]) -> dict[str, Any]:
    out = {**r, "ours": {"returncode": 0}, "share_of_r": r.get("share_of_limit")}
    out.update(achieved_rps=r.get("writes_per_s"))
    return out


#: figure → the ways to measure it, preferred first (``bench.remote``'s, then the fallback's).
REMOTE: dict[str, tuple[RemoteWay, ...]] = {
    "plan": (
        RemoteWay("bench_plan_read", lambda s, w: {"records": s.plan_rows}, _plan_from_remote),
        RemoteWay(
            "plan_vs_sequential_read",
            lambda s, w: {
                "rows": s.plan_rows,
                "workdir": w,
                "changed_share": s.changed_share,
                "budget_s": s.plan_budget_s,
            },
            _same,
        ),
    ),
    "apply": (
        RemoteWay(
            "bench_apply_capacity",
            lambda s, w: {"updates": s.updates, "latency_ms": s.latency_ms, "clients": 8},
            _apply_from_remote,
        ),
        RemoteWay(
            "apply_vs_plain_clients",
            lambda s, w: {"updates": s.updates, "workdir": w, "latency_ms": s.latency_ms, "clients": 8},
            _same,
        ),
    ),
    "pacing": (
        RemoteWay(
            "bench_paced_apply",
            lambda s, w: {"limit_rps": s.rps, "updates": s.pacing_updates},
            _pacing_from_remote,
        ),
        RemoteWay(
            "adaptive_pacing_share",
            lambda s, w: {"rps": s.rps, "updates": s.pacing_updates, "workdir": w},
            _same,
        ),
    ),
}


def measure_remote(figure: str, sizes: Sizes, work: Path) -> tuple[dict[str, Any], str]:
    """Measure remote ``figure`` the preferred way available; the result and where it came from."""
    remote = _module("remote")
    for way in REMOTE[figure]:
        for module, name in ((remote, "bench.remote"), (_fallback, "bench._fallback")):
            fn = getattr(module, way.function, None) if module is not None else None
            if callable(fn):
                return way.adapt(fn(**way.arguments(sizes, work))), f"{name}.{way.function}"
    raise LookupError(f"no way to measure {figure}")  # pragma: no cover - the fallback has them all
