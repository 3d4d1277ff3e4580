"""Settling a video create whose answer was lost: look for it, never create it blindly again.

Credits are taken when JoggAI processes a create, so a second create of a video that exists
spends them twice.  A create is recorded in the ledger (``sending``) before it is sent; when its
answer is lost (or the run died), the video is looked for in ``GET /v2/product_videos``
(newest first): one created from the time it was sent (give or take ``CLOCK_SKEW``), whose title
is the name sent (when one was), whose product is the entry's (when the list says), and that no
other ledger entry holds.  Found: the entry gets its id.

Not found: when the look-up covered the whole window around the send (it read back past the
send, to the end of the list or to a video older than it) *and* the send is well behind us (the
list holds a video created more than ``CLOCK_SKEW`` after it, or it was sent more than
``SETTLE_WINDOW`` seconds ago), the create never reached JoggAI: the entry is ``not-created``
(no credit) and the row is created again.  Otherwise it stays ``unknown`` and the next run looks
again (``--retry-unknown`` creates it again on the user's word).  A listed video of the entry's
product whose ``created_at`` cannot be trusted (milliseconds, far future, an ISO time without a
zone) means "cannot tell": the entry stays ``unknown``, never created again on a guess.

The look-up is bounded: at most ``SETTLE_MAX_PAGES`` pages (the wanted video is among the
newest), and it stops at a page that repeats videos already seen, a page without a usable
``total``, or a short or empty page.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from catalog_sync.providers.jogg.client import JoggProvider
from catalog_sync.state import Ledger, LedgerVideo

__all__ = [
    "CLOCK_SKEW",
    "EARLIEST",
    "NOT_CREATED",
    "OPEN",
    "SETTLE_MAX_PAGES",
    "SETTLE_WINDOW",
    "Settled",
    "find_lost_videos",
]

#: Seconds the provider's clock may differ from ours (and a create may take to be processed).
CLOCK_SKEW = 300.0
#: Seconds after its send a create not in the list is taken as never having reached JoggAI.
SETTLE_WINDOW = 2 * CLOCK_SKEW
#: Ledger statuses of a create whose outcome is not known.
OPEN = ("sending", "unknown")
#: Ledger status of a create the video list shows never reached JoggAI (no video, no credit).
NOT_CREATED = "not-created"
PAGE_SIZE = 100
#: Pages of the video list one settle reads at most (100 videos a page, newest first).
SETTLE_MAX_PAGES = 10


def _sent_time(entry: LedgerVideo) -> float | None:
    try:
        return _dt.datetime.fromisoformat(entry.sent_at).timestamp()
    except ValueError:
        return None


#: The earliest creation time a listed video can plausibly have (JoggAI's API is younger).
EARLIEST = _dt.datetime(2016, 1, 1, tzinfo=_dt.UTC).timestamp()
#: Seconds ahead of this machine's clock past which a creation time is not a clock's skew but nonsense.
FUTURE = 86400.0


class Implausible(float):
    """A ``created_at`` that says nothing usable: milliseconds, far in the future or the past, or an
    ISO time without a zone (whose zone cannot be told).  A video with one cannot be told apart from
    the one a lost create made: the entry stays ``unknown``, never created again on a guess."""


def _created(item: dict[str, Any], now: float | None = None) -> float | None:
    """The listed video's creation time in epoch seconds, None when it has none, or an
    :class:`Implausible` when the value cannot be trusted."""
    value = item.get("created_at")
    if value is None or isinstance(value, bool):
        return None
    seconds = _seconds(value)
    if seconds is None:
        return Implausible("nan")
    latest = (time.time() if now is None else now) + FUTURE
    return seconds if EARLIEST <= seconds <= latest else Implausible(seconds)


def _seconds(value: Any) -> float | None:
    """Epoch seconds of a number or an ISO time with a zone (None: not one of those)."""
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = _dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.timestamp() if when.tzinfo is not None else None  # no zone: cannot tell which


def _candidate(entry: LedgerVideo, item: dict[str, Any]) -> bool:
    """Whether listed video ``item`` is of ``entry``'s product and name (its time aside)."""
    if "product_id" in item and str(item["product_id"]) != entry.product_id:
        return False
    return not (entry.name and str(item.get("title") or "") != entry.name)


def _matches(entry: LedgerVideo, item: dict[str, Any], sent: float | None) -> bool:
    """Whether listed video ``item`` can be the one ``entry`` asked for."""
    if not _candidate(entry, item):
        return False
    created = _created(item)
    if isinstance(created, Implausible):
        return False  # cannot tell: find_lost_videos keeps the entry unknown
    return sent is None or created is None or abs(created - sent) <= CLOCK_SKEW


@dataclass
class _Scan:
    """What one read of the video list saw: the oldest and newest creation times, and whether it
    read back far enough to say a video sent at or after ``oldest`` would have been seen."""

    complete: bool = False
    newest: float | None = None
    pages: int = 0
    seen: set[str] = field(default_factory=set)

    def note(self, created: list[float]) -> None:
        if created:
            self.newest = max(created) if self.newest is None else max(self.newest, *created)


def _listed_since(client: JoggProvider, oldest: float | None, scan: _Scan) -> Iterator[dict[str, Any]]:
    """Listed videos, newest first, until the list reaches ``oldest`` (less the clock skew), ends,
    repeats itself, stops saying how many it holds, or ``SETTLE_MAX_PAGES`` pages were read."""
    for page in range(1, min(SETTLE_MAX_PAGES, client.max_pages) + 1):
        videos, total = client.list_videos_page(page, PAGE_SIZE)
        scan.pages = page
        ids = {str(v.get("id", v.get("video_id"))) for v in videos}
        if ids and ids <= scan.seen:
            return  # the same page again: a list that does not page
        scan.seen |= ids
        yield from videos
        created = [
            c for c in (_created(v) for v in videos) if c is not None and not isinstance(c, Implausible)
        ]
        scan.note(created)
        if len(videos) < PAGE_SIZE or (total is not None and page * PAGE_SIZE >= total):
            scan.complete = True  # the end of the list
            return
        if oldest is not None and created and min(created) < oldest - CLOCK_SKEW:
            scan.complete = True  # read back past every send looked for
            return
        if total is None:
            return  # a full page without a number of videos: cannot tell whether more follow


@dataclass
class Settled:
    """Entry id → the listed video found for it; ``not_created``: the entries the list shows never
    reached JoggAI."""

    found: dict[int, dict[str, Any]] = field(default_factory=dict)
    not_created: list[int] = field(default_factory=list)


def find_lost_videos(
    client: JoggProvider, ledger: Ledger, entries: list[LedgerVideo], *, now: Callable[[], float] = time.time
) -> Settled:
    """Look for each entry's video in the list; see the module docstring."""
    settled = Settled()
    if not entries:
        return settled
    known = {v.video_id for v in ledger.videos(client.ledger_scope) if v.video_id}
    sent = {e.id: _sent_time(e) for e in entries}
    times = [t for t in sent.values() if t is not None]
    oldest = min(times) if len(times) == len(entries) else None
    newest_first = sorted(entries, key=lambda e: -(sent[e.id] or 0.0))  # as the list is ordered
    scan = _Scan()
    doubtful: set[int] = set()  # entries a video with an untrustworthy time may belong to
    for item in _listed_since(client, oldest, scan):
        video_id = client.usable_id(item.get("id", item.get("video_id")))
        if video_id is None or video_id in known:
            continue
        if isinstance(_created(item), Implausible):
            doubtful |= {e.id for e in entries if e.id not in settled.found and _candidate(e, item)}
            continue
        for entry in newest_first:
            if entry.id not in settled.found and _matches(entry, item, sent[entry.id]):
                settled.found[entry.id] = {**item, "id": video_id}
                known.add(video_id)
                break
        if len(settled.found) == len(entries):
            return settled
    if scan.complete:
        settled.not_created = [
            e.id
            for e in entries
            if e.id not in settled.found and e.id not in doubtful and _long_past(sent[e.id], scan, now())
        ]
    return settled


def _long_past(sent: float | None, scan: _Scan, now: float) -> bool:
    """Whether a create sent at ``sent`` would be in the list by now (it is well behind us)."""
    if sent is None:
        return False
    return (scan.newest is not None and scan.newest > sent + CLOCK_SKEW) or now - sent > SETTLE_WINDOW
