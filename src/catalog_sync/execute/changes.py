"""The write gate's look at what changed, where a provider lists its records by when each last
changed, newest first (``Provider.lists_changes``: Royalti's ``GET /product/`` sorted by ``updatedAt``).

Instead of one GET per record just before each update or delete, one listing of the records changed
since the last look answers for every record at once: a record on it is seen as it is now, a record
not on it has not changed since the look before.  A look serves the writes of ``window`` seconds
(the gate's ``REREAD_WINDOW``, as Keevault's shared listing); the next one starts after half of it,
so writes rarely wait.  The reasoning, and what makes it fall back to one GET per record:

* **the cursor.**  A time of the provider's own clock no later than any read of the records being
  written: first what the answers to the run's reads told of the provider's clock
  (``Provider.changes_baseline``: their ``Date`` less their round trip), then the newest change each
  look lists.  A change made after a
  read is stamped at or after the cursor, less the provider's ``change_tolerance`` (clocks, stamping
  before committing) and the stamps' precision: a look pages down to the first record older than
  that, or the end of the listing.
* **pages that move while read.**  One page is one answer: a snapshot.  Several are not, and a look
  over several, read one after another, is trusted only when (1) every page is sorted, newest first;
  (2) no page counts fewer records than the one before (a delete while paging could move a record
  onto a page already read; a create or an update only moves records down, at worst onto the next
  page a second time); (3) page 1, read again after the others in one answer, reaches back past the
  time the look began less the tolerance: every record changed while paging is on it, seen as it is
  then.  When the look began, in the provider's clock, is at least the newest stamp of its first
  page, and at least what an answer's ``Date`` told before it (``Provider.server_time``).
* **what it cannot tell.**  A record deleted since it was read is not on any listing: the write goes
  out and the provider's 404 is the conflict (the gate turns it into one; nothing was written).  A
  record this run writes to is looked up by id from then on (its own write moved it).
* **falling back.**  An answer that cannot be reasoned on (no or unparseable ``updatedAt``, no count,
  unsorted) turns the watch off for the run; a look that could not be trusted (more than
  :data:`MAX_PAGES`, a count that fell, a closing page that does not reach back, a request that
  failed) leaves the cursor where it was and the writes waiting on it are looked up one by one;
  :data:`MAX_MISSES` such looks in a row turn the watch off.

    watch = ChangeWatch(provider, window=2.0)
    now = watch.state(rid, read)   # the record as it is (``read`` when unchanged); None: look it up
    watch.touch(rid)               # this run writes to it: looked up by id from now on
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from catalog_sync.errors import ProviderError
from catalog_sync.providers.base import ChangesPage, Provider
from catalog_sync.providers.records import RemoteRecord

__all__ = ["MAX_MISSES", "MAX_PAGES", "PAGE_SIZE", "ChangeWatch"]

#: Records asked for per page of a look.
PAGE_SIZE = 100
#: Pages one look reads at most (records changed since the last look: 5,000): past it, look up each.
MAX_PAGES = 50
#: Looks in a row that could not be trusted before the watch is turned off for the run.
MAX_MISSES = 3


class _Off(Exception):
    """The provider's answers cannot be reasoned on: the watch is off for the run."""


class _Untrusted(Exception):
    """This look cannot be trusted (the listing moved under it): the writes it serves look up."""


class ChangeWatch:
    """What changed since the records were read, from the provider's listing by change time (see the
    module docstring).  Thread-safe: one look at a time, its result shared by every writer."""

    def __init__(
        self,
        provider: Provider,
        *,
        window: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._provider = provider
        self._window = window
        self._clock = clock
        lists = bool(getattr(provider, "lists_changes", False))  # test doubles need not be Providers
        self._cursor = provider.changes_baseline if lists else None
        self.on = self._cursor is not None
        self._seen: dict[str, RemoteRecord] = {}
        self._touched: set[str] = set()
        self._looked_at: float | None = None  # client clock when the last trusted look began
        self._looking = False
        self._misses = 0
        self._lock = threading.Lock()
        #: looks read, and looks trusted (for tests and the bench's note)
        self.looks = 0
        self.trusted = 0

    @property
    def cursor(self) -> float | None:
        """The time of the provider's clock the next look lists changes since (less the tolerance)."""
        return self._cursor

    def touch(self, remote_id: str) -> None:
        """This run writes to ``remote_id``: from now on it is looked up by id (its own write moved it)."""
        with self._lock:
            self._touched.add(remote_id)

    def state(self, remote_id: str, read: RemoteRecord) -> RemoteRecord | None:
        """``remote_id`` as it is now: as a look within the window saw it, ``read`` when no look
        since the read listed it; None when the watch cannot tell (the caller looks it up)."""
        with self._lock:
            if remote_id in self._touched:
                return None
        if not self.on or not self._fresh():
            return None
        with self._lock:
            if remote_id in self._touched or not self.on:
                return None
            return self._seen.get(remote_id, read)

    # -- looks -----------------------------------------------------------------------------
    def _fresh(self) -> bool:
        """True when a trusted look began within the window (this thread takes the next one when it
        is due and no other is taking it; a thread that would have to wait for it looks up instead)."""
        with self._lock:
            now = self._clock()
            age = None if self._looked_at is None else now - self._looked_at
            if age is not None and age < self._window / 2:
                return True
            if self._looking:
                return age is not None and age < self._window
            self._looking = True
        verdict = "miss"
        try:
            verdict = self._look()
        finally:
            with self._lock:
                self._looking = False
                if verdict == "trusted":
                    self._looked_at, self._misses = now, 0
                else:
                    self._misses += 1
                    self.on = self.on and verdict != "off" and self._misses < MAX_MISSES
        return verdict == "trusted"

    def _look(self) -> str:
        """One look: read what changed since the cursor and keep it when it can be trusted;
        ``trusted``, ``miss`` (not this time) or ``off`` (not for this run)."""
        self.looks += 1
        try:
            seen, cursor = self._read(self._cursor)
        except _Off:
            return "off"
        except (_Untrusted, ProviderError):
            return "miss"
        with self._lock:
            self._seen.update(seen)
            self._cursor = cursor
        self.trusted += 1
        return "trusted"

    def _read(self, cursor: float | None) -> tuple[dict[str, RemoteRecord], float]:
        """(every record changed since ``cursor``, as last listed; the next cursor)."""
        assert cursor is not None
        tolerance = self._provider.change_tolerance
        told = self._provider.server_time  # the server's clock had reached it before page 1 went out
        first = self._page(1)
        since = cursor - tolerance - first.precision
        pages = [first]
        while not _reaches(pages[-1], since):
            if len(pages) >= MAX_PAGES:
                raise _Untrusted(f"more than {MAX_PAGES} pages changed since the last look")
            page = self._page(len(pages) + 1)
            _follows(pages[-1], page)
            pages.append(page)
            since = min(since, cursor - tolerance - page.precision)
        if len(pages) > 1:  # paged: what changed meanwhile is on page 1, read again in one answer
            closing = self._page(1)
            began = max(first.stamps[0] if first.stamps else cursor, told if told is not None else cursor)
            if not _reaches(closing, began - tolerance - closing.precision):
                raise _Untrusted("more changed while the changes were read than one page holds")
            pages.append(closing)
        seen: dict[str, RemoteRecord] = {}
        for page in pages:  # later answers are fresher
            seen.update((record.remote_id, record) for record in page.records)
        top = pages[-1].stamps[0] if pages[-1].stamps else cursor
        return seen, max(cursor, top)

    def _page(self, number: int) -> ChangesPage:
        page = self._provider.changes_page(number, PAGE_SIZE)
        if page is None or any(a < b for a, b in zip(page.stamps, page.stamps[1:], strict=False)):
            raise _Off("the listing by change time cannot be reasoned on")
        if len(page.records) < min(PAGE_SIZE, page.total - (number - 1) * PAGE_SIZE):
            raise _Untrusted("a page came back shorter than asked before the end of the listing")
        return page


def _reaches(page: ChangesPage, since: float) -> bool:
    """True when every record changed at or after ``since`` is on this page or one before it."""
    return page.is_last or (bool(page.stamps) and page.stamps[-1] < since)


def _follows(before: ChangesPage, page: ChangesPage) -> None:
    """``page`` may continue ``before``: it counts no fewer records (a record deleted meanwhile could
    have moved one from this page onto the one before, already read).  Records changed or created
    meanwhile move the others down, at worst onto this page a second time: no order is checked
    across pages."""
    if page.total < before.total:
        raise _Untrusted("a record was deleted while the changes were read")
