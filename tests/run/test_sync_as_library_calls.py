"""The sync job as a library call (what `run` jobs and tests use): run_plan and run_apply."""

from __future__ import annotations

import pytest

from catalog_sync.errors import ConfigError
from catalog_sync.run import ApplyHooks, ApplyRequest, PlanRequest, Target, run_apply, run_plan
from catalog_sync.state import Ledger
from tests.support.sync import KEYS, env_for, fresh_catalog, products, sandbox, write_requests


@pytest.mark.parametrize("provider", ["keevault", "royalti"])
def test_run_apply_then_run_plan_as_library_calls(provider, tmp_path, monkeypatch):
    catalog = fresh_catalog(provider, tmp_path)
    with sandbox(provider) as sb:
        for name, value in env_for(sb, provider, tmp_path).items():
            monkeypatch.setenv(name, value)
        target = Target(provider, state=tmp_path / "state.db", rate=1000)
        seen: list[int] = []
        hooks = ApplyHooks(confirm=lambda plan, new_ledger: seen.append(len(plan.writes)))
        outcome = run_apply(ApplyRequest(target, source=str(catalog), report=tmp_path / "r.json"), hooks)
        assert outcome.exit_code == 0 and outcome.error is None
        assert seen == [len(products(sb))] and outcome.report.exists()
        assert outcome.summary["status"]["ok"] == len(outcome.rows)
        before = write_requests(sb)
        again = run_plan(PlanRequest(target, str(catalog), detailed_exitcode=True, out=tmp_path / "p.json"))
        assert again.exit_code == 0 and not again.plan.pending and again.saved == tmp_path / "p.json"
        assert write_requests(sb) == before
        with Ledger(tmp_path / "state.db") as ledger:
            assert [r["exit_code"] for r in ledger.runs()] == [0, 0]
        assert KEYS[provider] not in outcome.report.read_text()


def test_a_hook_that_refuses_finishes_the_run_record_and_sends_nothing(tmp_path, monkeypatch):
    catalog = fresh_catalog("royalti", tmp_path)
    with sandbox("royalti") as sb:
        for name, value in env_for(sb, "royalti", tmp_path).items():
            monkeypatch.setenv(name, value)

        def refuse(plan, new_ledger):
            raise ConfigError("not confirmed; nothing was sent")

        target = Target("royalti", state=tmp_path / "state.db", rate=1000)
        with pytest.raises(ConfigError):
            run_apply(ApplyRequest(target, source=str(catalog)), ApplyHooks(confirm=refuse))
        assert write_requests(sb) == 0
        with Ledger(tmp_path / "state.db") as ledger:
            (run,) = ledger.runs()
        assert run["finished_at"] and run["exit_code"] == 1
