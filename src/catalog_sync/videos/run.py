"""``run_videos``: the video sheet to JoggAI videos, as one library call returning an outcome.

1. Read and validate the sheet and find each row's product in the ledger (exit 3 when invalid,
   nothing sent, not even the credential check), then check the credentials.
2. Under the state lock: settle creates whose answer was lost (``settle``: found, or shown never
   to have reached JoggAI, then created again), find the video the ledger already has for each
   row's settings (``retry_unknown`` creates the unknown ones again).
3. The cost first: videos to create, the credits they take (1 per 2 minutes of video, at least
   1) and the account's remaining credits; ``max_credits`` refuses more (exit 6); the hook confirms.
4. Create, one after another, through the client's one limiter (shared with product writes:
   20 POST/min per key); each create recorded before it is sent.  18020 (insufficient credit)
   stops creating: the rows not started are reported ``not-started`` (exit 4).
5. ``wait``: poll every unfinished video on JoggAI's schedule (:class:`~.poll.Waiter`).
6. Record the run, write the report (row, product, video id, status, URLs, credits, error, note).

Every answer is checked before it is stored (:mod:`.answers`).  Ctrl+C or SIGTERM stops the run
with the rows so far recorded and the report written (exit 130 / 143).
"""

from __future__ import annotations

from collections.abc import Callable
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
    interrupted_error,
    signal_of,
)
from catalog_sync.execute.gate import WriteGate
from catalog_sync.problems import Problem
from catalog_sync.providers.jogg.client import JoggProvider
from catalog_sync.run.lifecycle import open_run, record_report
from catalog_sync.run.target import Target, check_writable, file_sha256
from catalog_sync.sheets.model import Sheet
from catalog_sync.sheets.options import ReadOptions
from catalog_sync.sheets.write.report import check_report
from catalog_sync.spec import ProviderSpec
from catalog_sync.state import Ledger, LedgerScope, LedgerVideo
from catalog_sync.validation.gate import invalid_message, refused_as_errors
from catalog_sync.validation.result import ValidationReport
from catalog_sync.videos.answers import CONTRACT, check_video_answer, read_remaining_quota
from catalog_sync.videos.poll import FINAL, Waiter
from catalog_sync.videos.report import REPORT_SHAPE, write_video_report
from catalog_sync.videos.settle import NOT_CREATED, OPEN, find_lost_videos
from catalog_sync.videos.sheet import VideoRow, load_video_sheet, resolve_rows, validate_video_sheet

__all__ = ["CostSummary", "VideosHooks", "VideosOutcome", "VideosRequest", "run_videos"]

#: JoggAI's "insufficient credit" code: creating stops, the rest are not started.
INSUFFICIENT_CREDIT = 18020
#: Statuses of a row that did not end well (exit 4).
NOT_OK = ("failed", "unknown", "not-started")


@dataclass(frozen=True)
class _Stop:
    """Why creating stopped: ``no-credit`` (18020, or none left before the run) or ``held-id`` (JoggAI
    answered a video id another row holds); ``message`` goes on each row not started."""

    reason: str
    message: str


@dataclass(frozen=True)
class VideosRequest:
    target: Target
    sheet: str
    #: sheet, mapping, encoding, delimiter (the video sheet has its own schema: house rules are not read)
    read: ReadOptions = field(default_factory=ReadOptions)
    force: bool = False  # create every row's video again, even when the ledger has one
    retry_failed: bool = False  # create again the rows whose video failed
    #: create again the rows whose earlier create is unknown (a video may exist: it may cost twice)
    retry_unknown: bool = False
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
    #: what the state database said while it was read (rows written before it kept accounts, adopted)
    notes: tuple[str, ...] = ()

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
    note: str = ""  # what the run did about an earlier create (settled, created again)

    def adopt(self, entry: LedgerVideo) -> None:
        self.entry, self.entry_id = entry, entry.id
        self.status = "unknown" if entry.status in (*OPEN, CONTRACT) else entry.status
        self.video_id, self.video_url, self.cover_url = entry.video_id or "", entry.video_url, entry.cover_url
        self.credits, self.error = entry.credits, entry.error

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.video.row,
            "product": self.video.product,
            "product_id": self.video.product_id,
            "product_name": self.video.product_label,
            "video_name": self.video.name,
            "action": self.action,
            "video_id": self.video_id,
            "status": self.status,
            "video_url": self.video_url,
            "cover_url": self.cover_url,
            "credits": self.credits,
            "credits_spent": self.credits_spent,
            "error": self.error,
            "note": self.note,
        }

    @property
    def credits_spent(self) -> float | None:
        """What this run spent on the row: 0 for a kept video, None when a create's outcome is unknown."""
        if self.action != "create" or self.entry_id is None:
            return 0.0
        if self.video_id:
            return self.credits if self.credits is not None else self.video.credits
        return None if self.status == "unknown" else 0.0


# ---------------------------------------------------------------------------------- the run
def run_videos(request: VideosRequest, hooks: VideosHooks | None = None) -> VideosOutcome:
    """Create (and with ``wait``, wait for) the videos of the sheet; see the module docstring."""
    hooks = hooks or VideosHooks()
    target = request.target
    if target.provider != "jogg":
        raise ConfigError(f"videos are made by JoggAI only (-p jogg), not by {target.provider}")
    _check_report_path(request)  # before anything is read or sent
    sheet, spec = load_video_sheet(request.sheet, **request.read.sheet_kwargs())
    checked = _checked(refused_as_errors(validate_video_sheet(sheet, spec)))
    client = target.connect()
    assert isinstance(client, JoggProvider)  # -p jogg, checked above
    work: list[_Row] = []
    sha256 = file_sha256(request.sheet)
    with open_run(target, client, "videos", source=request.sheet, catalog_sha256=sha256) as run:
        try:
            cost, stop = _make_videos(request, hooks, client, run.ledger, run.id, sheet, spec, work)
            signal_name = None
        except KeyboardInterrupt as exc:  # Ctrl+C or SIGTERM: record what was done, write the report
            cost, stop, signal_name = None, None, _interrupted(work, exc)
        out = [w.as_dict() for w in work]
        summary = _summary(out, client, cost, run.id)
        code, error = _exit(out, stop, request.wait) if signal_name is None else _stopped_by(signal_name)
        run.ledger.record_outcomes(run.id, [_outcome(r) for r in out])
        failed = run.finish(
            counts={"status": summary["status"]},
            exit_code=code,
            stopped=None if signal_name is None else "interrupted",
        )
        if failed is not None:
            raise failed
    report = request.report or target.report_folder() / f"videos-run-{run.id}.csv"
    written = write_video_report(report, out, summary)
    record_report(target.state, run.id, written)
    return VideosOutcome(out, summary, written, code, error, cost, checked.warnings)


def _make_videos(
    request: VideosRequest,
    hooks: VideosHooks,
    client: JoggProvider,
    ledger: Ledger,
    run_id: int,
    sheet: Sheet,
    spec: ProviderSpec,
    work: list[_Row],
) -> tuple[CostSummary, _Stop | None]:
    """Under the lock: find the products, settle lost creates, show the cost, create, wait (``work``
    is filled as it goes, so an interrupted run still reports every row)."""
    rows, problems = resolve_rows(
        sheet, spec, ledger, client.ledger_scope
    )  # the ledger only: nothing sent yet
    if problems:
        _checked(ValidationReport(problems, sheet=sheet.display_name, path=str(sheet.path)))
    client.check_access()
    work += [_Row(row, "create") for row in rows]  # not started, until decided
    not_created = settle_open_videos(client, ledger)
    fresh = not ledger.videos(client.ledger_scope)
    work[:] = [_decide(row, ledger, client.ledger_scope, request, not_created) for row in rows]
    refresh(client, ledger, [w for w in work if w.action == "keep"])
    cost = _cost(client, work, fresh, ledger.notes)
    hooks.cost(cost)
    if request.max_credits is not None and cost.credits > request.max_credits:
        raise LimitExceededError(
            f"the run would take {cost.credits:g} credits ({cost.videos} video(s)) but --max-credits is "
            f"{request.max_credits:g}; nothing was sent"
        )
    if cost.videos:
        hooks.confirm(cost)
    stop = _no_credit_at_all(cost, work) or create_all(client, ledger, run_id, work, hooks)
    if request.wait and stop is None:
        wait_for(client, ledger, work, request.waiter or Waiter(), hooks)
    return cost, stop


def _no_credit_at_all(cost: CostSummary, work: list[_Row]) -> _Stop | None:
    """The account is known to lack the credits of even the first create: nothing is sent."""
    creates = [w for w in work if w.action == "create"]
    if cost.remaining is None or not creates or cost.remaining >= creates[0].video.credits:
        return None
    stop = (
        f"not started: the account has {cost.remaining:g} credit(s) left, the video takes "
        f"{creates[0].video.credits:g} (nothing was sent)"
    )
    for w in creates:
        w.error = stop
    return _Stop("no-credit", stop)


def _interrupted(work: list[_Row], exc: KeyboardInterrupt) -> str:
    """Mark the rows an interrupted run left: a create in flight is unknown, the rest not started."""
    for w in work:
        if w.action != "create" or w.video_id or w.status != "not-started":
            continue
        if w.entry_id is not None:
            w.status = "unknown"
            w.error = "the run was interrupted while its create was sent: the next run looks for it"
        else:
            w.error = "not started: the run was interrupted"
    return signal_of(exc)


def _stopped_by(signal_name: str) -> tuple[int, CatalogSyncError]:
    error = interrupted_error(signal_name, "the creates already sent are recorded and the report written; "
                              "run again to finish (nothing is created twice)")  # fmt: skip
    return error.exit_code, error


def _checked(report: ValidationReport) -> ValidationReport:
    """The report, or InvalidCatalogError (exit 3, nothing sent) when it has errors."""
    if report.valid:
        return report
    raise InvalidCatalogError(
        invalid_message(report, nothing="Nothing was sent.", listed=True), report=report
    )


def _check_report_path(request: VideosRequest) -> None:
    state = request.target.state
    target = request.report or state.parent / "reports" / "videos.csv"
    inputs: list[tuple[str, str | Path | None]] = [("video sheet", request.sheet), ("state database", state)]
    check_report(target, inputs, REPORT_SHAPE)
    check_writable(target)


def _decide(
    row: VideoRow, ledger: Ledger, scope: LedgerScope, request: VideosRequest, not_created: set[int]
) -> _Row:
    """``keep`` the video the ledger has for this product and settings, else ``create``."""
    entry = ledger.latest_video(scope, row.product_id, row.settings)
    if entry is None or entry.status == "refused":
        return _Row(row, "create")
    if entry.status == NOT_CREATED:
        run = f" (run {entry.run_id})" if entry.run_id is not None else ""
        found = "this run's look-up" if entry.id in not_created else "an earlier look-up"
        note = f"the earlier create{run} never reached JoggAI ({found} of its video list): created again"
        return _Row(row, "create", note=note)
    if request.retry_unknown and entry.status in OPEN:
        ledger.update_video(entry.id, status="given-up", error="created again on --retry-unknown")
        note = ("--retry-unknown: created again; the earlier create may have made a video too "
                "(and taken its credit): check JoggAI's video list")  # fmt: skip
        return _Row(row, "create", note=note)
    if request.force or (request.retry_failed and entry.status == "failed"):
        return _Row(row, "create")
    work = _Row(row, "keep")
    work.adopt(entry)
    return work


def _cost(client: JoggProvider, work: list[_Row], fresh: bool, notes: list[str]) -> CostSummary:
    creates = [w for w in work if w.action == "create"]
    credits = sum(w.video.credits for w in creates)
    existing = len(work) - len(creates)
    remaining = read_remaining_quota(client)
    return CostSummary(len(creates), credits, remaining, existing, fresh and bool(creates), tuple(notes))


# ---------------------------------------------------------------------------------- settling and status
def settle_open_videos(client: JoggProvider, ledger: Ledger) -> set[int]:
    """Look for every create whose answer was lost (this run's or a dead run's); returns the ids of
    the entries the list shows never reached JoggAI (now ``not-created``: no credit counted)."""
    entries = ledger.videos(client.ledger_scope, statuses=OPEN)
    settled = find_lost_videos(client, ledger, entries)
    for entry in entries:
        item = settled.found.get(entry.id)
        if item is not None:
            ledger.update_video(entry.id, video_id=item["id"], **_status_columns(check_video_answer(item)))
        elif entry.id in settled.not_created:
            ledger.update_video(
                entry.id, status=NOT_CREATED, credits=0.0, error="not in JoggAI's video list: never created"
            )
        else:
            ledger.update_video(entry.id, status="unknown")
    return set(settled.not_created)


def _status_columns(status: dict[str, Any]) -> dict[str, Any]:
    """A checked status as ledger columns (a contract problem is stored as ``unreadable``: polled again)."""
    columns = {
        k: status[k] for k in ("status", "video_url", "cover_url", "error", "credits") if status.get(k)
    }
    if status.get("contract"):
        columns["status"] = CONTRACT
    return columns


def refresh(client: JoggProvider, ledger: Ledger, work: list[_Row]) -> None:
    """Read once the status of each kept video not yet final (GETs are free); unknown creates stay unknown."""
    for w in work:
        if w.video_id and w.status not in FINAL:
            _apply_status(w, ledger, _poll(client, w.video_id))


def _poll(client: JoggProvider, video_id: str) -> dict[str, Any]:
    """A video's status; a video JoggAI no longer knows is failed, a read that kept failing changes nothing."""
    try:
        data = client.request("GET", client.id_path("/v2/product_video/", video_id))
    except RowFailedError as exc:
        return {"status": "failed", "error": exc.message}
    except RetriableProviderError:
        return {}
    return check_video_answer(data if isinstance(data, dict) else {}, video_id)


def _apply_status(w: _Row, ledger: Ledger, status: dict[str, Any]) -> None:
    if not status:
        return
    columns = _status_columns(status)
    w.status = status.get("status", w.status)
    w.video_url = columns.get("video_url", w.video_url)
    w.cover_url = columns.get("cover_url", w.cover_url)
    w.error = columns.get("error", w.error)
    w.credits = columns.get("credits", w.credits)
    if w.entry_id is not None:
        ledger.update_video(w.entry_id, **columns)


# ---------------------------------------------------------------------------------- creating
def create_all(
    client: JoggProvider, ledger: Ledger, run_id: int, work: list[_Row], hooks: VideosHooks
) -> _Stop | None:
    """Create the videos of the ``create`` rows in order; returns why creating stopped (None: it did not)."""
    stop: _Stop | None = None
    for w in work:
        if w.action != "create":
            continue
        if stop is not None:
            w.error = stop.message
            continue
        stop = create_one(client, ledger, run_id, w)
        hooks.created(w.as_dict())
    return stop


def create_one(client: JoggProvider, ledger: Ledger, run_id: int, w: _Row) -> _Stop | None:
    """Send one create (recorded first); a lost answer is settled by the list.  Returns the reason
    to stop creating (credits ran out) or None."""
    video = w.video
    w.entry_id = ledger.begin_video(
        client.ledger_scope,
        product_id=video.product_id,
        settings=video.settings,
        row=video.row,
        name=video.name,
        run_id=run_id,
        credits=video.credits,
    )
    try:
        video_id = WriteGate(client).create_video(video.body)
    except UnknownOutcomeError as exc:
        _settle_now(client, ledger, w, exc)
        return None
    except FatalProviderError as exc:
        ledger.update_video(w.entry_id, status="refused", credits=0.0, error=exc.message)
        if exc.code != INSUFFICIENT_CREDIT:
            raise
        w.status, w.credits, w.error = "failed", 0.0, exc.message
        return _Stop(
            "no-credit", f"not started: JoggAI had no credit left for it (code {INSUFFICIENT_CREDIT})"
        )
    except ProviderError as exc:  # refused (40000, 10104) or still rate limited: no video, no credit
        ledger.update_video(w.entry_id, status="refused", credits=0.0, error=exc.message)
        w.status, w.credits, w.error = "failed", 0.0, exc.message
        return None
    holder = _held_by_another(client, ledger, video_id, w.entry_id)
    if holder is not None:
        w.status = "unknown"
        w.error = (
            f"JoggAI answered video id {video_id}, which the state database holds for sheet row "
            f"{holder.row} already: not trusted, creating stopped"
        )
        ledger.update_video(w.entry_id, status="unknown", error=w.error)
        return _Stop("held-id", f"not started: JoggAI answered a video id another row holds ({video_id})")
    w.video_id, w.status, w.credits = video_id, "processing", video.credits
    ledger.update_video(w.entry_id, video_id=video_id, status="processing")
    return None


def _held_by_another(
    client: JoggProvider, ledger: Ledger, video_id: str, entry_id: int
) -> LedgerVideo | None:
    others = (v for v in ledger.videos(client.ledger_scope) if v.id != entry_id)
    return next((v for v in others if v.video_id == video_id), None)


def _settle_now(client: JoggProvider, ledger: Ledger, w: _Row, exc: UnknownOutcomeError) -> None:
    """The create's answer was lost: look for the video at once (it is not sent again)."""
    assert w.entry_id is not None
    entries = [e for e in ledger.videos(client.ledger_scope, statuses=OPEN) if e.id == w.entry_id]
    item = find_lost_videos(client, ledger, entries).found.get(w.entry_id)
    if item is None:
        w.status, w.error = "unknown", _lost_answer_text(exc)
        ledger.update_video(w.entry_id, status="unknown", error=w.error)
        return
    w.video_id = item["id"]
    ledger.update_video(w.entry_id, video_id=w.video_id, status="processing")
    w.status, w.credits = "processing", w.video.credits
    _apply_status(w, ledger, check_video_answer(item))


def _lost_answer_text(exc: UnknownOutcomeError) -> str:
    """The row's error for a create whose answer was lost (the video flow's own advice, not the product one's)."""
    why = "the answer had no video id" if exc.code == "no-video-id" else "the answer was lost"
    return (
        f"JoggAI POST /v2/create_video_from_product: {why}, so the video may exist; it is not in JoggAI's video "
        "list yet: the next run looks again and creates it only if the list shows it never arrived "
        "(--retry-unknown creates it again at once, at the risk of a second video)"
    )


# ---------------------------------------------------------------------------------- waiting
def wait_for(
    client: JoggProvider, ledger: Ledger, work: list[_Row], waiter: Waiter, hooks: VideosHooks
) -> None:
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
def _summary(
    rows: list[dict[str, Any]], client: JoggProvider, cost: CostSummary | None, run_id: int
) -> dict[str, Any]:
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    created = sum(1 for r in rows if r["action"] == "create" and r["video_id"])
    spent = sum(r["credits_spent"] or 0 for r in rows)
    return {
        "run_id": run_id,
        "provider": "jogg",
        "rows": len(rows),
        "created": created,
        "kept": sum(1 for r in rows if r["action"] == "keep"),
        "status": dict(sorted(statuses.items())),
        "credits_estimated": None if cost is None else cost.credits,
        "credits_spent": spent,
        "credits_remaining_before": None if cost is None else cost.remaining,
        "requests": client.stats.requests,
    }


def _exit(
    rows: list[dict[str, Any]], stop: _Stop | None, waited: bool
) -> tuple[int, CatalogSyncError | None]:
    """Exit 4 when a row failed, is unknown or was not started (or, after ``wait``, is still not done)."""
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in (*NOT_OK, "processing", "pending")}
    if stop is not None:
        rest = f"; {counts['not-started']} row(s) not started" if counts["not-started"] else ""
        if stop.reason == "held-id":
            why = "JoggAI answered a video id another row already holds: creating stopped"
            then = "the answer is not trusted; check JoggAI's video list before running again"
        else:
            why = "JoggAI has no credit left for the videos: creating stopped"
            then = "add credits and run again (the videos already made are not made again)"
        return RowsFailedError.exit_code, RowsFailedError(f"{why}{rest} (see the report); {then}")
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
