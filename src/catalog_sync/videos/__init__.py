"""JoggAI product videos from a sheet, as library calls (``catalog-sync videos`` and ``options``).

    outcome = run_videos(VideosRequest(target=Target("jogg", base_url=...), sheet="videos.csv", wait=True))
    outcome.rows, outcome.summary, outcome.report, outcome.exit_code

One row of the sheet is one wanted video.  The ledger keeps product + settings fingerprint →
video id, so a rerun creates nothing unless the settings changed (or ``force``); a create whose
answer was lost is found again in ``GET /v2/product_videos``, never sent twice.
"""

from catalog_sync.videos.options import OPTION_KINDS, OptionList, fetch_options, list_options
from catalog_sync.videos.poll import PROVIDER_SCHEDULE, Waiter
from catalog_sync.videos.pricing import credits_for
from catalog_sync.videos.run import CostSummary, VideosHooks, VideosOutcome, VideosRequest, run_videos

__all__ = [
    "OPTION_KINDS",
    "PROVIDER_SCHEDULE",
    "CostSummary",
    "OptionList",
    "VideosHooks",
    "VideosOutcome",
    "VideosRequest",
    "Waiter",
    "credits_for",
    "fetch_options",
    "list_options",
    "run_videos",
]
