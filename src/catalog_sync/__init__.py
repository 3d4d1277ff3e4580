"""catalog-sync: keep spreadsheet product catalogs in step with providers' product APIs.

    import catalog_sync

    report = catalog_sync.validate("products.xlsx", "royalti")
    outcome = catalog_sync.sync("products.xlsx", catalog_sync.Target("royalti", base_url="http://127.0.0.1:8763"))
    outcome.exit_code, outcome.summary["status"], outcome.report

The calls (:func:`validate`, :func:`plan`, :func:`apply`, :func:`sync`, :func:`pull`, :func:`refresh`,
:func:`undo`) are in
:mod:`catalog_sync.api`, documented there with an example; the run behind each reads top to
bottom in :mod:`catalog_sync.run.sync`.  Importing this package is light: a name is loaded on
first use (the command line's ``--help`` imports it too).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and editors see; at run time each name loads on first use
    from catalog_sync.api import apply, plan, pull, refresh, sync, undo, validate
    from catalog_sync.errors import CatalogSyncError
    from catalog_sync.run.pull import PullOutcome
    from catalog_sync.run.sync import ApplyHooks, ApplyOutcome, PlanOutcome
    from catalog_sync.run.target import Target
    from catalog_sync.sheets.options import ReadOptions
    from catalog_sync.validation.result import ValidationReport

__version__ = "0.1.0"

__all__ = [
    "ApplyHooks",
    "ApplyOutcome",
    "CatalogSyncError",
    "PlanOutcome",
    "PullOutcome",
    "ReadOptions",
    "Target",
    "ValidationReport",
    "__version__",
    "apply",
    "plan",
    "pull",
    "refresh",
    "sync",
    "undo",
    "validate",
]

_HOMES = {
    "apply": "catalog_sync.api",
    "plan": "catalog_sync.api",
    "pull": "catalog_sync.api",
    "refresh": "catalog_sync.api",
    "sync": "catalog_sync.api",
    "undo": "catalog_sync.api",
    "validate": "catalog_sync.api",
    "Target": "catalog_sync.run.target",
    "ReadOptions": "catalog_sync.sheets.options",
    "ApplyHooks": "catalog_sync.run.sync",
    "ApplyOutcome": "catalog_sync.run.sync",
    "PlanOutcome": "catalog_sync.run.sync",
    "PullOutcome": "catalog_sync.run.pull",
    "ValidationReport": "catalog_sync.validation.result",
    "CatalogSyncError": "catalog_sync.errors",
}


def __getattr__(name: str) -> Any:
    """The library API, imported on first use (see ``_HOMES``)."""
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
