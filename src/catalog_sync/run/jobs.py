"""``catalog-sync run``: the jobs of ``catalog-sync.toml``, one after another, as cron runs them.

    config = load_run_config("catalog-sync.toml")
    outcome = run_jobs(config, ["labels"], log_file=Path("runs.jsonl"), on_result=print)
    outcome.exit_code                                   # the highest exit code of its jobs

Each job is a non-interactive :func:`~catalog_sync.run.sync.run_apply` (like ``--yes``): its
credentials come from the environment and its credentials file, its report is written as
``<reports>/<job>-<UTC time>.<format>`` and only the newest ``keep_reports`` of the job are kept.
A job refused before its run began (invalid catalog, lock held, credentials missing) is still
recorded in the state database.  Then the alert (once per change of outcome, see
:mod:`catalog_sync.run.alerts`) and one JSON line in the log file.  A run stopped by Ctrl+C or
SIGTERM runs no further job.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from catalog_sync.config.credentials import redact
from catalog_sync.config.jobs import AlertsConfig, JobConfig, RunConfig, job_environment
from catalog_sync.errors import CatalogSyncError, ConfigError, InvalidCatalogError
from catalog_sync.execute.estimate import Estimate
from catalog_sync.run.alerts import AlertAttempt, message_for, outcome_for, send, should_alert
from catalog_sync.run.lifecycle import record_refused
from catalog_sync.run.sync import ApplyHooks, ApplyRequest, run_apply
from catalog_sync.run.target import Target, file_sha256
from catalog_sync.sheets.options import ReadOptions
from catalog_sync.state import Ledger

__all__ = ["JobResult", "RunOutcome", "counts_text", "prune_reports", "report_path", "run_job", "run_jobs"]

_STOPPED = (130, 143)  # Ctrl+C, SIGTERM: no further job runs


@dataclass
class JobResult:
    """One job run: what the log line, the summary line and the alert are made of."""

    job: str
    provider: str
    started: str
    finished: str = ""
    exit_code: int = 0
    outcome: str = "ok"
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    requests: int = 0
    report: Path | None = None
    run_id: int | None = None
    error: str | None = None
    #: how long its writes were expected to take, said before they were sent (None: nothing to send)
    estimate: Estimate | None = None
    alerts: list[AlertAttempt] = field(default_factory=list)
    alert_note: str | None = None  # why the outcome could not be remembered, when it could not

    def as_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "provider": self.provider,
            "run_id": self.run_id,
            "started": self.started,
            "finished": self.finished,
            "exit_code": self.exit_code,
            "outcome": self.outcome,
            "counts": self.counts,
            "requests": self.requests,
            "report": None if self.report is None else str(self.report),
            "error": self.error,
            "estimate": None if self.estimate is None else self.estimate.to_dict(),
            "alerts": [a.as_dict() for a in self.alerts],
        }


@dataclass
class RunOutcome:
    results: list[JobResult]

    @property
    def exit_code(self) -> int:
        return max((r.exit_code for r in self.results), default=0)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def counts_text(counts: dict[str, dict[str, int]]) -> str:
    """``3 ok, 1 failed`` from a run's counts per status."""
    return ", ".join(f"{n} {name}" for name, n in (counts.get("status") or {}).items() if n)


# ------------------------------------------------------------------------------ running
def run_jobs(
    config: RunConfig,
    names: Sequence[str] = (),
    *,
    log_file: Path | None = None,
    on_result: Callable[[JobResult], None] | None = None,
    on_estimate: Callable[[JobResult], None] | None = None,
) -> RunOutcome:
    """Run the named jobs (all when none) one after another; log, alert and report each."""
    jobs = config.select(names)
    log = _open_log(log_file) if log_file is not None else None
    results: list[JobResult] = []
    try:
        for job in jobs:
            result = run_job(job, config.path, on_estimate)
            alert(result, job, config.alerts)
            if log is not None:
                _log(log, result)
            results.append(result)
            if on_result is not None:
                on_result(result)
            if result.exit_code in _STOPPED:
                break
    finally:
        if log is not None:
            log.close()
    return RunOutcome(results)


def run_job(
    job: JobConfig, config_path: Path | None = None, on_estimate: Callable[[JobResult], None] | None = None
) -> JobResult:
    """Apply one job non-interactively; every CatalogSyncError becomes the job's exit code.
    ``on_estimate`` hears, before the writes are sent, how long they should take."""
    result = JobResult(job.name, job.provider, _now())
    started: list[int] = []

    def estimated(estimate: Estimate | None) -> None:
        result.estimate = estimate
        if on_estimate is not None:
            on_estimate(result)

    try:
        outcome = run_apply(
            _request(job, config_path), ApplyHooks(started=started.append, estimated=estimated)
        )
    except CatalogSyncError as exc:
        result.exit_code, result.error = exc.exit_code, redact(exc.message)
        result.outcome = outcome_for(exc.exit_code, empty_catalog=_is_empty_catalog(exc))
        result.run_id = started[0] if started else _record_refused(job, exc.exit_code)
    except Exception as exc:  # one job's unexpected failure does not stop the other jobs
        result.exit_code, result.error = 1, redact(f"unexpected {type(exc).__name__}: {exc}")
        result.outcome = "failed"
        result.run_id = started[0] if started else _record_refused(job, 1)
    else:
        result.exit_code = outcome.exit_code
        result.error = (
            None if outcome.error is None else redact(getattr(outcome.error, "message", outcome.error))
        )
        result.counts = {k: dict(outcome.summary.get(k) or {}) for k in ("action", "status")}
        result.requests = int(outcome.summary.get("requests") or 0)
        result.report = outcome.report
        result.run_id = started[0] if started else None
        result.outcome = outcome_for(outcome.exit_code, empty_catalog=not outcome.rows)
    result.finished = _now()
    prune_reports(job)
    return result


def _request(job: JobConfig, config_path: Path | None) -> ApplyRequest:
    env = job_environment(job)
    read = ReadOptions(
        sheet=job.sheet or None,
        mapping=str(job.mapping) if job.mapping else None,
        house_rules=tuple(str(p) for p in job.schema),
        date_format=job.date_format,
    )
    return ApplyRequest(
        target=Target(
            job.provider,
            job.base_url,
            job.state,
            job.rate,
            job.concurrency,
            env=env,
            config_path=config_path,
        ),
        source=str(job.catalog),
        read=read,
        mode=job.mode,
        blanks=job.blanks,
        prefer=job.prefer,
        engine=job.engine,
        report=report_path(job),
        max_deletes=job.max_deletes,
        max_failures=job.max_failures,
        job=job.name,
    )


def _is_empty_catalog(exc: CatalogSyncError) -> bool:
    if not isinstance(exc, InvalidCatalogError):
        return False
    report = exc.context.get("report")
    problems = getattr(report, "errors", None) or []
    return any(getattr(p, "code", None) == "empty-catalog" for p in problems)


def _record_refused(job: JobConfig, exit_code: int) -> int | None:
    """A run record for a job refused before its run began (None when the state cannot be written)."""
    target = Target(job.provider, job.base_url, job.state)
    return record_refused(
        target,
        "apply",
        source=str(job.catalog),
        mode=job.mode,
        exit_code=exit_code,
        job=job.name,
        catalog_sha256=file_sha256(job.catalog),
    )


# ------------------------------------------------------------------------------ reports
_STAMP = "%Y%m%dT%H%M%SZ"


def report_path(job: JobConfig, now: dt.datetime | None = None) -> Path:
    """``<reports>/<job>-<UTC time>.<format>``, a new name even for two runs in one second."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime(_STAMP)
    path = job.reports / f"{job.name}-{stamp}.{job.report_format}"
    number = 1
    while path.exists():
        number += 1
        path = job.reports / f"{job.name}-{stamp}-{number}.{job.report_format}"
    return path


def _report_pattern(job: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(job)}-(\d{{8}}T\d{{6}}Z)(?:-(\d+))?\.(?:csv|xlsx|json|html)$")


def prune_reports(job: JobConfig) -> list[Path]:
    """Remove the job's reports beyond the newest ``keep_reports``; the removed paths."""
    pattern = _report_pattern(job.name)
    try:
        found = [(m, p) for p in job.reports.iterdir() if (m := pattern.match(p.name)) and p.is_file()]
    except OSError:
        return []
    found.sort(key=lambda mp: (mp[0].group(1), int(mp[0].group(2) or 1)), reverse=True)
    removed = []
    for _match, path in found[job.keep_reports :]:
        try:
            path.unlink()
            removed.append(path)
        except OSError:
            continue
    return removed


# ------------------------------------------------------------------------------ alerts and log
def alert(result: JobResult, job: JobConfig, alerts: AlertsConfig) -> None:
    """Send the job's alert when its outcome changed into or out of one in ``on``; remember it."""
    if not alerts.urls:
        return
    previous = _remembered(job, result)
    if should_alert(previous, result.outcome, alerts.on):
        message = message_for(
            job=result.job,
            provider=result.provider,
            outcome=result.outcome,
            previous=previous,
            exit_code=result.exit_code,
            counts=counts_text(result.counts),
            report=None if result.report is None else str(result.report),
            error=result.error,
            run_id=result.run_id,
        )
        result.alerts = send(alerts.urls, message)
        if not all(a.sent for a in result.alerts):
            return  # not remembered: the next run tries again
    if previous != result.outcome:
        _remember(job, result)


def _remembered(job: JobConfig, result: JobResult) -> str | None:
    try:
        with Ledger(job.state) as ledger:
            known = ledger.job_outcome(job.name)
    except CatalogSyncError as exc:
        result.alert_note = f"the last outcome could not be read: {redact(exc.message)}"
        return None
    return None if known is None else str(known["outcome"])


def _remember(job: JobConfig, result: JobResult) -> None:
    try:
        with Ledger(job.state) as ledger:
            ledger.remember_job_outcome(job.name, result.outcome, result.exit_code, result.run_id)
    except CatalogSyncError as exc:
        result.alert_note = f"the outcome could not be remembered: {redact(exc.message)}"


def _open_log(path: Path) -> TextIO:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("a", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot open the log file {path}: {exc.strerror or exc}") from exc


def _log(log: TextIO, result: JobResult) -> None:
    record = result.as_dict()
    if result.alert_note:
        record["alert_note"] = result.alert_note
    log.write(redact(json.dumps(record, ensure_ascii=False)) + "\n")
    log.flush()
