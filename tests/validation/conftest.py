"""Fixtures of the validation tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from catalog_sync.sheets.model import Sheet
from tests.support.builders import build_sheet


@pytest.fixture
def make_sheet() -> Callable[..., Sheet]:
    return build_sheet
