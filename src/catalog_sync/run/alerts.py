"""Alerts for cron jobs, through Apprise: once per change of a job's outcome.

    outcome = outcome_for(exit_code, empty_catalog=False)      # ok, failed, rows-failed, locked, …
    if should_alert(previous, outcome, config.on): send(config.urls, message_for(result))

The last outcome of each job is remembered in the state database (``job_outcomes``), so a
job failing every night alerts on the first failure and again on the recovery, not every
night.  An alert that cannot be sent is reported back (:class:`AlertAttempt`) and logged by
the caller; it changes no exit code, and the outcome is then not remembered, so the next run
tries again.  Messages name the job, provider, outcome, counts and report path; the error
text they carry goes through :func:`~catalog_sync.config.credentials.redact`; URLs are shown only in
Apprise's privacy form (tokens and passwords hidden).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from catalog_sync.config.alert_urls import apprise_for, private_url
from catalog_sync.config.credentials import redact

__all__ = [
    "AlertAttempt",
    "AlertMessage",
    "outcome_for",
    "send",
    "should_alert",
]

_BY_EXIT = {0: "ok", 1: "failed", 3: "failed", 4: "rows-failed", 5: "locked", 6: "limit"}
_NOTIFY_TYPE = {"ok": "success", "failed": "failure"}
_SEND_TIMEOUT = 30.0  # seconds for one URL's delivery (Apprise's own socket timeouts are shorter)


def outcome_for(exit_code: int, *, empty_catalog: bool = False) -> str:
    """The alert outcome of a job run's exit code (``empty-catalog`` when the sheet had no rows)."""
    if empty_catalog:
        return "empty-catalog"
    return _BY_EXIT.get(exit_code, "failed")  # 130/143 (stopped) and anything else: failed


def should_alert(previous: str | None, outcome: str, on: Collection[str]) -> bool:
    """True on a change of outcome into one listed in ``on``, or out of one (the recovery)."""
    if outcome == previous:
        return False
    return outcome in on or (previous is not None and previous in on)


@dataclass(frozen=True)
class AlertMessage:
    title: str
    body: str
    notify_type: str = "info"  # Apprise's: info, success, warning, failure


@dataclass(frozen=True)
class AlertAttempt:
    """One URL's delivery: its privacy form, whether it was sent, and why not."""

    url: str
    sent: bool
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"url": self.url, "sent": self.sent, "error": self.error}


def message_for(
    *,
    job: str,
    provider: str,
    outcome: str,
    previous: str | None,
    exit_code: int,
    counts: str,
    report: str | None,
    error: str | None,
    run_id: int | None,
) -> AlertMessage:
    """The alert text: job, provider, outcome (and what it was before), counts, report, error."""
    recovered = outcome == "ok" and previous not in (None, "ok")
    what = f"recovered (was {previous})" if recovered else outcome
    lines = [
        f"job: {job}",
        f"provider: {provider}",
        f"outcome: {outcome} (exit {exit_code})" + (f", was {previous}" if previous else ""),
        f"counts: {counts or 'none'}",
        f"report: {report or 'none'}",
    ]
    if run_id is not None:
        lines.append(f"run: {run_id} (catalog-sync runs {run_id})")
    if error:
        lines.append(f"error: {error}")
    kind = _NOTIFY_TYPE.get(outcome, "warning")
    return AlertMessage(f"catalog-sync: job {job} ({provider}) {what}", redact("\n".join(lines)), kind)


def send(urls: Sequence[str], message: AlertMessage) -> list[AlertAttempt]:
    """Deliver ``message`` to each URL; every failure is returned, none raised."""
    return [_send_one(url, message) for url in urls]


def _send_one(url: str, message: AlertMessage) -> AlertAttempt:
    shown = private_url(url)
    notifier = apprise_for(url)
    if notifier is None:
        return AlertAttempt(shown, False, "Apprise does not understand this URL")
    said: list[str] = []
    try:
        result = notifier.notify(
            body=message.body,
            title=message.title,
            notify_type=message.notify_type,
            timeout=_SEND_TIMEOUT,
            log_callback=lambda entry, _plugin: said.append(str(getattr(entry, "message", entry))),
        )
    except Exception as exc:  # a plugin's own failure must not stop the run
        return AlertAttempt(shown, False, redact(f"{type(exc).__name__}: {exc}"))
    if bool(result):
        return AlertAttempt(shown, True)
    reason = said[-1] if said else "the service did not accept it"
    return AlertAttempt(shown, False, redact(reason))
