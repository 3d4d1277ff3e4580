"""Thread-safe token bucket and the retry delay policy (exponential backoff, full jitter).

One :class:`RateLimiter` per provider instance paces every request (or only writes, for
JoggAI whose limit counts POSTs) across all worker threads.  A caller reserves a slot under
the lock and sleeps outside it, so N threads sharing a bucket at rate r send at most r
requests per second overall, with at most ``burst`` at once.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter", "backoff_delay", "parse_retry_after"]


class RateLimiter:
    """Token bucket: ``rate`` tokens per second, ``burst`` capacity; ``rate=None`` means unlimited."""

    def __init__(
        self,
        rate: float | None,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive (requests per second) or None for unlimited")
        self.rate = rate
        self.burst = max(1, int(burst))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._last = clock()

    def acquire(self) -> float:
        """Take one token, sleeping until it is available; returns the time waited (s)."""
        if self.rate is None:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1.0  # a negative balance is a reservation behind earlier callers
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date); ``None`` if absent/bad."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff: uniform(0, min(cap, base * 2**(attempt-1)))."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return (rng or random).uniform(0, ceiling)
