"""The 1M-row golden test of the two plan engines (minutes: run by ``make soak``, which names this
file; ``make test`` collects only ``test_*.py``, so it neither runs nor skips there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.test_disk_plan_golden import _same_plans


@pytest.mark.timeout(3600)  # four plans of a million rows: minutes each on 2 cores, past the suite's 300 s
def test_plan_json_and_saved_plans_of_both_engines_are_the_same_on_1m_rows(tmp_path: Path) -> None:
    _same_plans(tmp_path, 1_000_000)
