"""The library API: what the commands do, as calls (``import catalog_sync``).

    import catalog_sync
    from catalog_sync import Target

    report = catalog_sync.validate("products.xlsx", "royalti")        # nothing is sent
    if report.valid:
        target = Target("royalti", base_url="http://127.0.0.1:8763")  # credentials: ROYALTI_API_KEY
        plan = catalog_sync.plan("products.xlsx", target).plan        # what would change
        done = catalog_sync.sync("products.xlsx", target)             # plan and apply
        print(done.summary["status"], done.report)                    # counts, the per-row report
    catalog_sync.pull(target, "products.xlsx")                        # the provider's records, to edit
    catalog_sync.undo(done.result.run_id, target, out="undo.json")    # its inverse, to apply like a plan

A ``target`` is a :class:`Target` or just a provider's name (its base URL and credentials then come
from the environment or ``catalog-sync.toml``, the state database is ``.catalog-sync/state.db``).
Each call is the command of the same name without the terminal: the same checks, the same run
record, the same exit code (``outcome.exit_code``; a refusal raises a
:class:`~catalog_sync.errors.CatalogSyncError` carrying it).
"""

from __future__ import annotations

from pathlib import Path

from catalog_sync.engine import validate_file
from catalog_sync.run.pull import PullOutcome, PullRequest, run_pull
from catalog_sync.run.refresh import RefreshOutcome, RefreshRequest, run_refresh
from catalog_sync.run.sync import (
    ApplyHooks,
    ApplyOutcome,
    ApplyRequest,
    PlanOutcome,
    PlanRequest,
    run_apply,
    run_plan,
)
from catalog_sync.run.target import Target
from catalog_sync.run.undo import UndoRequest, run_undo
from catalog_sync.sheets.options import ReadOptions
from catalog_sync.validation import ValidationReport

__all__ = ["apply", "plan", "pull", "refresh", "sync", "undo", "validate"]


def _target(target: Target | str) -> Target:
    return Target(target) if isinstance(target, str) else target


def validate(
    catalog: str | Path, provider: str, read: ReadOptions | None = None, *, engine: str = "auto"
) -> ValidationReport:
    """Every problem of ``catalog`` for ``provider`` (``report.valid``, ``report.problems``); nothing is sent.

    ``engine`` (``--engine``): ``memory``, ``disk`` (the out-of-core engine: a CSV past memory, checked
    chunk by chunk; its ``report.problems`` is read back from a file) or ``auto`` (``disk`` for a CSV
    too big for memory)."""
    return validate_file(catalog, provider, read, engine=engine)


def plan(
    catalog: str | Path,
    target: Target | str,
    *,
    read: ReadOptions | None = None,
    mode: str = "upsert",
    blanks: str = "keep",
    prefer: str | None = None,
    out: str | Path | None = None,
    html: str | Path | None = None,
    engine: str = "auto",
) -> PlanOutcome:
    """What applying ``catalog`` would change (``outcome.plan``), saved to ``out`` when given, and
    written as a page to review (``outcome.page``) to ``html`` when given.  ``engine`` (``--engine``):
    ``memory``, ``disk`` (the out-of-core engine: a CSV past memory, the same plan) or ``auto``."""
    request = PlanRequest(
        _target(target),
        str(catalog),
        read or ReadOptions(),
        mode=mode,
        blanks=blanks,
        prefer=prefer,
        out=None if out is None else Path(out),
        html=None if html is None else Path(html),
        engine=engine,
    )
    return run_plan(request)


def apply(
    source: str | Path,
    target: Target | str,
    *,
    read: ReadOptions | None = None,
    mode: str = "upsert",
    blanks: str = "keep",
    prefer: str | None = None,
    report: str | Path | None = None,
    max_deletes: int = 0,
    max_failures: int | None = None,
    hooks: ApplyHooks | None = None,
    engine: str = "auto",
) -> ApplyOutcome:
    """Carry out a saved plan (``PLAN.json``, exactly) or a catalog (planned first) on ``target``.
    ``engine``: the engine that reads and plans a catalog (``--engine``; as :func:`plan`)."""
    request = ApplyRequest(
        _target(target),
        str(source),
        read or ReadOptions(),
        mode=mode,
        blanks=blanks,
        prefer=prefer,
        report=None if report is None else Path(report),
        max_deletes=max_deletes,
        max_failures=max_failures,
        engine=engine,
    )
    return run_apply(request, hooks)


def sync(
    catalog: str | Path,
    target: Target | str,
    *,
    read: ReadOptions | None = None,
    mode: str = "upsert",
    blanks: str = "keep",
    prefer: str | None = None,
    report: str | Path | None = None,
    max_deletes: int = 0,
    max_failures: int | None = None,
    engine: str = "auto",
) -> ApplyOutcome:
    """Validate ``catalog``, plan it against what ``target`` holds and apply the plan, in one run
    (``engine``: as :func:`plan`)."""
    if Path(catalog).suffix.lower() == ".json":
        raise ValueError("sync takes a catalog; apply a saved plan with catalog_sync.apply")
    return apply(
        catalog,
        target,
        read=read,
        mode=mode,
        blanks=blanks,
        prefer=prefer,
        report=report,
        max_deletes=max_deletes,
        max_failures=max_failures,
        engine=engine,
    )


def pull(
    target: Target | str, out: str | Path, *, sheet: str = "Products", force: bool = False
) -> PullOutcome:
    """Write what ``target`` holds to ``out`` (.xlsx, .ods, .csv): a sheet that plans no change.
    An existing ``out`` is refused (it may hold edits) unless ``force``."""
    return run_pull(PullRequest(_target(target), Path(out), sheet, force))


def refresh(target: Target | str, path: str | Path, *, sheet: str | None = None) -> RefreshOutcome:
    """Bring the pulled workbook at ``path`` up to date in place: its hidden base and the cells nobody
    edited take what ``target`` holds now; edits not applied yet are left alone (``pull --refresh``)."""
    return run_refresh(RefreshRequest(_target(target), Path(path), sheet))


def undo(
    run_id: int, target: Target | str, *, out: str | Path | None = None, force: bool = False
) -> PlanOutcome:
    """The inverse of finished run ``run_id`` as a plan (``outcome.plan``; nothing is sent), saved to
    ``out`` when given: carry it out with :func:`apply`."""
    return run_undo(UndoRequest(_target(target), run_id, None if out is None else Path(out), force))
