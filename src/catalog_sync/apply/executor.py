"""Carry a plan out: send each write, record each outcome the moment it is known.

:func:`execute` is independent of the CLI (cron ``run`` jobs and later steps call it too).
For every write it

1. records an ``in-flight`` intent in the ledger *before* the request leaves, so a run killed
   between send and answer leaves evidence the next run settles (``apply.settle``);
2. sends it through the provider client (which paces, retries what is safe and builds payloads);
3. settles a lost answer (:class:`UnknownOutcomeError`) by looking the record up with
   ``provider.find`` before anything is resent; where nothing can be looked up (JoggAI,
   ``can_lookup`` False) a create is recorded ``unknown`` and never repeated blindly;
4. writes the row's outcome to the ledger at once.

Writes run on a thread pool (``concurrency``); deletes go last.  ``max_failures`` stops
sending after N failed rows (the rest are ``skipped``); a fatal provider error (credentials
refused, a forged Keevault signature) stops the run as well and is handed back to the caller.
Ctrl+C (KeyboardInterrupt) stops sending, waits for the writes already sent, records them and
returns with ``stopped == "interrupted"`` (the rest ``skipped``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from catalog_sync.errors import (
    FatalProviderError,
    ProviderError,
    RetriableProviderError,
    RowFailedError,
    SignatureError,
    UnknownOutcomeError,
)
from catalog_sync.normalise import normalise_value
from catalog_sync.plan.model import WRITE_ACTIONS, Change, Plan
from catalog_sync.state import Ledger

__all__ = ["STATUSES", "RowOutcome", "RunResult", "execute"]

STATUSES = ("ok", "failed", "skipped", "conflict", "unknown")
#: Provider codes meaning "no such record" on a delete: the goal is reached.
_GONE_CODES = {"551", "404", "NOT_FOUND"}
_RESENDS = 2  # after a lost answer and a lookup that finds nothing


@dataclass
class RowOutcome:
    """The result of one change."""

    change: Change
    status: str
    remote_id: str | None = None
    error_code: str = ""
    error: str = ""
    fatal: ProviderError | None = field(default=None, repr=False, compare=False)

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
    stopped: str = ""  # "max-failures", "fatal" or "interrupted" when the run stopped early
    fatal: ProviderError | None = None

    def counts(self) -> dict[str, dict[str, int]]:
        actions = Counter(o.change.action for o in self.outcomes)
        statuses = Counter(o.status for o in self.outcomes)
        return {
            "action": {
                a: actions.get(a, 0) for a in ("create", "update", "unchanged", "delete", "conflict", "skip")
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
    if exc.status in (401, 403) or "cannot connect" in exc.message:
        return True
    return isinstance(exc.code, int) or (isinstance(exc.code, str) and exc.code.isdigit())


class _Executor:
    def __init__(
        self, plan: Plan, provider: Any, ledger: Ledger, run_id: int, current: Mapping[str, Any]
    ) -> None:
        self.plan, self.provider, self.ledger, self.run_id = plan, provider, ledger, run_id
        self.current = current
        self.spec = provider.spec
        self.name = plan.provider
        self.base = plan.base_url

    # -- one write -----------------------------------------------------------------------
    def run_change(self, change: Change) -> RowOutcome:
        intent = self.ledger.begin_intent(
            self.run_id,
            self.name,
            self.base,
            row=change.row,
            key=change.key,
            action=change.action,
            remote_id=change.remote_id,
            fields=change.payload
            if change.action != "delete"
            else {self.spec.remote_id: change.remote_id or ""},
        )
        try:
            outcome = getattr(self, f"_{change.action}")(change, intent)
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
        if outcome.status == "ok" and not self.provider.can_lookup and change.row is not None:
            self._clear_unknowns(change)
        return outcome

    def _clear_unknowns(self, change: Change) -> None:
        """A row now pushed with a known id settles any unknown create recorded for its keys."""
        for key in self.spec.keys:
            value = normalise_value(change.values.get(key, ""), self.spec.field(key))
            if value and key != self.spec.remote_id:
                self.ledger.resolve_unknown(self.name, self.base, value)

    def _create(self, change: Change, intent: int) -> RowOutcome:
        fields = change.payload
        for _attempt in range(1 + _RESENDS):
            try:
                result = self.provider.create(fields)
            except UnknownOutcomeError as exc:
                if not self.provider.can_lookup:
                    return self._unknown_create(change, intent, exc)
                found = self._lookup(fields)
                if found is None:
                    continue  # the create did not take effect: safe to send again
                if found is False:
                    self.ledger.end_intent(intent, "unknown")  # settled on the next run
                    return RowOutcome(change, "unknown", None, _code(exc), exc.message)
                self._remember(found.remote_id, fields, found.fingerprint)
                self.ledger.end_intent(intent, "done")
                return RowOutcome(change, "ok", found.remote_id)
            rid = str(result.remote_id)
            record = getattr(result, "record", None)
            self._remember(rid, fields, record.fingerprint if record is not None else None)
            self.ledger.end_intent(intent, "done")
            return RowOutcome(change, "ok", rid)
        self.ledger.end_intent(intent, "unknown")
        return RowOutcome(
            change,
            "unknown",
            None,
            "lost-answer",
            "the answer to every attempt was lost; the next run looks the record up again",
        )

    def _unknown_create(self, change: Change, intent: int, exc: ProviderError) -> RowOutcome:
        key_field, _, key_value = change.key.partition("=")
        self.ledger.mark_unknown(
            self.name,
            self.base,
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
                result = self.provider.update(rid, fields, self.current.get(rid))
            except UnknownOutcomeError as exc:
                if not self.provider.can_lookup:
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
                if self._holds(found.fields, fields):
                    self._remember(rid, fields, found.fingerprint)
                    self.ledger.end_intent(intent, "done")
                    return RowOutcome(change, "ok", rid)
                continue  # not applied: sending the same update again is safe now
            record = getattr(result, "record", None)
            self._remember(rid, fields, record.fingerprint if record is not None else None)
            self.ledger.end_intent(intent, "done")
            return RowOutcome(change, "ok", rid)
        self.ledger.end_intent(intent, "unknown")
        return RowOutcome(change, "unknown", rid, "lost-answer", "the answer to every attempt was lost")

    def _delete(self, change: Change, intent: int) -> RowOutcome:
        rid = change.remote_id or ""
        for _attempt in range(1 + _RESENDS):
            try:
                self.provider.delete(rid)
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
            self.ledger.forget(self.name, self.base, rid)
            self.ledger.end_intent(intent, "done")
            return RowOutcome(change, "ok", rid)
        self.ledger.end_intent(intent, "unknown")
        return RowOutcome(change, "unknown", rid, "lost-answer", "the answer to every attempt was lost")

    # -- helpers ---------------------------------------------------------------------------
    def _lookup(self, fields: dict[str, str]) -> Any:
        """provider.find; ``False`` when the lookup itself failed (outcome stays unknown)."""
        try:
            return self.provider.find(fields)
        except (RetriableProviderError, UnknownOutcomeError, RowFailedError):
            return False

    def _holds(self, remote: dict[str, str], wanted: dict[str, str]) -> bool:
        for name, value in wanted.items():
            spec_field = self.spec.field(name)
            if normalise_value(remote.get(name, ""), spec_field) != normalise_value(value, spec_field):
                return False
        return True

    def _remember(self, rid: str, fields: dict[str, str], fingerprint: str | None) -> None:
        """Ledger: remote id → pushed fields (JoggAI's fingerprint is that of the pushed fields)."""
        self.ledger.remember(
            self.name, self.base, rid, fields, fingerprint=fingerprint if self.provider.can_list else None
        )


def execute(
    plan: Plan,
    provider: Any,
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
    row's failure.  A fatal provider error stops sending and is returned in ``result.fatal``.
    """
    started = time.monotonic()
    requests_before = provider.stats.requests
    worker = _Executor(plan, provider, ledger, run_id, current or {})
    result = RunResult(run_id)
    outcomes: dict[int, RowOutcome] = {}
    order = {id(c): i for i, c in enumerate(plan.changes)}

    def done(outcome: RowOutcome) -> None:
        outcomes[order[id(outcome.change)]] = outcome
        ledger.record_outcomes(run_id, [outcome.to_dict()])
        if on_progress:
            on_progress(outcome)

    settled = []
    for change in plan.changes:
        if change.action in WRITE_ACTIONS:
            continue
        status = {"unchanged": "ok", "skip": "skipped"}.get(change.action, "conflict")
        if change.action == "conflict" and change.unknown:
            status = "unknown"
        outcome = RowOutcome(
            change, status, change.remote_id, "" if status in ("ok", "skipped") else status, change.reason
        )
        outcomes[order[id(change)]] = outcome
        settled.append(outcome.to_dict())
    ledger.record_outcomes(run_id, settled)

    writes = [c for c in plan.changes if c.action in ("create", "update")]
    writes += [c for c in plan.changes if c.action == "delete"]
    queue = iter(writes)
    failures = 0
    stop = ""
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="apply") as pool:
        running: set[Future[RowOutcome]] = set()
        while True:
            while not stop and len(running) < max(1, concurrency):
                upcoming = next(queue, None)
                if upcoming is None:
                    break
                running.add(pool.submit(worker.run_change, upcoming))
            if not running:
                break
            try:
                finished, running = wait(running, return_when=FIRST_COMPLETED)
            except KeyboardInterrupt:
                # Ctrl+C: send nothing new; let the writes already on the wire finish and record
                # their outcomes (a second Ctrl+C leaves them in flight for the next run to settle)
                stop = "interrupted"
                finished = wait(running).done
                running = set()
            for future in finished:
                outcome = future.result()
                done(outcome)
                if outcome.status == "failed":
                    failures += 1
                    if max_failures is not None and failures >= max_failures and not stop:
                        stop = "max-failures"
                if outcome.fatal is not None and stop != "interrupted":
                    stop = "fatal"
                    result.fatal = result.fatal or outcome.fatal
    skipped_reason = {
        "max-failures": f"not attempted: --max-failures {max_failures} reached",
        "fatal": "not attempted: the run stopped on a fatal provider error",
        "interrupted": "not attempted: the run was interrupted (Ctrl+C); run again to finish",
    }.get(stop, "")
    left = list(queue)
    if stop == "max-failures" and not left:
        stop = ""  # the Nth failure was among the last writes: the limit stopped nothing (exit 4)
    for change in left:
        done(RowOutcome(change, "skipped", change.remote_id, stop, skipped_reason))
    result.outcomes = [outcomes[i] for i in sorted(outcomes)]
    result.requests = provider.stats.requests - requests_before
    result.seconds = round(time.monotonic() - started, 3)
    result.stopped = stop
    return result
