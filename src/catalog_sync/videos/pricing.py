"""What a JoggAI video costs: 1 credit per 2 minutes of video, at least 1 (``QuickStart/Pricing.mdx``).

Credits are taken when the create request is processed, not when the video completes, so the
cost of a run is known before anything is sent.
"""

from __future__ import annotations

import math

__all__ = ["credits_for"]

SECONDS_PER_CREDIT = 120


def credits_for(length_seconds: float) -> float:
    """Credits one video of ``length_seconds`` takes (every documented length, 15/30/60 s, costs 1)."""
    return float(max(1, math.ceil(float(length_seconds) / SECONDS_PER_CREDIT)))
