"""Thread-safe token buckets (fixed and adaptive) and the retry delay policy (full jitter).

:class:`RateLimiter` is a fixed token bucket: a caller reserves a slot under the lock and
sleeps outside it, so N threads sharing a bucket at rate r send at most r requests per second
overall, with at most ``burst`` at once.  JoggAI's documented 20 POST/min is such a hard cap.

:class:`AdaptiveRateLimiter` is the same bucket with a fill rate that follows what the server
accepts, after the AWS SDKs' "adaptive" retry mode (a CUBIC rate controller, the measured send
rate, a cut on throttling): it starts at a safe rate, doubles it quickly while the server
accepts (slow start, capped at twice the rate actually measured, so a client that cannot send
faster does not inflate it), and on a 429/503 cuts it to ``beta`` times the rate measured when
the throttle came; it then climbs back along a cubic curve that is flat around that rate
(most of the time is spent just below it) before probing above it.  A ``ceiling`` (the user's
``--rate``) is never passed.  The provider client keeps one for reads and one for writes.
"""

from __future__ import annotations

import email.utils
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["AdaptiveRateLimiter", "RateLimiter", "backoff_delay", "parse_retry_after"]


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

    def set_rate(self, rate: float, *, reserved: bool = True) -> None:
        """Change the fill rate from now on (tokens earned so far are kept; ``reserved=False``
        also forgets the slots reserved by callers still waiting, and any tokens saved up)."""
        if rate <= 0:
            raise ValueError("rate must be positive (requests per second)")
        with self._lock:
            now = self._clock()
            if self.rate is not None:
                self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
            if not reserved:
                self._tokens = 0.0
            self._last = now
            self.rate = rate

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


class AdaptiveRateLimiter:
    """A token bucket whose fill rate adapts: slow start, then CUBIC after the first throttle.

    ``start``: the first rate (requests/s); ``ceiling``: never above it (``None``: no cap);
    ``floor``: never below it; ``burst``: requests that may leave at once (the first ones, and
    after a pause) before the rate paces them.  Call :meth:`acquire` before each request (note :meth:`now`
    when it leaves), then :meth:`on_success` or :meth:`on_throttle` with its answer.

    * The rate only climbs while the bucket is what holds the senders back (the last
      :meth:`acquire` had to wait): a client bounded by its concurrency or the server's latency
      does not inflate it.
    * One cut per throttling episode: a throttle answering a request sent before the last cut
      is counted but cuts nothing more (the requests already in flight were sent at the old rate).
    * The cut is from the rate the server accepted over the last second (not from a rate the
      bucket allowed but the server refused), so a slow start that overshot lands near the limit.
    """

    BETA = 0.7  # the cut on a throttle: the new rate is 70% of the rate accepted before it
    # CUBIC's C relative to the rate at the throttle, per s**3 (AWS's 0.4 at 10 requests/s is 0.04): a
    # tenth of it, the rate is back after ~4.2 s and stays within 2% of the refused rate for ~5 s, so
    # probes above the limit (each costs a 429) come half as often; see bench/pacing_sim.py
    SCALE = 0.004
    K = ((1 - BETA) / SCALE) ** (1 / 3)  # CUBIC: seconds after a cut until the rate is back where it was
    GROWTH = 0.25  # slow start: each accepted request raises the rate by 25% (a geometric climb)
    WINDOW = 1.0  # seconds over which the accepted rate is measured

    def __init__(
        self,
        start: float,
        *,
        ceiling: float | None = None,
        floor: float = 0.5,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if start <= 0 or (ceiling is not None and ceiling <= 0):
            raise ValueError("rates must be positive (requests per second)")
        self.ceiling = ceiling
        self.floor = min(floor, ceiling) if ceiling is not None else floor
        self.now = clock
        self._lock = threading.Lock()
        self._bucket = RateLimiter(self._bounded(start), burst, clock=clock, sleep=sleep)
        self._binding = False  # the last acquire waited for its token
        self._slow_start = True
        self._started = clock()
        self._w_max = self.rate  # CUBIC: the rate at the last throttle
        self._last_cut = -math.inf
        self._cuts = 0
        self._accepted: deque[float] = deque()  # when the answers of the last WINDOW seconds came
        self.throttles = 0

    @property
    def rate(self) -> float:
        """The current fill rate (requests per second)."""
        return float(self._bucket.rate or 0.0)

    def acquire(self) -> float:
        """Take one token, sleeping until it is available; returns the time waited (s).

        A cut while waiting forfeits the slot (it was reserved at the old rate): a new one is
        taken at the new rate."""
        waited = 0.0
        while True:
            cuts = self._cuts
            wait = self._bucket.acquire()
            waited += wait
            if self._cuts == cuts:
                self._binding = waited > 0
                return waited

    def on_success(self) -> None:
        """An answer the server accepted: raise the rate (slow start or the cubic curve)."""
        with self._lock:
            now = self.now()
            self._accepted.append(now)
            if self._slow_start:
                if self._binding:
                    self._set(self.rate * (1 + self.GROWTH))
                return
            wanted = self._w_max * (1 + self.SCALE * (now - self._last_cut - self.K) ** 3)
            if wanted < self.rate or self._binding:
                self._set(wanted)

    def on_throttle(self, sent_at: float | None = None) -> None:
        """A 429/503 to a request sent at ``sent_at`` (:meth:`now` then; default: now): cut the rate
        to ``BETA`` times the accepted rate, unless the request left before the last cut."""
        with self._lock:
            self.throttles += 1
            now = self.now()
            if sent_at is not None and sent_at < self._last_cut:
                return
            accepted = self._accepted_rate(now)
            sending = min(accepted, self.rate) if accepted > 0 else self.rate * self.BETA
            self._slow_start = False
            self._w_max = sending
            self._last_cut = now
            self._cuts += 1
            self._bucket.set_rate(self._bounded(sending * self.BETA), reserved=False)

    def _accepted_rate(self, now: float) -> float:
        """Answers accepted per second over the last WINDOW seconds (or since the start)."""
        while self._accepted and self._accepted[0] < now - self.WINDOW:
            self._accepted.popleft()
        span = min(self.WINDOW, now - self._started)
        return len(self._accepted) / span if span > 0 else 0.0

    def _bounded(self, rate: float) -> float:
        rate = max(self.floor, rate)
        return min(rate, self.ceiling) if self.ceiling is not None else rate

    def _set(self, rate: float) -> None:
        self._bucket.set_rate(self._bounded(rate))


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
