"""The adaptive pacing on a simulated clock against a token-bucket server (issue 20 item 4).

The real figure (``python -m bench --only pacing``) is one run on a shared machine, where the
client's and the sandbox's CPU decide as much as the controller.  This runs
:class:`~catalog_sync.providers.ratelimit.AdaptiveRateLimiter` itself, unchanged, on a virtual
clock: ``workers`` senders, each answer ``latency`` seconds after it left, a server allowing
``R`` requests/s with a burst of one second's worth (the sandbox's ``--limit-rps``), a 429
holding its sender for its ``Retry-After`` (1 s) before the row is sent again.  It prints, per
case, the share of R written (first request to last answer) and the share of requests
answered 429, for the controller's constants as they are and for any given with ``--scale``,
``--beta``.

    .venv/bin/python -m bench.pacing_sim                 # the constants as they are
    .venv/bin/python -m bench.pacing_sim --scale 0.04    # a variant beside them
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import statistics
from dataclasses import dataclass

from catalog_sync.providers.ratelimit import AdaptiveRateLimiter


@dataclass(frozen=True)
class Case:
    limit: float  # the server's requests per second (burst: one second's worth)
    updates: int
    workers: int = 8
    latency: float = 0.03


def _controller(start: float, burst: int, clock: list[float], **constants: float) -> AdaptiveRateLimiter:
    cls: type[AdaptiveRateLimiter] = AdaptiveRateLimiter
    if constants:
        cls = type("Variant", (AdaptiveRateLimiter,), constants)
        cls.K = ((1 - cls.BETA) / cls.SCALE) ** (1 / 3)
    return cls(start, burst=burst, clock=lambda: clock[0], sleep=lambda _s: None)


def simulate(case: Case, start: float = 10.0, **constants: float) -> tuple[float, float]:
    """(share of the limit written, share of requests answered 429) of one run."""
    clock = [0.0]
    pacing = _controller(start, case.workers, clock, **constants)
    tokens, filled_at = case.limit, 0.0

    def admit(at: float) -> bool:
        nonlocal tokens, filled_at
        tokens = min(case.limit, tokens + (at - filled_at) * case.limit)
        filled_at = at
        if tokens >= 1:
            tokens -= 1
            return True
        return False

    todo, done, sent, refused = case.updates, 0, 0, 0
    order = itertools.count()
    events: list[tuple[float, int, str, tuple[float, int, float, bool]]] = []
    for _ in range(case.workers):
        heapq.heappush(events, (0.0, next(order), "next", (0.0, 0, 0.0, False)))
    first, last = None, 0.0
    while events:
        now, _n, kind, (began, cuts, waited, ok) = heapq.heappop(events)
        clock[0] = now
        if kind in ("next", "again"):
            if kind == "next":
                if not todo:
                    continue
                todo -= 1
            wait = pacing._bucket.acquire()  # the sleep is the event's delay
            heapq.heappush(events, (now + wait, next(order), "leave", (now, pacing._cuts, wait, False)))
        elif kind == "leave":
            if pacing._cuts != cuts:  # a cut while it waited: the slot is forfeit, a new one taken
                wait = pacing._bucket.acquire()
                heapq.heappush(
                    events, (now + wait, next(order), "leave", (began, pacing._cuts, waited + wait, False))
                )
                continue
            pacing._binding = waited > 0
            sent += 1
            first = now if first is None else first
            accepted = admit(now + case.latency / 2)
            heapq.heappush(
                events, (now + case.latency, next(order), "answer", (began, cuts, waited, accepted))
            )
        elif ok:
            pacing.on_success()
            done, last = done + 1, now
            heapq.heappush(events, (now, next(order), "next", (0.0, 0, 0.0, False)))
        else:
            pacing.on_throttle(began)
            refused += 1
            heapq.heappush(events, (now + 1.0, next(order), "again", (0.0, 0, 0.0, False)))
    span = last - (first or 0.0)
    return done / span / case.limit, refused / sent


CASES = [
    Case(limit, updates, workers, latency)
    for limit in (10, 20, 40, 100)
    for updates in (300, 1000, 3000)
    for workers in (4, 8)
    for latency in (0.005, 0.03)
    if workers / latency >= 1.5 * limit  # cases the concurrency, not the limit, would bound are left out
]


def summary(label: str, results: list[tuple[float, float]]) -> str:
    shares, throttled = [r[0] for r in results], [r[1] for r in results]
    at_40 = [r for c, r in zip(CASES, results, strict=True) if c.limit == 40 and c.updates == 1000]
    return (
        f"{label:22s} share of R: min {min(shares):.3f}, mean {statistics.mean(shares):.3f}; "
        f"429s: max {max(throttled):.2%}, mean {statistics.mean(throttled):.2%}; "
        f"R=40, 1,000 updates: " + ", ".join(f"{s:.0%}/{q:.1%}" for s, q in at_40)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, help="a variant's SCALE (CUBIC's C relative to the rate)")
    parser.add_argument("--beta", type=float, help="a variant's BETA (the cut)")
    args = parser.parse_args(argv)
    print(summary("as it is", [simulate(c) for c in CASES]))
    variant = {k.upper(): v for k, v in (("scale", args.scale), ("beta", args.beta)) if v is not None}
    if variant:
        label = ", ".join(f"{k}={v:g}" for k, v in variant.items())
        print(summary(label, [simulate(c, **variant) for c in CASES]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
