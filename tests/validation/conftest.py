"""Make this folder's helper module importable (pytest runs with --import-mode=importlib)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from validation_helpers import build_sheet  # noqa: E402

from catalog_sync.sheets.model import Sheet  # noqa: E402


@pytest.fixture
def make_sheet() -> Callable[..., Sheet]:
    return build_sheet
