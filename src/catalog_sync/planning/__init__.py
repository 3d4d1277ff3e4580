"""Plans: the diff of a sheet against what a provider holds, and the saved plan file.

from catalog_sync.planning import build_plan, LedgerView, Plan, Change
"""

from catalog_sync.planning.diff import BLANKS, MODES, build_plan
from catalog_sync.planning.model import Change, Plan
from catalog_sync.remote.read import LedgerView

__all__ = ["BLANKS", "MODES", "Change", "LedgerView", "Plan", "build_plan"]
