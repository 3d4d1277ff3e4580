"""Settling a video create whose answer was lost: look for it, never create it again.

Credits are taken when JoggAI processes a create, so a second create of a video that exists
spends them twice.  A create is recorded in the ledger (``sending``) before it is sent; when its
answer is lost (or the run died), the video is looked for in ``GET /v2/product_videos``
(newest first): one created from the time it was sent (give or take ``CLOCK_SKEW``), whose title
is the name sent (when one was), whose product is the entry's (when the list says), and that no
other ledger entry holds.  Found: the entry gets its id.  Not found: it stays ``unknown`` and is
looked for again by the next run; only ``--force`` creates it again.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any

from catalog_sync.state import Ledger, LedgerVideo

__all__ = ["CLOCK_SKEW", "OPEN", "find_lost_videos"]

#: Seconds the provider's clock may differ from ours (and a create may take to be processed).
CLOCK_SKEW = 300.0
#: Ledger statuses of a create whose outcome is not known.
OPEN = ("sending", "unknown")
PAGE_SIZE = 100


def _sent_time(entry: LedgerVideo) -> float | None:
    try:
        return _dt.datetime.fromisoformat(entry.sent_at).timestamp()
    except ValueError:
        return None


def _created(item: dict[str, Any]) -> float | None:
    value = item.get("created_at")
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            try:
                return _dt.datetime.fromisoformat(value).timestamp()
            except ValueError:
                return None
    return None


def _matches(entry: LedgerVideo, item: dict[str, Any], sent: float | None) -> bool:
    """Whether listed video ``item`` can be the one ``entry`` asked for."""
    if "product_id" in item and str(item["product_id"]) != entry.product_id:
        return False
    if entry.name and str(item.get("title") or "") != entry.name:
        return False
    created = _created(item)
    return sent is None or created is None or abs(created - sent) <= CLOCK_SKEW


def _listed_since(client: Any, oldest: float | None) -> Iterable[dict[str, Any]]:
    """Listed videos, newest first, until the list reaches ``oldest`` (less the clock skew)."""
    page = 1
    while page <= client.max_pages:
        videos, total = client.list_videos_page(page, PAGE_SIZE)
        yield from videos
        created = [c for c in (_created(v) for v in videos) if c is not None]
        done = not videos or (total is not None and page * PAGE_SIZE >= total)
        if done or (oldest is not None and created and min(created) < oldest - CLOCK_SKEW):
            return
        page += 1


def find_lost_videos(client: Any, ledger: Ledger, entries: list[LedgerVideo]) -> dict[int, dict[str, Any]]:
    """Ledger entry id → the listed video found for it (entries not found are left out)."""
    if not entries:
        return {}
    known = {v.video_id for v in ledger.videos(client.name, client.base_url) if v.video_id}
    sent = {e.id: _sent_time(e) for e in entries}
    times = [t for t in sent.values() if t is not None]
    oldest = min(times) if len(times) == len(entries) else None
    newest_first = sorted(entries, key=lambda e: -(sent[e.id] or 0.0))  # as the list is ordered
    found: dict[int, dict[str, Any]] = {}
    for item in _listed_since(client, oldest):
        video_id = client.usable_id(item.get("id", item.get("video_id")))
        if video_id is None or video_id in known:
            continue
        for entry in newest_first:
            if entry.id not in found and _matches(entry, item, sent[entry.id]):
                found[entry.id] = {**item, "id": video_id}
                known.add(video_id)
                break
        if len(found) == len(entries):
            break
    return found
