"""Royalti sandboxes for the remote figures: seeded from a catalog CSV, optionally rate-limited.

Records are put straight into the emulator's store, shaped as ``POST /product`` would have
made them (seeding a million through HTTP would take longer than the figure itself).
:class:`RateLimit` makes the sandbox answer ``429`` + ``Retry-After`` to every request
beyond ``rps`` requests per second (a token bucket holding a quarter second of requests),
counting what it accepted and refused and when, as the server saw it.
"""

from __future__ import annotations

import contextlib
import csv
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from catalog_sync.sandbox import FaultConfig, Sandbox
from catalog_sync.sandbox.base import Request, Response, Route
from catalog_sync.sandbox.royalti import NULL_FIELDS
from catalog_sync.spec import load_spec

BENCH_KEY = "RWAK_bench"
_STAMP = "2024-01-01T00:00:00.000Z"


def record_id(i: int) -> str:
    """The remote id of the ``i``-th (0-based) seeded record."""
    return f"bench-{i:07d}"


def royalti_products(catalog: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(id, product)`` for each row of ``catalog``, typed as the API returns them."""
    spec = load_spec("royalti")
    kinds = {f.name: f.type for f in spec.fields}
    with catalog.open(encoding="utf-8-sig", newline="") as f:
        for i, row in enumerate(csv.DictReader(f)):
            pid = record_id(i)
            product: dict[str, Any] = {"id": pid, "TenantId": 1, "isDraft": False, "type": "Audio"}
            product.update(dict.fromkeys(NULL_FIELDS))
            product.update({k: _typed(v, kinds.get(k)) for k, v in row.items() if v != "" and k != "id"})
            product.update(
                catalog=product.get("catalogNumber"), metadata={}, createdAt=_STAMP, updatedAt=_STAMP
            )
            yield pid, product


def _typed(value: str, kind: str | None) -> Any:
    if kind == "integer":
        return int(value)
    if kind == "boolean":
        return value.strip().lower() in ("1", "true", "yes")
    return value


@contextlib.contextmanager
def seeded_royalti(
    catalog: Path, *, latency_ms: float = 0.0, rate_limit: RateLimit | None = None
) -> Iterator[Sandbox]:
    """A running Royalti sandbox holding the rows of ``catalog`` (ids ``record_id(i)``)."""
    with Sandbox("royalti", api_key=BENCH_KEY, faults=FaultConfig(latency_ms=latency_ms), seed=1) as sb:
        store = sb.emulator.store
        with sb.emulator.lock:
            for pid, product in royalti_products(catalog):
                store.put("products", pid, product)
        if rate_limit is not None:
            rate_limit.install(sb)
        yield sb


def time_one_page(url: str, size: int = 100) -> float:
    """Seconds one ``GET /product`` page takes (best of two), to estimate a whole read."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {BENCH_KEY}"
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        session.get(f"{url}/product", params={"page": 1, "size": size}, timeout=600).raise_for_status()
        best = min(best, time.perf_counter() - started)
    return best


class RateLimit:
    """A token bucket in front of the emulator's routes: 429 + Retry-After beyond ``rps``."""

    def __init__(
        self,
        rps: float,
        *,
        burst_seconds: float = 0.25,
        retry_after: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rps = float(rps)
        self._clock = clock
        self.capacity = max(1.0, self.rps * burst_seconds)
        self.retry_after = retry_after
        self.accepted = 0
        self.refused = 0
        self._tokens = self.capacity
        self._last = clock()
        self.accepted_writes = 0
        self._write_times: list[float] = []
        self._lock = threading.Lock()

    def describe(self) -> str:
        return (
            f"token bucket of {self.rps:g} requests/s holding {self.capacity:g}; beyond it 429 with "
            f"Retry-After: {self.retry_after}"
        )

    def install(self, sandbox: Sandbox) -> None:
        """Check every API request of ``sandbox`` (after auth and the emulator's own limits)."""
        emulator = sandbox.emulator
        inner = emulator.before_route

        def before_route(req: Request, route: Route) -> Response | None:
            limited = inner(req, route)
            if limited is not None:
                return limited
            if self.take(write=route.write):
                return None
            return emulator.error(429, "Too many requests", retry_after=self.retry_after)

        emulator.before_route = before_route  # type: ignore[method-assign]

    def take(self, *, write: bool = False) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rps)
            self._last = now
            if self._tokens < 1.0:
                self.refused += 1
                return False
            self._tokens -= 1.0
            self.accepted += 1
            if write:
                self.accepted_writes += 1
                self._write_times = [self._write_times[0] if self._write_times else now, now]
            return True

    def achieved_write_rps(self) -> float | None:
        """Accepted writes per second between the first and the last accepted write (the sustained
        phase of an apply; the listing before it is a few pages)."""
        with self._lock:
            if len(self._write_times) < 2 or self.accepted_writes < 2:
                return None
            span = self._write_times[1] - self._write_times[0]
            return (self.accepted_writes - 1) / span if span > 0 else None
