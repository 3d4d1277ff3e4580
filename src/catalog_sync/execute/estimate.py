"""How long a plan's writes will take, said before they are sent.

Two things bound a run: a pace it never exceeds (a provider's hard limit, JoggAI's 20 POST a
minute, or the user's ``--rate``) and the round trips themselves, measured while the remote side
was read, spread over the client's concurrency.  The estimate is the larger of the two.  A run that
is short is not worth a line; one of :data:`LONG_RUN_SECONDS` or more is shown by ``plan``, before
the apply prompt, and in a cron job's output and log.

    estimate = estimate_writes(plan, client)
    if estimate is not None and estimate.is_long:
        print(estimate.text())    # "about 10 min (200 writes at most 20 a minute: JoggAI's limit)"
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catalog_sync.planning.model import Plan
    from catalog_sync.providers.base import Provider

__all__ = ["LONG_RUN_SECONDS", "Estimate", "duration_text", "estimate_writes"]

#: From how long a run's estimate is shown.
LONG_RUN_SECONDS = 60.0


@dataclass(frozen=True)
class Estimate:
    """The expected duration of a plan's writes, and what sets it."""

    writes: int
    seconds: float
    #: what sets the duration: ``at most 20 a minute: JoggAI's limit`` or the round trips measured
    reason: str = ""

    @property
    def is_long(self) -> bool:
        return self.seconds >= LONG_RUN_SECONDS

    def text(self) -> str:
        """``about 10 min (200 write(s) at most 20 a minute: JoggAI's limit)``."""
        why = f"{self.writes:,} write(s)" + (f" {self.reason}" if self.reason else "")
        return f"about {duration_text(self.seconds)} ({why})"

    def to_dict(self) -> dict[str, Any]:
        return {"writes": self.writes, "seconds": round(self.seconds, 1), "text": self.text()}


def estimate_writes(plan: Plan, client: Provider) -> Estimate | None:
    """The estimate for ``plan``'s writes through ``client`` (None when it sends nothing)."""
    writes = plan.writes
    if not writes:
        return None
    cap = client.pacing.write_cap
    capped = max(0, len(writes) - getattr(client.pacing.writes, "burst", 1)) / cap if cap else 0.0
    latency = client.stats.latency
    trips = sum(_round_trips(change.action, client) for change in writes)
    measured = trips * latency / client.concurrency if latency is not None else 0.0
    if cap and capped >= measured:
        source = "--rate" if client.rate != client.default_rate else f"{client.title or client.name}'s limit"
        return Estimate(len(writes), capped, f"at most {_pace(cap)}: {source}")
    if latency is not None:
        reason = f"{latency * 1000:,.0f} ms a round trip, {client.concurrency} at a time"
        return Estimate(len(writes), measured, reason)
    return Estimate(len(writes), 0.0)


def _round_trips(action: str, client: Provider) -> int:
    """A create is one request; an update or delete also re-reads its record first where the API
    can look one up (the write gate's check that nothing changed since the plan), unless the re-reads
    are listings shared by many writes (Keevault's lookup, Royalti's look at what changed)."""
    shared = client.lookup_lists_all or client.lists_changes
    reread = action != "create" and client.can_lookup and not shared
    return 2 if reread else 1


def _pace(per_second: float) -> str:
    per_minute = per_second * 60
    if per_minute < 120:
        return f"{per_minute:g} a minute" if per_minute == int(per_minute) else f"{per_minute:.1f} a minute"
    return f"{per_second:g} a second"


def duration_text(seconds: float) -> str:
    """``45 s``, ``10 min``, ``2 h 5 min``: rounded up, as a person says it."""
    if seconds < 60:
        return f"{math.ceil(seconds)} s"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
