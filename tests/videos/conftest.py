"""Make this folder's helper module (and tests/hostile's scripted server) importable (pytest runs with --import-mode=importlib)."""

from __future__ import annotations

import sys
from pathlib import Path

for _folder in (Path(__file__).parent, Path(__file__).parent.parent / "hostile"):  # + hostile_server
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))
