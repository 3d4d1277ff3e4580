"""Make this folder's helper modules (and tests/sync's sandbox helpers) importable.

pytest runs with --import-mode=importlib, so helper modules are found through sys.path only.
"""

from __future__ import annotations

import sys
from pathlib import Path

for _folder in (Path(__file__).parent, Path(__file__).parent.parent / "sync"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))
