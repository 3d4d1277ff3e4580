"""``pull``: what the provider holds as a sheet ``apply`` takes back unchanged (:func:`run_pull`)."""

from catalog_sync.plan.base import BASE_SHEET
from catalog_sync.pull.export import PullOutcome, PullRequest, run_pull

__all__ = ["BASE_SHEET", "PullOutcome", "PullRequest", "run_pull"]
