"""Time before it is spent (issue 18 item 4), over real HTTP against the sandboxes.

JoggAI takes 20 POST a minute: 200 creates took 10 min 24 s in a trial, with no word of it
beforehand. `plan`, the apply prompt and a cron job now say how long the writes will take, before
anything is sent; a short run says nothing.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from catalog_sync.config.jobs import load_run_config
from catalog_sync.errors import ConfigError
from catalog_sync.execute.estimate import duration_text
from catalog_sync.run.jobs import run_jobs
from tests.support.jobs import credentials_file, write_config
from tests.support.sync import env_for, fresh_catalog, run_cli, sandbox, write_requests


def _jogg_products(folder: Path, n: int) -> Path:
    path = folder / "products.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["product_id", "url", "name", "description", "target_audience"])
        for i in range(n):
            writer.writerow(
                ["", f"https://shop.example.com/p/{i}", f"Product {i}", "A fine product", "everyone"]
            )
    return path


def test_plan_says_200_jogg_creates_take_about_10_minutes(tmp_path):
    catalog = _jogg_products(tmp_path, 200)
    state = ["--state", str(tmp_path / "s.db")]
    with sandbox("jogg") as sb:
        env = env_for(sb, "jogg", tmp_path)
        shown = run_cli(["plan", str(catalog), "-p", "jogg", *state], env)
        as_json = json.loads(run_cli(["plan", str(catalog), "-p", "jogg", *state, "--json"], env).stdout)
    assert shown.exit_code == 0, shown.output
    assert (
        "Applying it will take about 10 min (200 write(s) at most 20 a minute: JoggAI's limit)"
        in shown.stdout
    )
    assert as_json["estimate"]["writes"] == 200 and 590 <= as_json["estimate"]["seconds"] <= 600


def test_the_apply_prompt_says_how_long_before_anything_is_sent(tmp_path):
    catalog = _jogg_products(tmp_path, 200)
    with sandbox("jogg") as sb:
        env = env_for(sb, "jogg", tmp_path)
        refused = run_cli(["apply", str(catalog), "-p", "jogg", "--state", str(tmp_path / "s.db")], env)
        assert write_requests(sb) == 0
    assert refused.exit_code == 1 and "pass --yes" in refused.stderr  # stdin is no terminal here
    assert "Estimated time: about 10 min (200 write(s) at most 20 a minute: JoggAI's limit)" in refused.stderr


def test_a_short_run_says_nothing_of_time(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        shown = run_cli(["plan", str(catalog), "-p", "royalti", "--state", str(tmp_path / "s.db")], env)
        applied = run_cli(
            ["apply", str(catalog), "-p", "royalti", "--state", str(tmp_path / "s.db"), "--yes"], env
        )
    assert "take about" not in shown.stdout and "Estimated time" not in applied.stderr
    assert applied.exit_code == 0


def test_a_cron_job_tells_its_estimate_before_its_writes_and_logs_it(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    heard: list[tuple[str, int]] = []
    with sandbox("royalti") as sb:
        creds = credentials_file(tmp_path, sb)
        config = write_config(  # 6 creates at --rate 0.05 (3 a minute): about 2 minutes
            tmp_path,
            f'credentials = "{creds.name}"\n[jobs.labels]\nprovider = "royalti"\ncatalog = "{catalog.name}"\n'
            "rate = 0.05\n",
        )

        def stop_after_hearing(result) -> None:
            heard.append((result.estimate.text(), write_requests(sb)))
            raise ConfigError("the test stops the job here")

        log = tmp_path / "runs.jsonl"
        outcome = run_jobs(load_run_config(config), log_file=log, on_estimate=stop_after_hearing)
        assert write_requests(sb) == 0
    [(text, writes_then)] = heard
    assert writes_then == 0 and text.startswith(
        f"about {duration_text(5 / 0.05)} (6 write(s) at most 3 a minute"
    )
    [logged] = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert logged["estimate"]["writes"] == 6 and logged["estimate"]["seconds"] == pytest.approx(100, abs=1)
    assert outcome.results[0].exit_code == 1
