"""Fault knobs of the sandbox and the seeded dice that apply them.

One :class:`FaultConfig` says how often each fault happens; one :class:`FaultInjector`
rolls a ``random.Random(seed)`` under a lock, so the same seed and the same request order
give the same faults.  Faults apply to API paths only, never to ``/_sandbox/*``.

``limit_rps`` is not a dice roll but a server-side limit like a real API's: a token bucket of
``limit_rps`` requests per second (``limit_burst`` at once, default one second's worth) shared
by all clients; a request beyond it is answered 429 with a ``Retry-After`` of the whole
seconds until the next token (at least 1), nothing applied.

Order in which a request meets them (see ``server.py``): latency, dropped connection
(closed before processing, nothing applied), the ``limit_rps`` limit, 429 with
``Retry-After``, 500/503 error
(nothing applied), then the request is processed, then lost answer (the change IS applied;
502 from a "proxy" or the connection closes) and slow body (answer trickled in chunks).
"""

from __future__ import annotations

import dataclasses
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from catalog_sync.config.defaults import LOST_ANSWER_MODES

__all__ = ["LOST_ANSWER_MODES", "FaultConfig", "FaultDecision", "FaultInjector", "RequestLimit"]


_RATES = (
    "error_rate",
    "rate_limit_rate",
    "drop_rate",
    "lost_answer_rate",
    "slow_body_rate",
    "bad_signature_rate",
)


def _among(method: str, listed: str) -> bool:
    """Whether ``method`` is one of the comma-separated ``listed`` methods ("" lists them all)."""
    methods = {m.strip().upper() for m in listed.split(",") if m.strip()}
    return not methods or method.upper() in methods


@dataclass
class FaultConfig:
    """How often each fault happens (rates are probabilities 0..1 per API request)."""

    latency_ms: float = 0.0  # fixed delay before every API answer
    jitter_ms: float = 0.0  # plus a uniform random 0..jitter_ms
    error_rate: float = 0.0  # 500 or 503 (half each), nothing applied
    error_methods: str = ""  # only requests of these methods get those errors ("DELETE"); "" = all
    rate_limit_rate: float = 0.0  # 429 with Retry-After, nothing applied
    retry_after: int = 1  # seconds, in the Retry-After header of 429 and 503
    drop_rate: float = 0.0  # connection closed before processing: no answer, nothing applied
    lost_answer_rate: float = 0.0  # processed (change applied), then the answer is lost
    lost_answer_mode: str = "both"  # "502" (a proxy's Bad Gateway), "close" (socket closed), "both"
    lost_answer_methods: str = ""  # only requests of these methods lose their answer ("POST,PUT"); "" = all
    slow_body_rate: float = 0.0  # answer body trickled in chunks
    slow_chunk_bytes: int = 64
    slow_chunk_delay_ms: float = 20.0
    bad_signature_rate: float = 0.0  # keevault only: envelope altered after signing
    limit_rps: float = 0.0  # requests per second allowed (all API paths, all clients); 0 = no limit
    limit_burst: float = 0.0  # requests allowed at once beyond that pace; 0 = limit_rps (one second's worth)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the knob when a value is out of range."""
        for name in _RATES:
            value = getattr(self, name)
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
        for name in (
            "latency_ms",
            "jitter_ms",
            "slow_chunk_delay_ms",
            "retry_after",
            "limit_rps",
            "limit_burst",
        ):
            if not 0 <= float(getattr(self, name)) < math.inf:  # nan/inf would crash time.sleep
                raise ValueError(f"{name} must be a finite number >= 0, got {getattr(self, name)!r}")
        if int(self.slow_chunk_bytes) < 1:
            raise ValueError(f"slow_chunk_bytes must be >= 1, got {self.slow_chunk_bytes!r}")
        if self.lost_answer_mode not in LOST_ANSWER_MODES:
            raise ValueError(
                f"lost_answer_mode must be one of {', '.join(LOST_ANSWER_MODES)}, got {self.lost_answer_mode!r}"
            )

    def loses_answer_of(self, method: str) -> bool:
        """Whether a request of ``method`` may lose its answer (``lost_answer_methods``)."""
        return _among(method, self.lost_answer_methods)

    def errors_on(self, method: str) -> bool:
        """Whether a request of ``method`` may be answered 500/503 (``error_methods``)."""
        return _among(method, self.error_methods)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def updated(self, changes: dict[str, Any]) -> FaultConfig:
        """A copy with ``changes`` applied (types coerced); ValueError on unknown knobs or bad values."""
        known = {f.name: f for f in fields(self)}
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError(f"unknown fault knob(s): {', '.join(unknown)}; known: {', '.join(known)}")
        values = self.to_dict()
        for name, value in changes.items():
            kind = known[name].type
            try:
                if kind in ("float", float):
                    values[name] = float(value)
                elif kind in ("int", int):
                    values[name] = int(value)
                else:
                    values[name] = str(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name}: not a valid value: {value!r}") from exc
        return FaultConfig(**values)


@dataclass
class FaultDecision:
    """What the dice said for one request."""

    delay_s: float = 0.0
    drop: bool = False
    rate_limited: bool = False
    error_status: int | None = None
    lost_answer: str | None = None  # "502" | "close"
    slow_body: bool = False
    bad_signature: bool = False


class RequestLimit:
    """The server's own limit: a token bucket of ``rate`` requests/s holding ``burst`` (thread-safe)."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = float(rate)
        self.burst = max(1.0, float(burst or rate))
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._last = clock()

    def admit(self) -> float | None:
        """``None`` when the request is within the limit (a token is taken), else the seconds
        until the next token."""
        if self.rate <= 0:
            return None
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return None
            return (1.0 - self._tokens) / self.rate


class FaultInjector:
    """Thread-safe, seeded fault dice."""

    def __init__(self, config: FaultConfig | None = None, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._config = config or FaultConfig()
        self._seed = seed
        self._rng = random.Random(seed)
        self._limit = self._new_limit(self._config)

    @staticmethod
    def _new_limit(config: FaultConfig) -> RequestLimit:
        return RequestLimit(config.limit_rps, config.limit_burst)

    def over_limit(self) -> float | None:
        """Seconds until ``limit_rps`` lets a request through when it does not now, else ``None``."""
        with self._lock:
            limit = self._limit
        return limit.admit()

    @property
    def config(self) -> FaultConfig:
        with self._lock:
            return self._config

    @property
    def seed(self) -> int | None:
        return self._seed

    def set(self, changes: dict[str, Any]) -> FaultConfig:
        """Change knobs (``seed`` re-seeds the dice); returns the new config."""
        changes = dict(changes)
        seed_given = "seed" in changes
        seed = changes.pop("seed", None)
        new = self.config.updated(changes)
        with self._lock:
            if (new.limit_rps, new.limit_burst) != (self._config.limit_rps, self._config.limit_burst):
                self._limit = self._new_limit(new)
            self._config = new
            if seed_given:
                self._seed = None if seed is None else int(seed)
                self._rng = random.Random(self._seed)
        return new

    def roll(self) -> FaultDecision:
        """Decide the faults of one API request (always the same number of draws per request)."""
        with self._lock:
            c, r = self._config, self._rng
            draws = [r.random() for _ in range(8)]
        d = FaultDecision()
        d.delay_s = (c.latency_ms + draws[0] * c.jitter_ms) / 1000.0
        d.drop = draws[1] < c.drop_rate
        d.rate_limited = not d.drop and draws[2] < c.rate_limit_rate
        if not d.drop and not d.rate_limited and draws[3] < c.error_rate:
            d.error_status = 500 if draws[4] < 0.5 else 503
        if draws[5] < c.lost_answer_rate:
            mode = c.lost_answer_mode
            d.lost_answer = mode if mode != "both" else ("502" if draws[4] < 0.5 else "close")
        d.slow_body = draws[6] < c.slow_body_rate
        d.bad_signature = draws[7] < c.bad_signature_rate
        return d
