"""Alerts through Apprise (json:// to a local listener): once per change of a job's outcome."""

from __future__ import annotations

import json
import shutil

import pytest

from catalog_sync.run.alerts import outcome_for, should_alert
from tests.support.jobs import AlertListener, blank_provider_env, closed_port, credentials_file, write_config
from tests.support.sync import KEYS, fresh_catalog, run_cli, sandbox, write_rows

WATCH = '["failed", "limit", "rows-failed", "empty-catalog"]'


def _config(folder, creds, url: str, on: str = WATCH) -> str:
    text = (
        f'credentials = "{creds.name}"\n[defaults]\nrate = 1000\n'
        '[jobs.labels]\nprovider = "royalti"\ncatalog = "labels.csv"\n'
        f'[alerts]\nurls = ["{url}"]\non = {on}\n'
    )
    return str(write_config(folder, text))


def _break(catalog) -> None:
    write_rows(catalog, [{"title": "", "displayArtist": "X", "upc": "12"}])


def test_a_job_failing_three_runs_alerts_once_and_again_when_it_recovers(tmp_path):
    good = fresh_catalog("royalti", tmp_path, "good.csv")
    catalog = tmp_path / "labels.csv"
    _break(catalog)
    with sandbox("royalti") as sb, AlertListener() as listener:
        config = _config(tmp_path, credentials_file(tmp_path, sb), listener.url)
        env = blank_provider_env()
        for _night in range(3):
            result = run_cli(["run", "--config", config], env)
            assert result.exit_code == 3, result.output
        assert len(listener.posts) == 1, listener.posts
        failure = listener.posts[0]["body"]
        assert "labels" in failure["title"] and "royalti" in failure["title"] and "failed" in failure["title"]
        assert failure["type"] == "failure"
        for part in ("job: labels", "provider: royalti", "outcome: failed (exit 3)", "counts:", "report:"):
            assert part in failure["message"], failure["message"]
        assert "invalid" in failure["message"]

        shutil.copy(good, catalog)
        for _night in range(2):
            result = run_cli(["run", "--config", config], env)
            assert result.exit_code == 0, result.output
        assert len(listener.posts) == 2, listener.posts
        recovery = listener.posts[1]["body"]
        assert "recovered (was failed)" in recovery["title"] and recovery["type"] == "success"
        assert "outcome: ok (exit 0), was failed" in recovery["message"]
        assert "6 ok" in recovery["message"] and "/reports/labels-" in recovery["message"]

        _break(catalog)
        assert run_cli(["run", "--config", config], env).exit_code == 3
        assert len(listener.posts) == 3  # failing again is a change again
    for post in listener.posts:
        assert KEYS["royalti"] not in json.dumps(post)


def test_an_alert_that_cannot_be_sent_is_logged_and_changes_no_exit_code(tmp_path):
    fresh_catalog("royalti", tmp_path, "labels.csv")
    url = f"json://127.0.0.1:{closed_port()}/hook"
    log = tmp_path / "runs.jsonl"
    with sandbox("royalti") as sb:
        config = _config(tmp_path, credentials_file(tmp_path, sb), url, on='["ok", "failed"]')
        env = blank_provider_env()
        ok = run_cli(["run", "--config", config, "--log-file", str(log)], env)
        assert ok.exit_code == 0, ok.output
        assert "alert to json://127.0.0.1" in ok.stderr and "not sent" in ok.stderr
        _break(tmp_path / "labels.csv")
        failed = run_cli(["run", "--config", config, "--log-file", str(log)], env)
        assert failed.exit_code == 3, failed.output
        assert "not sent" in failed.stderr
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [r["exit_code"] for r in records] == [0, 3]
    for record in records:
        [attempt] = record["alerts"]
        assert attempt["sent"] is False and attempt["error"] and attempt["url"].startswith("json://127.0.0.1")


def test_an_unsent_alert_is_tried_again_on_the_next_run(tmp_path):
    fresh_catalog("royalti", tmp_path, "labels.csv")
    _break(tmp_path / "labels.csv")
    with sandbox("royalti") as sb, AlertListener() as listener:
        creds = credentials_file(tmp_path, sb)
        down = _config(tmp_path, creds, f"json://127.0.0.1:{closed_port()}/hook")
        assert run_cli(["run", "--config", down], blank_provider_env()).exit_code == 3
        up = _config(tmp_path, creds, listener.url)
        assert run_cli(["run", "--config", up], blank_provider_env()).exit_code == 3
        assert len(listener.posts) == 1  # the failure the first run could not tell is told now


def test_an_empty_catalog_is_its_own_outcome(tmp_path):
    (tmp_path / "labels.csv").write_text("title,displayArtist,upc\n", encoding="utf-8")
    with sandbox("royalti") as sb, AlertListener() as listener:
        config = _config(tmp_path, credentials_file(tmp_path, sb), listener.url, on='["empty-catalog"]')
        assert run_cli(["run", "--config", config], blank_provider_env()).exit_code == 3
        [post] = listener.posts
        assert "empty-catalog" in post["body"]["title"]


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (0, "ok"),
        (1, "failed"),
        (3, "failed"),
        (4, "rows-failed"),
        (5, "locked"),
        (6, "limit"),
        (143, "failed"),
    ],
)
def test_exit_codes_map_to_outcomes(code, outcome):
    assert outcome_for(code) == outcome
    assert outcome_for(3, empty_catalog=True) == "empty-catalog"


def test_alerts_go_on_a_change_into_or_out_of_a_watched_outcome():
    on = {"failed", "limit"}
    assert should_alert(None, "failed", on) and not should_alert("failed", "failed", on)
    assert should_alert("failed", "ok", on)  # the recovery, though ok is not watched
    assert not should_alert(None, "ok", on) and not should_alert("ok", "rows-failed", on)
    assert should_alert("failed", "limit", on)
    assert should_alert(None, "ok", {"ok"}) and not should_alert("ok", "ok", {"ok"})
