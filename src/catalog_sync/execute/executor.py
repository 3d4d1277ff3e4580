"""Carry a plan out: send each write, record each outcome the moment it is known.

:func:`execute` is independent of the CLI (cron ``run`` jobs and later steps call it too).
For every write it

1. records an ``in-flight`` intent in the ledger *before* the request leaves, so a run killed
   between send and answer leaves evidence the next run settles (``apply.settle``);
2. sends it through the provider client (which paces, retries what is safe and builds payloads);
3. settles a lost answer (:class:`UnknownOutcomeError`) by looking the record up with
   ``provider.find`` before anything is resent; where nothing can be looked up (JoggAI,
   ``can_lookup`` False) a create is recorded ``unknown`` and never repeated blindly;
4. writes the row's outcome to the ledger at once, and in the same commit what the write replaced
   (the record's values before it, and the values it set: what ``undo`` turns back).

Writes run on a thread pool (``concurrency``); deletes go last.  ``max_failures`` stops
sending after N failed rows (the rest are ``skipped``); a fatal provider error (credentials
refused, a forged Keevault signature) stops the run as well and is handed back to the caller.
Ctrl+C (KeyboardInterrupt) — and SIGTERM, which :func:`execute` turns into
:class:`~catalog_sync.errors.Terminated` for the duration of the run — stops sending, waits for
the writes already sent, records them and returns with ``stopped == "interrupted"`` (the rest
``skipped``; ``result.signal`` says which).

Errors nobody expected do not abort the run: an unexpected exception from one row's provider
call makes that row ``unknown`` (the write may have been sent; the next run settles it).  A
state database that cannot be written (:class:`~catalog_sync.errors.StateDatabaseError`:
locked, disk full) stops sending new writes, waits for those in flight, keeps every outcome in
memory and returns with ``stopped == "state"`` and ``result.state_error``: the caller still
writes the report.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from catalog_sync.errors import (
    FatalProviderError,
    ListingMovedError,
    ProviderError,
    RemoteChangedError,
    RetriableProviderError,
    RowFailedError,
    SignatureError,
    StateDatabaseError,
    Terminated,
    UnknownOutcomeError,
    UntrustedAnswerError,
)
from catalog_sync.execute.gate import WriteGate, Written
from catalog_sync.planning.model import WRITE_ACTIONS, Change, Plan
from catalog_sync.providers.base import CANNOT_CONNECT, Provider
from catalog_sync.spec.normalise import holds, normalise_value
from catalog_sync.state import UNSURE, Ledger, LedgerRecord, LedgerScope, Replaced
from catalog_sync.text import safe_text

__all__ = ["STATUSES", "RowOutcome", "RunResult", "execute"]

STATUSES = ("ok", "failed", "skipped", "conflict", "unknown")
#: Provider codes meaning "no such record" on a delete: the goal is reached.
_GONE_CODES = {"551", "404", "NOT_FOUND"}
_RESENDS = 2  # after a lost answer and a lookup that finds nothing
_POLL = 0.2  # seconds between looks at a noted SIGTERM while writes are in flight
_STATE_SKIP = "not attempted: the state database could not be written; run again to finish"


@dataclass
class RowOutcome:
    """The result of one change."""

    change: Change
    status: str
    remote_id: str | None = None
    error_code: str = ""
    error: str = ""
    fatal: ProviderError | None = field(default=None, repr=False, compare=False)
    #: what the write replaced (an ``ok`` write that sent something), kept in the ledger for ``undo``
    replaced: Replaced | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        c = self.change
        return {
            "row": c.row,
            "key": c.key,
            "action": c.action,
            "status": self.status,
            "remote_id": self.remote_id or c.remote_id or "",
            "changed": c.changed,
            "error_code": self.error_code,
            "error": self.error,
        }


@dataclass
class RunResult:
    """What a run did: one outcome per change, requests sent, time taken, why it stopped."""

    run_id: int
    outcomes: list[RowOutcome] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    stopped: str = ""  # "max-failures", "fatal", "interrupted" or "state" when the run stopped early
    fatal: ProviderError | None = None
    signal: str = ""  # "SIGINT" or "SIGTERM" when interrupted
    state_error: StateDatabaseError | None = None  # the first ledger write that failed

    def counts(self) -> dict[str, dict[str, int]]:
        actions = Counter(o.change.action for o in self.outcomes)
        statuses = Counter(o.status for o in self.outcomes)
        return {
            "action": {
                a: actions.get(a, 0)
                for a in ("create", "update", "unchanged", "delete", "conflict", "protected", "skip")
            },
            "status": {s: statuses.get(s, 0) for s in STATUSES},
        }

    @property
    def problems(self) -> int:
        """Rows that failed, are unknown or in conflict (exit 4 when > 0)."""
        return sum(1 for o in self.outcomes if o.status in ("failed", "unknown", "conflict"))


def _code(exc: ProviderError) -> str:
    if exc.code not in (None, ""):
        return str(exc.code)
    return str(exc.status) if exc.status else type(exc).__name__


def _refused(exc: FatalProviderError) -> bool:
    """True when a fatal error proves the write did not happen.

    Credentials refused (HTTP 401/403, or a provider's own refusal code such as JoggAI 10105
    "invalid API key" or 18020 "insufficient credit", which arrive with HTTP 200) or never
    connected.  An answer that could not be understood (code ``contract``, no code) proves
    nothing: the write may have taken effect.
    """
    if exc.status in (401, 403) or exc.code == CANNOT_CONNECT:
        return True
    return isinstance(exc.code, int) or (isinstance(exc.code, str) and exc.code.isdigit())


class _Recorder:
    """The ledger writes made after a request was sent: a failure is kept, not raised.

    The outcome of a write already on the wire must reach the report even when the state
    database cannot record it; the first :class:`StateDatabaseError` is kept in ``error``
    (the run then stops sending) and the open intent is settled by the next run.
    """

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._guard = threading.Lock()
        self.error: StateDatabaseError | None = None

    def _keep(self, exc: StateDatabaseError) -> None:
        with self._guard:
            self.error = self.error or exc

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``method(...)`` unless a write already failed (then skipped: no busy-timeout wait per row)."""
        if self.error is not None:
            return None
        try:
            return method(*args, **kwargs)
        except StateDatabaseError as exc:
            self._keep(exc)
            return None

    def begin_intent(self, *args: Any, **kwargs: Any) -> int:
        """Raises StateDatabaseError (nothing may be sent without its intent recorded)."""
        if self.error is not None:
            raise self.error
        try:
            return self._ledger.begin_intent(*args, **kwargs)
        except StateDatabaseError as exc:
            self._keep(exc)
            raise

    def record_outcomes(self, run_id: int, outcomes: list[dict[str, Any]], **replaced: Any) -> None:
        self._call(self._ledger.record_outcomes, run_id, outcomes, **replaced)

    def end_intent(self, intent_id: int, state: str = "done") -> None:
        self._call(self._ledger.end_intent, intent_id, state)

    def remember(self, *args: Any, **kwargs: Any) -> LedgerRecord | None:
        return self._call(self._ledger.remember, *args, **kwargs)  # type: ignore[no-any-return]

    def forget(self, scope: LedgerScope, remote_id: str) -> None:
        self._call(self._ledger.forget, scope, remote_id)

    def mark_unknown(self, *args: Any, **kwargs: Any) -> None:
        self._call(self._ledger.mark_unknown, *args, **kwargs)

    def mark_unsure(self, *args: Any, **kwargs: Any) -> None:
        self._call(self._ledger.mark_unsure, *args, **kwargs)

    def resolve_unknown(self, scope: LedgerScope, key_value: str) -> int:
        return int(self._call(self._ledger.resolve_unknown, scope, key_value) or 0)


def _unexpected(change: Change, exc: Exception) -> RowOutcome:
    """A row whose provider call raised something nobody expected: the write may have been sent."""
    return RowOutcome(
        change,
        "unknown",
        change.remote_id,
        "unexpected",
        f"unexpected {type(exc).__name__}: {safe_text(exc)}; the write may have been sent: the next run "
        "checks it",
    )


def _created(change: Change, remote_id: str) -> Replaced:
    """A create: the id it was given and the values it set (nothing was replaced)."""
    return Replaced(change.row, change.key, "create", str(remote_id), {}, change.payload)


def _updated(change: Change, written: Written) -> Replaced | None:
    """An update: each changed field as it was before (:data:`UNSURE` where that was not known),
    and as it was set; None when nothing was sent (the record already held the values)."""
    if not written.sent:
        return None
    before = written.over.fields if written.over is not None else {}
    was = {name: str(before.get(name, UNSURE)) for name in change.fields}
    return Replaced(change.row, change.key, "update", change.remote_id or "", was, change.payload)


def _deleted(change: Change, written: Written) -> Replaced | None:
    """A delete: the whole record as it was; None when nothing was sent or nothing was known of it."""
    if not written.sent or written.over is None:
        return None
    record = {name: str(value) for name, value in written.over.fields.items()}
    return Replaced(change.row, change.key, "delete", change.remote_id or "", record, {})


class _Executor:
    def __init__(
        self, plan: Plan, provider: Provider, ledger: _Recorder, run_id: int, current: Mapping[str, Any]
    ) -> None:
        self.plan, self.provider, self.ledger, self.run_id = plan, provider, ledger, run_id
        self.gate = WriteGate(provider, known_ids=current)
        self.current = current
        self.spec = provider.spec
        self.name = plan.provider
        self.scope = provider.ledger_scope  # whose records these are: provider, base URL, account

    # -- one write -----------------------------------------------------------------------
    def run_change(self, change: Change) -> RowOutcome:
        try:
            intent = self.ledger.begin_intent(
                self.run_id,
                self.scope,
                row=change.row,
                key=change.key,
                action=change.action,
                remote_id=change.remote_id,
                fields=change.payload
                if change.action != "delete"
                else {self.spec.remote_id: change.remote_id or ""},
            )
        except StateDatabaseError:  # nothing was sent: the run stops before this write
            return RowOutcome(change, "skipped", change.remote_id, "state", _STATE_SKIP)
        try:
            outcome = getattr(self, f"_{change.action}")(change, intent)
        except RemoteChangedError as exc:  # re-read just before the write: changed since it was read
            self.ledger.end_intent(intent, "conflict")  # nothing was sent
            return RowOutcome(change, "conflict", change.remote_id, _code(exc), exc.message)
        except SignatureError as exc:  # the answer cannot be trusted: the write may have happened
            self.ledger.end_intent(intent, "unknown")
            return RowOutcome(change, "unknown", change.remote_id, "signature", exc.message, fatal=exc)
        except FatalProviderError as exc:  # credentials refused, unreachable, answer not understood: stop
            if _refused(exc):
                self.ledger.end_intent(intent, "failed")  # refused or never sent: nothing happened
                return RowOutcome(change, "failed", change.remote_id, _code(exc), exc.message, fatal=exc)
            self.ledger.end_intent(intent, "unknown")  # settled by the next run (lookup or ledger)
            return RowOutcome(change, "unknown", change.remote_id, _code(exc), exc.message, fatal=exc)
        except (RowFailedError, RetriableProviderError) as exc:
            # refused, or never processed after the retry budget: nothing happened remotely
            self.ledger.end_intent(intent, "failed")
            return RowOutcome(change, "failed", change.remote_id, _code(exc), exc.message)
        except Exception as exc:  # a bug or a library's surprise in this row's call: the run goes on
            self.ledger.end_intent(intent, "unknown")
            return _unexpected(change, exc)
        if outcome.status == "ok" and not self.provider.can_lookup and change.row is not None:
            self._clear_unknowns(change)
        return cast(RowOutcome, outcome)

    def _clear_unknowns(self, change: Change) -> None:
        """A row now pushed with a known id settles any unknown create recorded for its keys."""
        for key in self.spec.keys:
            value = normalise_value(change.values.get(key, ""), self.spec.field(key))
            if value and key != self.spec.remote_id:
                self.ledger.resolve_unknown(self.scope, value)

    def _create(self, change: Change, intent: int) -> RowOutcome:
        fields = change.payload
        for _attempt in range(1 + _RESENDS):
            try:
                result = self.gate.create(change).answer
            except UntrustedAnswerError as exc:
                return self._untrusted_create(change, intent, exc)
            except UnknownOutcomeError as exc:
                if not self.provider.can_lookup:
                    return self._unknown_create(change, intent, exc)
                found = self._lookup(fields)
                if found is None:
                    continue  # the create did not take effect: safe to send again
                if found is False:
                    self.ledger.end_intent(intent, "unknown")  # settled on the next run
                    return RowOutcome(change, "unknown", None, _code(exc), exc.message)
                self.gate.note_known(found.remote_id)
                self._remember(found.remote_id, fields, found.fingerprint)
                self.ledger.end_intent(intent, "done")
                return RowOutcome(change, "ok", found.remote_id, replaced=_created(change, found.remote_id))
            rid = str(result.remote_id)
            record = getattr(result, "record", None)
            self._remember(rid, fields, record.fingerprint if record is not None else None)
            self.ledger.end_intent(intent, "done")
            return RowOutcome(change, "ok", rid, replaced=_created(change, rid))
        self.ledger.end_intent(intent, "unknown")
        return RowOutcome(
            change,
            "unknown",
            None,
            "lost-answer",
            "the answer to every attempt was lost; the next run looks the record up again",
        )

    def _untrusted_create(self, change: Change, intent: int, exc: UntrustedAnswerError) -> RowOutcome:
        """A create whose answer is not trusted: unknown, settled by a lookup on the next run (or, where
        nothing can be looked up, by the user), and never sent again on a guess."""
        if not self.provider.can_lookup:
            return self._unknown_create(change, intent, exc)
        self.ledger.end_intent(intent, "unknown")
        return RowOutcome(change, "unknown", None, _code(exc), exc.message)

    def _unknown_create(self, change: Change, intent: int, exc: ProviderError) -> RowOutcome:
        key_field, _, key_value = change.key.partition("=")
        self.ledger.mark_unknown(
            self.scope,
            key_field,
            key_value,
            row=change.row,
            fields=change.payload,
            run_id=self.run_id,
        )
        self.ledger.end_intent(intent, "unknown-recorded")
        return RowOutcome(
            change,
            "unknown",
            None,
            _code(exc),
            (
                f"{exc.message}. {self.name} cannot be searched, so this create is not repeated: if the product exists, "
                f"fill {self.spec.remote_id} with its id; if not, run `catalog-sync runs -p {self.name} "
                f"--resolve-unknown {key_value!r}` and apply again"
            ),
        )

    def _update(self, change: Change, intent: int) -> RowOutcome:
        rid = change.remote_id or ""
        fields = change.payload
        for _attempt in range(1 + _RESENDS):
            try:
                written = self.gate.update(change, self.current.get(rid))
            except UnknownOutcomeError as exc:
                if not self.provider.can_lookup:  # the ledger stands in: it no longer knows these fields
                    self.ledger.mark_unsure(self.scope, rid, list(fields))
                    self.ledger.end_intent(intent, "unknown-recorded")  # the next plan sends it again
                    return RowOutcome(
                        change,
                        "unknown",
                        rid,
                        _code(exc),
                        f"{exc.message}; the next run compares and sends it again if needed",
                    )
                found = self._lookup({self.spec.remote_id: rid})
                if found is False:
                    self.ledger.end_intent(intent, "unknown")
                    return RowOutcome(change, "unknown", rid, _code(exc), exc.message)
                if found is None:
                    self.ledger.end_intent(intent, "failed")
                    return RowOutcome(change, "failed", rid, "gone", "the record no longer exists remotely")
                if holds(self.spec, found.fields, fields):
                    self._remember(rid, fields, found.fingerprint)
                    self.ledger.end_intent(intent, "done")
                    # the gate let it go, so the record then was as read: that is what it replaced
                    over = Written(None, self.current.get(rid))
                    return RowOutcome(change, "ok", rid, replaced=_updated(change, over))
                continue  # not applied: sending the same update again is safe now
            record = getattr(written.answer, "record", None)
            self._remember(rid, fields, record.fingerprint if record is not None else None)
            self.ledger.end_intent(intent, "done")
            return RowOutcome(change, "ok", rid, replaced=_updated(change, written))
        self.ledger.end_intent(intent, "unknown")
        return RowOutcome(change, "unknown", rid, "lost-answer", "the answer to every attempt was lost")

    def _delete(self, change: Change, intent: int) -> RowOutcome:
        rid = change.remote_id or ""
        for _attempt in range(1 + _RESENDS):
            written = Written(None, sent=False)  # gone before this run deleted it: nothing replaced
            try:
                written = self.gate.delete(change, self.current.get(rid))
            except RowFailedError as exc:
                if _code(exc) not in _GONE_CODES:
                    raise
            except UnknownOutcomeError as exc:
                found = self._lookup({self.spec.remote_id: rid})
                if found is False:
                    self.ledger.end_intent(intent, "unknown")
                    return RowOutcome(change, "unknown", rid, _code(exc), exc.message)
                if found is not None:
                    continue
                written = Written(None, self.current.get(rid))  # the gate let it go: the record as read
            self.ledger.forget(self.scope, rid)
            self.ledger.end_intent(intent, "done")
            return RowOutcome(change, "ok", rid, replaced=_deleted(change, written))
        self.ledger.end_intent(intent, "unknown")
        return RowOutcome(change, "unknown", rid, "lost-answer", "the answer to every attempt was lost")

    # -- helpers ---------------------------------------------------------------------------
    def _lookup(self, fields: dict[str, str]) -> Any:
        """provider.find; ``False`` when the lookup itself failed (outcome stays unknown, settled by the
        next run).  A listing that kept moving while it was read is such a failure here: this run's own
        writes move it, and stopping the run for it would leave the rest of the catalog undone."""
        try:
            return self.provider.find(fields)
        except (RetriableProviderError, UnknownOutcomeError, RowFailedError, ListingMovedError):
            return False

    def _remember(self, rid: str, fields: dict[str, str], fingerprint: str | None) -> None:
        """Ledger: remote id → pushed fields (JoggAI's fingerprint is that of the pushed fields)."""
        self.ledger.remember(
            self.scope, rid, fields, fingerprint=fingerprint if self.provider.can_list else None
        )


def execute(
    plan: Plan,
    provider: Provider,
    ledger: Ledger,
    *,
    run_id: int,
    concurrency: int = 4,
    max_failures: int | None = None,
    on_progress: Callable[[RowOutcome], None] | None = None,
    current: Mapping[str, Any] | None = None,
) -> RunResult:
    """Apply ``plan`` with ``provider``, recording intents and outcomes in ``ledger`` under ``run_id``.

    ``current`` maps remote id → the remote record read for this run (Keevault's full-replace
    update fills unchanged fields from it).  Returns a :class:`RunResult`; never raises for a
    row's failure.  A fatal provider error stops sending and is returned in ``result.fatal``;
    a ledger write that fails stops sending and is returned in ``result.state_error``.
    Ctrl+C and SIGTERM during the run stop it (``result.signal`` says which); see :func:`_signals_noted`.
    """
    run = _Run(plan, provider, ledger, run_id, max(1, concurrency), max_failures, on_progress)
    with _signals_noted(run):
        return run.go(current or {})


@contextmanager
def _signals_noted(run: _Run) -> Iterator[None]:
    """While sending: the first Ctrl+C (SIGINT) or SIGTERM is noted (the loop stops sending); a
    second raises KeyboardInterrupt or Terminated.

    Noting instead of raising means the signal can never land between a write and its
    bookkeeping (a Ctrl+C raised while an outcome was being recorded once escaped the run: exit
    130 and no report); the loop looks at the note at least every :data:`_POLL` seconds.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def note(signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        if run.signalled:
            raise Terminated(name) if signum == signal.SIGTERM else KeyboardInterrupt
        run.signalled = name

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


_SKIPPED = {
    "fatal": "not attempted: the run stopped on a fatal provider error",
    "state": _STATE_SKIP,
}


class _Run:
    """One execute(): the queue of writes, the pool, and every outcome in memory."""

    def __init__(
        self,
        plan: Plan,
        provider: Provider,
        ledger: Ledger,
        run_id: int,
        concurrency: int,
        max_failures: int | None,
        on_progress: Callable[[RowOutcome], None] | None,
    ) -> None:
        self.plan, self.provider, self.run_id = plan, provider, run_id
        self.ledger = _Recorder(ledger)
        self.concurrency, self.max_failures, self.on_progress = concurrency, max_failures, on_progress
        self.result = RunResult(run_id)
        self.outcomes: dict[int, RowOutcome] = {}
        self.order = {id(c): i for i, c in enumerate(plan.changes)}
        self.failures = 0
        self.stop = ""
        self.signalled = ""  # "SIGINT" or "SIGTERM" once the signal arrived

    def go(self, current: Mapping[str, Any]) -> RunResult:
        started = time.monotonic()
        requests_before = self.provider.stats.requests
        worker = _Executor(self.plan, self.provider, self.ledger, self.run_id, current)
        self._record_settled()
        writes = [c for c in self.plan.changes if c.action in ("create", "update")]
        writes += [c for c in self.plan.changes if c.action == "delete"]
        queue = iter(writes)
        self._send(worker, queue)
        left = list(queue)
        if self.stop == "max-failures" and not left:
            self.stop = ""  # the Nth failure was among the last writes: the limit stopped nothing (exit 4)
        reason = self._skipped_reason()
        self._done([RowOutcome(change, "skipped", change.remote_id, self.stop, reason) for change in left])
        result = self.result
        result.state_error = self.ledger.error
        if result.state_error is not None and not self.stop:
            self.stop = "state"  # the last writes' bookkeeping failed: the ledger misses them
        result.outcomes = [self.outcomes[i] for i in sorted(self.outcomes)]
        result.requests = self.provider.stats.requests - requests_before
        result.seconds = round(time.monotonic() - started, 3)
        result.stopped = self.stop
        return result

    def _skipped_reason(self) -> str:
        if self.stop == "max-failures":
            return f"not attempted: --max-failures {self.max_failures} reached"
        if self.stop == "interrupted":
            how = "SIGTERM" if self.result.signal == "SIGTERM" else "Ctrl+C"
            return f"not attempted: the run was interrupted ({how}); run again to finish"
        return _SKIPPED.get(self.stop, "")

    def _record(self, outcomes: list[RowOutcome]) -> None:
        """Write outcomes to the ledger; a failure is kept and stops the run (outcomes stay in memory)."""
        if outcomes:
            replaced = [o.replaced for o in outcomes if o.replaced is not None and o.status == "ok"]
            self.ledger.record_outcomes(
                self.run_id,
                [o.to_dict() for o in outcomes],
                replaced=replaced,
                scope=self.provider.ledger_scope,
            )
        if self.ledger.error is not None and self.stop in ("", "max-failures"):
            self.stop = "state"

    def _done(self, outcomes: list[RowOutcome]) -> None:
        """Keep, record (one ledger commit for all) and report outcomes known together."""
        for outcome in outcomes:
            self.outcomes[self.order[id(outcome.change)]] = outcome
        self._record(outcomes)
        if self.on_progress:
            for outcome in outcomes:
                self.on_progress(outcome)

    def _record_settled(self) -> None:
        """Rows that need no write (unchanged, skip, conflict) are settled up front."""
        settled = []
        for change in self.plan.changes:
            if change.action in WRITE_ACTIONS:
                continue
            status = {"unchanged": "ok", "skip": "skipped", "protected": "skipped"}.get(
                change.action, "conflict"
            )
            if change.action == "conflict" and change.unknown:
                status = "unknown"
            code = (
                "protected"
                if change.action == "protected"
                else ("" if status in ("ok", "skipped") else status)
            )
            outcome = RowOutcome(change, status, change.remote_id, code, change.reason)
            self.outcomes[self.order[id(change)]] = outcome
            settled.append(outcome)
        self._record(settled)

    def _send(self, worker: _Executor, queue: Iterator[Change]) -> None:
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="apply") as pool:
            running: set[Future[RowOutcome]] = set()
            while True:
                if self.ledger.error is not None and self.stop in ("", "max-failures"):
                    self.stop = "state"  # a ledger write failed: send nothing new
                if self.signalled and self.stop != "interrupted":
                    self.stop, self.result.signal = "interrupted", self.signalled
                while not self.stop and len(running) < self.concurrency:
                    upcoming = next(queue, None)
                    if upcoming is None:
                        break
                    running.add(pool.submit(worker.run_change, upcoming))
                if not running:
                    break
                try:
                    finished, running = wait(running, timeout=_POLL, return_when=FIRST_COMPLETED)
                except KeyboardInterrupt as exc:
                    # Ctrl+C or SIGTERM: send nothing new; let the writes already on the wire finish and
                    # record their outcomes (a second signal leaves them in flight for the next run)
                    self.stop = "interrupted"
                    self.result.signal = "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"
                    finished = wait(running).done
                    running = set()
                self._finished([future.result() for future in finished])

    def _finished(self, outcomes: list[RowOutcome]) -> None:
        self._done(outcomes)
        for outcome in outcomes:
            self._count(outcome)

    def _count(self, outcome: RowOutcome) -> None:
        """A failure towards --max-failures; a fatal error stops the run."""
        if outcome.status == "failed":
            self.failures += 1
            if self.max_failures is not None and self.failures >= self.max_failures and not self.stop:
                self.stop = "max-failures"
        if outcome.fatal is not None and self.stop not in ("interrupted", "state") and not self.signalled:
            self.stop = "fatal"
            self.result.fatal = self.result.fatal or outcome.fatal
