"""The out-of-core engine's DuckDB workspace (:class:`catalog_sync.engine.spill.Workspace`)."""

from __future__ import annotations

import pytest

from catalog_sync.engine.spill import Workspace


def _limit(workspace: Workspace) -> str:
    row = workspace.db.execute("SELECT current_setting('memory_limit')").fetchone()
    assert row is not None
    return str(row[0])


def test_a_phase_runs_under_a_lower_memory_limit_and_the_workspaces_own_comes_back() -> None:
    with Workspace(memory_limit=256 * 2**20) as workspace:
        own = _limit(workspace)
        with workspace.memory_limited(64 * 2**20):
            lowered = _limit(workspace)
        assert _limit(workspace) == own
    assert lowered != own and lowered.startswith("6")  # 64 MB, in DuckDB's own units


def test_a_phase_never_raises_the_workspaces_memory_limit() -> None:
    with Workspace(memory_limit=64 * 2**20) as workspace:
        own = _limit(workspace)
        with workspace.memory_limited(2**30):
            assert _limit(workspace) == own


def test_the_limit_comes_back_when_the_phase_fails() -> None:
    with Workspace(memory_limit=256 * 2**20) as workspace:
        own = _limit(workspace)
        with pytest.raises(KeyError), workspace.memory_limited(64 * 2**20):
            raise KeyError("the phase failed")
        assert _limit(workspace) == own
