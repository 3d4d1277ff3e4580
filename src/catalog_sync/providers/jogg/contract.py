"""What the provider contract suite runs against this provider's sandbox (see :class:`~catalog_sync.providers.info.Contract`)."""

from __future__ import annotations

from catalog_sync.providers.info import Contract

__all__ = ["CONTRACT"]

CONTRACT = Contract(
    row={
        "name": "Happy Booster Blush",
        "description": "Brush on a glow.",
        "target_audience": "Beauty fans",
        "media": "https://res.example.com/front.jpg | https://res.example.com/demo.MP4",
    },
    change={"description": "A radiant glow."},
    invalid={"name": "Bad media", "media": '[{"type": 3, "url": "https://res.example.com/x.gif"}]'},
    invalid_code=40000,
    create_path="POST /v2/product",
    read=lambda p: p.request("GET", "/v2/user/whoami"),
    test_key="jogg-test-key-0001",
)
