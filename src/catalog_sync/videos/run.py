"""``run_videos``: the video sheet to JoggAI videos, as one library call returning an outcome.

1. Read and validate the sheet (exit 3 when invalid, nothing sent), check the credentials.
2. Under the state lock: settle creates whose answer was lost (``settle``), find each row's
   product and the video the ledger already has for its settings.
3. The cost first: videos to create, the credits they take (1 per 2 minutes of video, at least
   1) and the account's remaining credits; ``max_credits`` refuses more (exit 6); the hook confirms.
4. Create, one after another, through the client's one limiter (shared with product writes:
   20 POST/min per key); each create recorded before it is sent.  18020 (insufficient credit)
   stops creating: the rows not started are reported ``not-started`` (exit 4).
5. ``wait``: poll every unfinished video on JoggAI's schedule (:class:`~.poll.Waiter`).
6. Record the run, write the report (row, product, video id, status, URLs, credits, error).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog_sync.errors import (
    CatalogSyncError,
    ConfigError,
    FatalProviderError,
    InvalidCatalogError,
    LimitExceededError,
    ProviderError,
    RetriableProviderError,
    RowFailedError,
    RowsFailedError,
    UnknownOutcomeError,
)
from catalog_sync.jobs.sync import Target, file_sha256
from catalog_sync.problems import Problem
from catalog_sync.report import check_output
from catalog_sync.sheets.model import Sheet
from catalog_sync.spec import ProviderSpec
from catalog_sync.state import Ledger, LedgerVideo
from catalog_sync.validation.result import ValidationReport
from catalog_sync.videos.poll import FINAL, Waiter
from catalog_sync.videos.report import write_video_report
from catalog_sync.videos.settle import OPEN, find_lost_videos
from catalog_sync.videos.sheet import VideoRow, load_video_sheet, resolve_rows, validate_video_sheet

__all__ = ["CostSummary", "VideosHooks", "VideosOutcome", "VideosRequest", "run_videos"]

#: JoggAI's "insufficient credit" code: creating stops, the rest are not started.
INSUFFICIENT_CREDIT = 18020
#: Statuses of a row that did not end well (exit 4).
NOT_OK = ("failed", "unknown", "not-started")


@dataclass(frozen=True)
class VideosRequest:
    target: Target
    sheet: str
    read: dict[str, Any] = field(default_factory=dict)  # sheet, mapping, encoding, delimiter
    force: bool = False  # create every row's video again, even when the ledger has one
    retry_failed: bool = False  # create again the rows whose video failed
    max_credits: float | None = None
    wait: bool = False
    waiter: Waiter | None = None  # how to wait (default: JoggAI's schedule, real time)
    report: Path | None = None


@dataclass(frozen=True)
class CostSummary:
    """What a run will spend, shown before anything is sent."""

    videos: int  # videos to create
    credits: float  # the credits they take
    remaining: float | None  # the account's remaining credits (None: the answer had no number)
    existing: int  # rows whose video the ledger already has (nothing sent for them)
    #: the state database knows no video made at this base URL: a sheet run before with another
    #: --state would have its videos made (and paid for) again
    new_ledger: bool = False

    @property
    def short(self) -> bool:
        """True when the account's credits do not cover the run (it would stop with 18020)."""
        return self.remaining is not None and self.credits > self.remaining


@dataclass
class VideosHooks:
    """What a person adds: see the cost and confirm it (raise to refuse), watch creates and waits."""

    cost: Callable[[CostSummary], None] = lambda cost: None
    confirm: Callable[[CostSummary], None] = lambda cost: None
    created: Callable[[dict[str, Any]], None] = lambda row: None  # a row's create was answered
    waiting: Callable[[int], None] = lambda total: None  # polling starts for this many videos
    polled: Callable[[dict[str, Any]], None] = lambda row: None  # a video's status was read


@dataclass
class VideosOutcome:
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    report: Path
    exit_code: int
    error: CatalogSyncError | None
    cost: CostSummary | None = None
    warnings: list[Problem] = field(default_factory=list)


@dataclass
class _Row:
    """One sheet row through the run: the wanted video and the ledger entry that holds it."""

    video: VideoRow
    action: str  # create | keep
    entry: LedgerVideo | None = None
    entry_id: int | None = None
    status: str = "not-started"
    video_id: str = ""
    video_url: str = ""
    cover_url: str = ""
    credits: float | None = None
    error: str = ""

    def adopt(self, entry: LedgerVideo) -> None:
        self.entry, self.entry_id = entry, entry.id
        self.status = "unknown" if entry.status in OPEN else entry.status
        self.video_id, self.video_url, self.cover_url = entry.video_id or "", entry.video_url, entry.cover_url
        self.credits, self.error = entry.credits, entry.error

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.video.row,
            "product": self.video.product,
            "product_id": self.video.product_id,
            "action": self.action,
            "video_id": self.video_id,
            "status": self.status,
            "video_url": self.video_url,
            "cover_url": self.cover_url,
            "credits": self.credits,
            "error": self.error,
        }


# ---------------------------------------------------------------------------------- the run
def run_videos(request: VideosRequest, hooks: VideosHooks | None = None) -> VideosOutcome:
    """Create (and with ``wait``, wait for) the videos of the sheet; see the module docstring."""
    from catalog_sync.apply.executor import sigterm_stops_the_run

    hooks = hooks or VideosHooks()
    target = request.target
    if target.provider != "jogg":
        raise ConfigError(f"videos are made by JoggAI only (-p jogg), not by {target.provider}")
    sheet, spec = load_video_sheet(request.sheet, **request.read)
    checked = _checked(validate_video_sheet(sheet, spec), sheet.display_name)
    _check_report_path(request)
    client = target.connect()
    with sigterm_stops_the_run(), Ledger(target.state) as ledger, ledger.locked("videos"):
        run_id = ledger.start_run(
            "videos", "jogg", client.base_url, request.sheet, None, catalog_sha256=file_sha256(request.sheet)
        )
        with _finishing(ledger, run_id, client):
            work, cost, stop = _make_videos(request, hooks, client, ledger, run_id, sheet, spec)
        out = [w.as_dict() for w in work]
        summary = _summary(out, client, cost, run_id)
        code, error = _exit(out, stop, request.wait)
        ledger.record_outcomes(run_id, [_outcome(r) for r in out])
        ledger.finish_run(
            run_id, counts={"status": summary["status"]}, requests=client.stats.requests, exit_code=code
        )
    report = request.report or target.state.parent / "reports" / f"videos-run-{run_id}.csv"
    written = write_video_report(report, out, summary)
    with suppress(CatalogSyncError), Ledger(target.state) as ledger:
        ledger.set_run_report(run_id, str(written))
    return VideosOutcome(out, summary, written, code, error, cost, checked.warnings)


def _make_videos(
    request: VideosRequest,
    hooks: VideosHooks,
    client: Any,
    ledger: Ledger,
    run_id: int,
    sheet: Sheet,
    spec: ProviderSpec,
) -> tuple[list[_Row], CostSummary, str | None]:
    """Under the lock: find the products, settle lost creates, show the cost, create, wait."""
    client.check_access()
    rows, problems = resolve_rows(sheet, spec, ledger, client.base_url)
    if problems:
        _checked(ValidationReport(problems, sheet=sheet.display_name, path=str(sheet.path)), "")
    settle_open_videos(client, ledger)
    fresh = not ledger.videos(client.name, client.base_url)
    work = [_decide(row, ledger, client.base_url, request) for row in rows]
    refresh(client, ledger, [w for w in work if w.action == "keep"])
    cost = _cost(client, work, fresh)
    hooks.cost(cost)
    if request.max_credits is not None and cost.credits > request.max_credits:
        raise LimitExceededError(
            f"the run would take {cost.credits:g} credits ({cost.videos} video(s)) but --max-credits is "
            f"{request.max_credits:g}; nothing was sent"
        )
    if cost.videos:
        hooks.confirm(cost)
    stop = create_all(client, ledger, run_id, work, hooks)
    if request.wait and stop is None:
        wait_for(client, ledger, work, request.waiter or Waiter(), hooks)
    return work, cost, stop


@contextmanager
def _finishing(ledger: Ledger, run_id: int, client: Any) -> Iterator[None]:
    """Close the run record when the run is refused or stopped, then let the error go on (SIGTERM: exit 143)."""
    from catalog_sync.apply.service import INTERRUPTED, TERMINATED, interrupted_error, signal_of

    try:
        yield
    except KeyboardInterrupt as exc:
        how = signal_of(exc)
        code = TERMINATED if how == "SIGTERM" else INTERRUPTED
        _finish_refused(ledger, run_id, client, code, stopped="interrupted")
        if how == "SIGTERM":
            raise interrupted_error(how, "creates already sent are recorded; run again to finish") from None
        raise
    except BaseException as exc:
        _finish_refused(ledger, run_id, client, exc.exit_code if isinstance(exc, CatalogSyncError) else 1)
        raise


def _finish_refused(ledger: Ledger, run_id: int, client: Any, code: int, stopped: str | None = None) -> None:
    with suppress(CatalogSyncError):
        ledger.finish_run(run_id, counts={}, requests=client.stats.requests, exit_code=code, stopped=stopped)


def _checked(report: ValidationReport, where: str) -> ValidationReport:
    """The report, or InvalidCatalogError (exit 3, nothing sent) when it has errors."""
    if report.valid:
        return report
    from catalog_sync.apply.service import invalid_message

    raise InvalidCatalogError(invalid_message(report, where or report.sheet or "the sheet"), report=report)


def _check_report_path(request: VideosRequest) -> None:
    state = request.target.state
    target = request.report or state.parent / "reports" / "videos.csv"
    inputs: list[tuple[str, str | Path | None]] = [("video sheet", request.sheet), ("state database", state)]
    check_output(target, inputs)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the report to {target}: {exc.strerror or exc}; nothing was sent"
        ) from exc


def _decide(row: VideoRow, ledger: Ledger, base_url: str, request: VideosRequest) -> _Row:
    """``keep`` the video the ledger has for this product and settings, else ``create``."""
    entry = ledger.latest_video("jogg", base_url, row.product_id, row.settings)
    again = request.force or (request.retry_failed and entry is not None and entry.status == "failed")
    if entry is None or entry.status == "refused" or again:
        return _Row(row, "create")
    work = _Row(row, "keep")
    work.adopt(entry)
    return work


def _cost(client: Any, work: list[_Row], fresh: bool) -> CostSummary:
    creates = [w for w in work if w.action == "create"]
    credits = sum(w.video.credits for w in creates)
    existing = len(work) - len(creates)
    return CostSummary(len(creates), credits, client.remaining_credits(), existing, fresh and bool(creates))


# ---------------------------------------------------------------------------------- settling and status
def settle_open_videos(client: Any, ledger: Ledger) -> int:
    """Look for every create whose answer was lost (this run's or a dead run's); returns how many were found."""
    entries = ledger.videos(client.name, client.base_url, statuses=OPEN)
    found = find_lost_videos(client, ledger, entries)
    for entry in entries:
        item = found.get(entry.id)
        if item is None:
            ledger.update_video(entry.id, status="unknown")
            continue
        ledger.update_video(entry.id, video_id=item["id"], **_status_columns(_status_of(client, item)))
    return len(found)


def _status_columns(status: dict[str, Any]) -> dict[str, Any]:
    columns = {k: status[k] for k in ("status", "video_url", "cover_url", "error") if status.get(k)}
    credit = status.get("deducted_credit")
    if isinstance(credit, int | float) and not isinstance(credit, bool):
        columns["credits"] = float(credit)
    return columns


def refresh(client: Any, ledger: Ledger, work: list[_Row]) -> None:
    """Read once the status of each kept video not yet final (GETs are free); unknown ones stay unknown."""
    for w in work:
        if w.video_id and w.status not in FINAL and w.status != "unknown":
            _apply_status(w, ledger, _poll(client, w.video_id))


def _poll(client: Any, video_id: str) -> dict[str, Any]:
    """A video's status; a video JoggAI no longer knows is failed, a read that kept failing changes nothing."""
    try:
        data = client.request("GET", client.id_path("/v2/product_video/", video_id))
    except RowFailedError as exc:
        return {"status": "failed", "error": exc.message}
    except RetriableProviderError:
        return {}
    return _status_of(client, data if isinstance(data, dict) else {})


def _status_of(client: Any, data: dict[str, Any]) -> dict[str, Any]:
    """A status answer (or a listed video) read as the union of the documented shapes, with its credits."""
    status = client.read_video(data)
    if "deducted_credit" in data:
        status["deducted_credit"] = data["deducted_credit"]
    return status


def _apply_status(w: _Row, ledger: Ledger, status: dict[str, Any]) -> None:
    if not status:
        return
    columns = _status_columns(status)
    w.status = columns.get("status", w.status)
    w.video_url = columns.get("video_url", w.video_url)
    w.cover_url = columns.get("cover_url", w.cover_url)
    w.error = columns.get("error", w.error)
    w.credits = columns.get("credits", w.credits)
    if w.entry_id is not None:
        ledger.update_video(w.entry_id, **columns)


# ---------------------------------------------------------------------------------- creating
def create_all(client: Any, ledger: Ledger, run_id: int, work: list[_Row], hooks: VideosHooks) -> str | None:
    """Create the videos of the ``create`` rows in order; returns why creating stopped (None: it did not)."""
    stop: str | None = None
    for w in work:
        if w.action != "create":
            continue
        if stop is not None:
            w.error = stop
            continue
        stop = create_one(client, ledger, run_id, w)
        hooks.created(w.as_dict())
    return stop


def create_one(client: Any, ledger: Ledger, run_id: int, w: _Row) -> str | None:
    """Send one create (recorded first); a lost answer is settled by the list.  Returns the reason
    to stop creating (credits ran out) or None."""
    video = w.video
    w.entry_id = ledger.begin_video(
        "jogg",
        client.base_url,
        product_id=video.product_id,
        settings=video.settings,
        row=video.row,
        name=video.name,
        run_id=run_id,
        credits=video.credits,
    )
    try:
        video_id = client.create_video(video.body)
    except UnknownOutcomeError as exc:
        _settle_now(client, ledger, w, exc)
        return None
    except FatalProviderError as exc:
        ledger.update_video(w.entry_id, status="refused", credits=0.0, error=exc.message)
        if exc.code != INSUFFICIENT_CREDIT:
            raise
        w.status, w.credits, w.error = "failed", 0.0, exc.message
        return f"not started: JoggAI had no credit left for it (code {INSUFFICIENT_CREDIT})"
    except ProviderError as exc:  # refused (40000, 10104) or still rate limited: no video, no credit
        ledger.update_video(w.entry_id, status="refused", credits=0.0, error=exc.message)
        w.status, w.credits, w.error = "failed", 0.0, exc.message
        return None
    w.video_id, w.status, w.credits = video_id, "processing", video.credits
    ledger.update_video(w.entry_id, video_id=video_id, status="processing")
    return None


def _settle_now(client: Any, ledger: Ledger, w: _Row, exc: UnknownOutcomeError) -> None:
    """The create's answer was lost: look for the video at once (it is not sent again)."""
    assert w.entry_id is not None
    entries = [e for e in ledger.videos(client.name, client.base_url, statuses=OPEN) if e.id == w.entry_id]
    item = find_lost_videos(client, ledger, entries).get(w.entry_id)
    if item is None:
        ledger.update_video(w.entry_id, status="unknown", error=exc.message)
        w.status, w.error = (
            "unknown",
            (
                f"{exc.message}; it was not found in JoggAI's video list yet: the next run looks again "
                "(nothing is created twice; --force would create it again)"
            ),
        )
        return
    w.video_id = item["id"]
    ledger.update_video(w.entry_id, video_id=w.video_id, status="processing")
    w.status, w.credits = "processing", w.video.credits
    _apply_status(w, ledger, _status_of(client, item))


# ---------------------------------------------------------------------------------- waiting
def wait_for(client: Any, ledger: Ledger, work: list[_Row], waiter: Waiter, hooks: VideosHooks) -> None:
    """Poll every video of the sheet not yet final until it is (or the waiter's time is up)."""
    waiting = {i: w.video_id for i, w in enumerate(work) if w.video_id and w.status not in FINAL}
    hooks.waiting(len(waiting))
    if not waiting:
        return

    def seen(index: int, status: dict[str, Any]) -> None:
        _apply_status(work[index], ledger, status)
        hooks.polled(work[index].as_dict())

    waiter.wait(waiting, lambda video_id: _poll(client, video_id), seen)


# ---------------------------------------------------------------------------------- the end
def _summary(rows: list[dict[str, Any]], client: Any, cost: CostSummary, run_id: int) -> dict[str, Any]:
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    created = sum(1 for r in rows if r["action"] == "create" and r["video_id"])
    spent = sum(r["credits"] or 0 for r in rows if r["action"] == "create")
    return {
        "run_id": run_id,
        "provider": "jogg",
        "rows": len(rows),
        "created": created,
        "kept": sum(1 for r in rows if r["action"] == "keep"),
        "status": dict(sorted(statuses.items())),
        "credits_estimated": cost.credits,
        "credits_spent": spent,
        "credits_remaining_before": cost.remaining,
        "requests": client.stats.requests,
    }


def _exit(rows: list[dict[str, Any]], stop: str | None, waited: bool) -> tuple[int, CatalogSyncError | None]:
    """Exit 4 when a row failed, is unknown or was not started (or, after ``wait``, is still not done)."""
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in (*NOT_OK, "processing", "pending")}
    if stop is not None:
        rest = f"; {counts['not-started']} row(s) not started" if counts["not-started"] else ""
        return RowsFailedError.exit_code, RowsFailedError(
            f"JoggAI has no credit left (code {INSUFFICIENT_CREDIT}): creating stopped{rest} (see the report); "
            "add credits and run again (the videos already made are not made again)"
        )
    unfinished = counts["processing"] + counts["pending"] if waited else 0
    if any(counts[s] for s in NOT_OK) or unfinished:
        parts = [f"{counts[s]} {s}" for s in NOT_OK if counts[s]]
        if unfinished:
            parts.append(f"{unfinished} still processing when the wait ended")
        return RowsFailedError.exit_code, RowsFailedError(", ".join(parts) + "; the report names each")
    return 0, None


def _outcome(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "row": row["row"],
        "key": row["product"],
        "action": row["action"],
        "status": row["status"],
        "remote_id": row["video_id"] or None,
        "error": row["error"] or None,
    }
