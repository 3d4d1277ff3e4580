"""Waiting for videos: ``GET /v2/product_video/{id}`` on JoggAI's recommended schedule.

GetResult.mdx: first poll after 10–15 s, every 10 s for a minute, then every 30 s, then every
60 s (product videos take 5–10 min).  Each video follows the schedule from when the wait starts.
The clock and the sleep are injected (:class:`Waiter`), so a test moves time on instead of
waiting for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FINAL", "PROVIDER_SCHEDULE", "Schedule", "Waiter", "Watched"]

#: Statuses a video does not leave.
FINAL = ("completed", "failed")


@dataclass(frozen=True)
class Schedule:
    """Seconds between polls: ``first``, then ``fast`` for ``fast_for`` seconds, ``medium`` until
    ``medium_until`` seconds after creation, then ``slow``."""

    first: float = 12.0
    fast: float = 10.0
    fast_for: float = 60.0
    medium: float = 30.0
    medium_until: float = 300.0
    slow: float = 60.0

    def delays(self) -> Iterator[float]:
        """The waits before each poll of one video, from its creation (endless)."""
        elapsed = self.first
        yield self.first
        while elapsed < self.first + self.fast_for:
            elapsed += self.fast
            yield self.fast
        while elapsed < self.medium_until:
            elapsed += self.medium
            yield self.medium
        while True:
            yield self.slow


#: JoggAI's recommended schedule (GetResult.mdx).
PROVIDER_SCHEDULE = Schedule()


@dataclass
class Watched:
    """One video being waited for: its id, its schedule, when it is polled next, what it last said."""

    key: Any
    video_id: str
    delays: Iterator[float]
    due: float
    status: dict[str, Any] = field(default_factory=dict)


@dataclass
class Waiter:
    """Polls videos until each is completed or failed (or answered against the contract: polling
    again would not help), or ``timeout`` seconds have passed.

    ``sleep`` and ``clock`` are injectable (defaults: :func:`time.sleep`, :func:`time.monotonic`).
    """

    schedule: Schedule = PROVIDER_SCHEDULE
    timeout: float = 1800.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def wait(
        self,
        videos: dict[Any, str],
        poll: Callable[[str], dict[str, Any]],
        on_status: Callable[[Any, dict[str, Any]], None] = lambda key, status: None,
    ) -> dict[Any, dict[str, Any]]:
        """Poll ``videos`` (key → video id) with ``poll(video_id)`` until every one is final or the
        time is up; ``on_status(key, status)`` sees every answer.  Returns key → last status
        (``{}`` for a video never polled)."""
        start = self.clock()
        watched = []
        for key, video_id in videos.items():
            delays = self.schedule.delays()
            watched.append(Watched(key, video_id, delays, start + next(delays)))
        pending = list(watched)
        while pending:
            due = min(w.due for w in pending)
            if due - start > self.timeout:
                break
            now = self.clock()
            if due > now:
                self.sleep(due - now)
            now = self.clock()
            for item in [w for w in pending if w.due <= now]:
                item.status = poll(item.video_id)
                on_status(item.key, item.status)
                if item.status.get("status") in FINAL or item.status.get("contract"):
                    pending.remove(item)
                else:
                    item.due = now + next(item.delays)
        return {w.key: w.status for w in watched}
