"""The write gate: every request that changes a provider's data passes :meth:`WriteGate.send`.

A write is what the plan decided (a :class:`~catalog_sync.planning.model.Change`, or a video a videos
run decided to make) together with the record as it was read before the plan.  ``send`` is the one
home of the rules that guard a write; a run's client refuses any write that does not come through
here (:mod:`catalog_sync.providers.writes`).  The rules:

* an update or delete re-reads its record just before it is sent: one changed since it was read is
  a ``conflict`` naming both values (never written over), one already as planned sends nothing.
  The re-read is a GET by id; where a lookup lists every record (Keevault), one listing shared by
  the writes of :data:`REREAD_WINDOW` seconds; where the provider lists what changed since
  (``lists_changes``: Royalti), one look at what changed, shared the same way
  (:mod:`catalog_sync.execute.changes`: a record not on it is unchanged; one deleted since is the
  provider's 404, a conflict too);
* a create answered with an id the run knows (another record's) is not trusted;
* what a write replaced is handed back with the answer (:class:`Written`: the record as it was just
  before an update or delete), for the ledger to keep for ``undo``.

    gate = WriteGate(client)
    result = gate.send(Write("update", change.payload, remote_id=rid, read=current.get(rid), change=change))
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from catalog_sync.errors import RemoteChangedError, RowFailedError, UntrustedAnswerError
from catalog_sync.execute.changes import ChangeWatch
from catalog_sync.planning.model import Change
from catalog_sync.providers.base import Provider
from catalog_sync.providers.records import RemoteRecord, WriteResult
from catalog_sync.providers.writes import write_permit
from catalog_sync.spec.normalise import holds, normalise_value

__all__ = ["Write", "WriteGate", "Written"]

Action = Literal["create", "update", "delete", "create_video"]

#: Seconds a listing taken to re-read records (where a lookup lists everything, or where the provider
#: lists what changed since) serves later writes.
REREAD_WINDOW = 2.0


@dataclass(frozen=True)
class Write:
    """One write about to be sent: the action, what is sent, and what it is sent over."""

    action: Action
    #: sheet-term fields (create, update) or the request body (create_video)
    fields: dict[str, Any]
    remote_id: str | None = None
    #: the record as it was read before the plan (None for a create, or when it was not listed), read
    #: through the gate's own client (its change watch starts from what that client's reads told)
    read: RemoteRecord | None = None
    #: the plan's change this write carries out (None for a video)
    change: Change | None = None


@dataclass(frozen=True)
class Written:
    """A write the gate passed: the provider's answer, and the record it wrote over."""

    answer: Any
    #: the record just before an update or delete went out (re-read; where nothing can be looked up,
    #: as read, None when nothing was known): what the write replaced.  None for a create
    over: RemoteRecord | None = None
    #: False when nothing was sent: the record already was as planned, or already gone
    sent: bool = True


class WriteGate:
    """The one way a run's writes reach its provider (see the module docstring).

    ``known_ids``: the ids of the records the run knows (listed, or in the ledger).  A create answered
    with one of them, or with an id an earlier create of this run was given, is not trusted
    (:class:`UntrustedAnswerError`): two rows never become one record.
    """

    def __init__(
        self,
        provider: Provider,
        known_ids: Iterable[str] = (),
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider = provider
        self._known = {str(i) for i in known_ids}
        self._lock = threading.Lock()
        self._clock = clock
        self._listing: tuple[float, dict[str, RemoteRecord]] | None = None
        self._listing_lock = threading.Lock()
        self.changes = ChangeWatch(provider, window=REREAD_WINDOW, clock=clock)

    def send(self, write: Write) -> Any:
        """Send ``write`` through the provider's client: its answer (a :class:`WriteResult`, a video
        id, or None for a delete).  Raises what the client raises (``UnknownOutcomeError`` …)."""
        return self.carry(write).answer

    def carry(self, write: Write) -> Written:
        """:meth:`send`, handing back with the answer the record the write replaced."""
        client: Any = self.provider
        with write_permit(client):
            if write.action == "create":
                return Written(self._new_identity(client.create(write.fields)))
            over, watched = None, False
            if write.action in ("update", "delete"):
                done, over, watched = self._checked_since_read(write)
                if done is not None:  # already as planned: nothing to send
                    answer = None if write.action == "delete" else WriteResult(str(write.remote_id), done)
                    return Written(answer, sent=False)
                self.changes.touch(str(write.remote_id or ""))
            if write.action == "update":
                return Written(self._update(write, watched), over)
            if write.action == "delete":
                return Written(client.delete(write.remote_id or ""), over)
            return Written(client.create_video(write.fields))

    def _update(self, write: Write, watched: bool) -> WriteResult:
        """The update sent.  A record the change watch answered for (``watched``) may have been deleted
        since it was read (no listing shows a deletion): the provider's 404 is then the conflict it
        would have been had the record been looked up (nothing was written)."""
        rid = write.remote_id or ""
        try:
            result: WriteResult = self.provider.update(rid, write.fields, write.read)
        except RowFailedError as exc:
            if exc.status == 404 and watched:
                raise RemoteChangedError(
                    f"remote record {rid} was deleted since it was read; it is not written again: plan again",
                    code="remote-changed",
                ) from exc
            raise
        return result

    def _checked_since_read(self, write: Write) -> tuple[RemoteRecord | None, RemoteRecord | None, bool]:
        """Re-read the record just before writing over it: RemoteChangedError when it changed or went
        since it was read (a colleague's edit is never written over unseen).  Returns (the record when
        it already is as planned — nothing to send —, the record the write goes over, whether the
        change watch answered for it).  A provider that cannot look a record up (JoggAI) has only what
        was read."""
        read, rid = write.read, str(write.remote_id or "")
        if read is None or not self.provider.can_lookup:
            return None, read, False
        spec = self.provider.spec
        now, watched = self._reread(rid, read)
        if now is None:
            if write.action == "delete":
                return read, None, watched  # gone already: the delete is done
            raise RemoteChangedError(
                f"remote record {rid} was deleted since it was read; it is not written again: plan again",
                code="remote-changed",
            )
        if write.action == "update" and holds(spec, now.fields, write.fields):
            return now, None, watched
        moved = [
            f"{name} {read.fields.get(name, '')!r} → {now.fields.get(name, '')!r}"
            for name in spec.field_names
            if normalise_value(read.fields.get(name, ""), spec.field(name))
            != normalise_value(now.fields.get(name, ""), spec.field(name))
        ]
        if moved:
            raise RemoteChangedError(
                f"remote record {rid} changed since it was read ({'; '.join(moved[:5])}"
                + ("; …" if len(moved) > 5 else "")
                + "): it is not written over; plan again to see the new values",
                code="remote-changed",
            )
        return None, now, watched

    def _reread(self, rid: str, read: RemoteRecord) -> tuple[RemoteRecord | None, bool]:
        """The record as it is now: looked up by id; or, where a lookup lists every record (Keevault),
        taken from one listing shared by the writes of the last ``REREAD_WINDOW`` seconds; or, where
        the provider lists what changed since (Royalti), from the change watch's last look."""
        if not self.provider.lookup_lists_all:
            seen = self.changes.state(rid, read)
            if seen is not None:
                return seen, True
            return self.provider.find({self.provider.spec.remote_id: rid}), False
        with self._listing_lock:
            if self._listing is None or self._clock() - self._listing[0] > REREAD_WINDOW:
                taken = self._clock()
                self._listing = (taken, {str(r.remote_id): r for r in self.provider.list_remote()})
            return self._listing[1].get(rid), False

    def note_known(self, remote_id: str) -> None:
        """An id the run learnt another way (a lost create found by lookup): no create may claim it."""
        with self._lock:
            self._known.add(str(remote_id))

    def _new_identity(self, result: WriteResult) -> WriteResult:
        """The create's answer, when the id it names is new to this run."""
        rid = str(result.remote_id)
        with self._lock:
            known = rid in self._known
            self._known.add(rid)
        if known:
            title = self.provider.title or self.provider.name
            raise UntrustedAnswerError(
                f"{title} answered this create with the id {rid}, which already names another record (listed, in "
                "the state database, or given to another row): the answer is not trusted, this row's outcome is "
                "unknown and it is not sent again on a guess",
                code="untrusted-answer",
            )
        return result

    def create(self, change: Change) -> Written:
        return self.carry(Write("create", change.payload, change=change))

    def update(self, change: Change, read: RemoteRecord | None) -> Written:
        return self.carry(
            Write("update", change.payload, remote_id=change.remote_id, read=read, change=change)
        )

    def delete(self, change: Change, read: RemoteRecord | None) -> Written:
        return self.carry(Write("delete", {}, remote_id=change.remote_id, read=read, change=change))

    def create_video(self, body: dict[str, Any]) -> str:
        return str(self.send(Write("create_video", body)))
