"""`catalog-sync run` against real sandboxes over HTTP: jobs, reports, log, exit codes, the lock."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

from catalog_sync.state import Ledger
from tests.support.jobs import COMMAND, blank_provider_env, clean_env, credentials_file, write_config
from tests.support.sync import KEYS, fresh_catalog, products, run_cli, sandbox, write_requests, write_rows


def _jobs(folder, creds, *, keep: int = 2, extra: str = "") -> str:
    return (
        f'credentials = "{creds.name}"\n[defaults]\nrate = 1000\nkeep_reports = {keep}\n'
        '[jobs.labels]\nprovider = "royalti"\ncatalog = "catalog.csv"\nreport_format = "json"\n' + extra
    )


def test_run_applies_each_job_writes_reports_keeps_the_newest_and_logs_json(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    write_rows(tmp_path / "broken.csv", [{"title": "", "displayArtist": "X", "upc": "12"}])
    with sandbox("royalti") as sb:
        creds = credentials_file(tmp_path, sb)
        extra = '[jobs.broken]\nprovider = "royalti"\ncatalog = "broken.csv"\n'
        config = write_config(tmp_path, _jobs(tmp_path, creds, extra=extra))
        log = tmp_path / "logs" / "runs.jsonl"
        env = {**blank_provider_env(), "COLUMNS": "80"}
        results = [run_cli(["run", "--config", str(config), "--log-file", str(log)], env) for _ in range(3)]
        assert len(products(sb)) == len(list(catalog.open())) - 1  # created once, then unchanged
    for result in results:
        assert result.exit_code == 3, result.output  # the highest of 0 (labels) and 3 (broken)
        assert "job broken" in result.stderr and "invalid" in result.stderr
        lines = result.stdout.splitlines()
        assert lines and max(len(line) for line in lines) <= 80, result.stdout
        assert any(line.split()[:2] == ["labels", "royalti"] for line in lines), result.stdout
        assert KEYS["royalti"] not in result.output
    reports = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert len(reports) == 2 and all(
        name.startswith("labels-") and name.endswith(".json") for name in reports
    )
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [r["job"] for r in records] == ["labels", "broken"] * 3
    first = records[0]
    assert {"job", "provider", "started", "finished", "exit_code", "counts", "report", "requests"} <= set(
        first
    )
    assert first["provider"] == "royalti" and first["exit_code"] == 0 and first["requests"] > 0
    assert first["counts"]["status"]["ok"] == len(products_rows(catalog))
    assert records[2]["counts"]["action"]["unchanged"] == len(products_rows(catalog))
    kept = {Path(r["report"]).name for r in records[2:] if r["report"]}  # the two newest labels runs
    assert kept == set(reports) and Path(records[0]["report"]).name not in reports
    assert records[1]["exit_code"] == 3 and records[1]["outcome"] == "failed" and records[1]["report"] is None
    with Ledger(tmp_path / ".catalog-sync" / "state.db") as ledger:
        runs = ledger.runs()
    assert [(r["job"], r["exit_code"]) for r in runs[:2]] == [("broken", 3), ("labels", 0)]
    assert KEYS["royalti"] not in log.read_text(encoding="utf-8")


def products_rows(catalog) -> list[str]:
    return catalog.read_text(encoding="utf-8").splitlines()[1:]


def test_named_jobs_only_and_credentials_come_from_the_file_only(tmp_path):
    fresh_catalog("royalti", tmp_path)
    with sandbox("royalti") as sb:
        creds = credentials_file(tmp_path, sb)
        extra = '[jobs.other]\nprovider = "royalti"\ncatalog = "catalog.csv"\ncredentials = "missing.env"\n'
        config = write_config(tmp_path, _jobs(tmp_path, creds, extra=extra))
        only = run_cli(["run", "labels", "--config", str(config), "--json"], blank_provider_env())
        assert only.exit_code == 0, only.output
        assert [j["job"] for j in json.loads(only.stdout)["jobs"]] == ["labels"]
        other = run_cli(["run", "other", "--config", str(config)], blank_provider_env())
        assert other.exit_code == 1 and "missing.env" in other.stderr


def test_a_second_run_on_the_same_state_exits_5_at_once_naming_the_holder(tmp_path):
    fresh_catalog("royalti", tmp_path)
    with sandbox("royalti") as sb:
        creds = credentials_file(tmp_path, sb)
        config = write_config(tmp_path, _jobs(tmp_path, creds))
        seen, release = threading.Event(), threading.Event()
        answer = sb.server.match

        def held(method: str, path: str):  # the first run's first request waits here, lock held
            seen.set()
            release.wait(120)
            return answer(method, path)

        sb.server.match = held  # type: ignore[method-assign]
        first = subprocess.Popen(
            [*COMMAND, "run", "--config", str(config)],
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            while not seen.wait(0.2) and first.poll() is None:  # its first request, or its end
                pass
            if not seen.is_set():
                out, err = first.communicate(timeout=120)
                raise AssertionError(
                    f"the first run ended (exit {first.returncode}) before any request: {out}{err}"
                )
            second = subprocess.run(
                [*COMMAND, "run", "--config", str(config)],
                env=clean_env(),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        finally:
            release.set()
            sb.server.match = answer  # type: ignore[method-assign]
        out, err = first.communicate(timeout=120)
        # at once: the first run is held until the second ends, so a second that waited would hang
        assert second.returncode == 5, second.stdout + second.stderr
        assert f"pid {first.pid}" in second.stderr and "run labels" in second.stderr, second.stderr
        assert first.returncode == 0, out + err
        assert write_requests(sb) == len(products(sb)) > 0  # only the first run wrote
    with Ledger(tmp_path / ".catalog-sync" / "state.db") as ledger:
        exits = sorted(r["exit_code"] for r in ledger.runs())
    assert exits == [0, 5]  # the refused run is recorded too
