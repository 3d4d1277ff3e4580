"""The sync loop over real HTTP against each provider's sandbox, through the real CLI.

create → rerun sends 0 writes → one edited cell sends exactly 1 write → mirror delete within
the limit (keevault, royalti; jogg refuses mirror) — plus --max-deletes, --detailed-exitcode,
a stale saved plan, confirmation without a TTY, --only failed --from REPORT, and a scan of
everything a run wrote for the API key.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from catalog_sync.providers.registry import PROVIDERS
from catalog_sync.spec import load_spec
from tests.support.sync import (
    FAST,
    KEYS,
    MATCH_KEY,
    assert_converged,
    env_for,
    fresh_catalog,
    products,
    read_rows,
    report_json,
    run_cli,
    sandbox,
    write_requests,
    write_rows,
)

EDIT = {name: info.demo_edit for name, info in PROVIDERS.items()}  # the field each demo edits


@pytest.mark.parametrize("provider", ["jogg", "keevault", "royalti"])
def test_create_rerun_edit_mirror(provider, tmp_path):
    catalog = fresh_catalog(provider, tmp_path)
    state = str(tmp_path / "state.db")
    with sandbox(provider) as sb:
        env = env_for(sb, provider, tmp_path)
        base = ["-p", provider, "--state", state, *FAST]
        first = run_cli(["apply", str(catalog), *base, "--yes", "--report", str(tmp_path / "r1.json")], env)
        assert first.exit_code == 0, first.output
        rows = read_rows(catalog)
        assert write_requests(sb) == len(rows)
        assert_converged(provider, sb, catalog)
        report = report_json(tmp_path / "r1.json")
        assert report["summary"]["action"]["create"] == len(rows)
        assert report["summary"]["status"]["ok"] == len(rows)
        assert all(r["remote_id"] for r in report["rows"])

        # a second run straight after sends no write
        before = write_requests(sb)
        again = run_cli(["apply", str(catalog), *base, "--yes"], env)
        assert again.exit_code == 0, again.output
        assert write_requests(sb) == before

        # --detailed-exitcode: 0 when nothing to do
        assert run_cli(["plan", str(catalog), *base, "--detailed-exitcode"], env).exit_code == 0

        # one edited cell → exactly one write
        column = EDIT[provider]
        edited = next(i for i, r in enumerate(rows) if r[column])
        rows[edited][column] += " v2"
        write_rows(catalog, rows)
        pending = run_cli(["plan", str(catalog), *base, "--detailed-exitcode", "--json"], env)
        assert pending.exit_code == 7
        plan = json.loads(pending.stdout)
        assert plan["summary"]["update"] == 1 and plan["summary"]["create"] == 0
        change = next(c for c in plan["changes"] if c["action"] == "update")
        assert change["row"] == edited + 2 and list(change["fields"]) == [column]
        assert change["fields"][column]["new"].endswith(" v2")
        third = run_cli(["apply", str(catalog), *base, "--yes"], env)
        assert third.exit_code == 0, third.output
        assert write_requests(sb) == before + 1
        assert_converged(provider, sb, catalog)

        # mirror: drop one row from the sheet
        write_rows(catalog, rows[1:])
        mirror = run_cli(
            ["apply", str(catalog), *base, "--yes", "--mode", "mirror", "--max-deletes", "1"], env
        )
        if provider == "jogg":
            assert mirror.exit_code == 1
            assert "mirror is not available" in mirror.stderr
            return
        assert mirror.exit_code == 0, mirror.output
        assert len(products(sb)) == len(rows) - 1
        assert_converged(provider, sb, catalog)


@pytest.mark.parametrize("provider", ["keevault", "royalti"])
def test_max_deletes_refuses_before_sending(provider, tmp_path):
    catalog = fresh_catalog(provider, tmp_path)
    state = str(tmp_path / "state.db")
    with sandbox(provider) as sb:
        env = env_for(sb, provider, tmp_path)
        base = ["-p", provider, "--state", state, *FAST]
        assert run_cli(["apply", str(catalog), *base, "--yes"], env).exit_code == 0
        rows = read_rows(catalog)
        write_rows(catalog, rows[:2])  # mirror would delete len-2 records
        before = write_requests(sb)
        result = run_cli(["apply", str(catalog), *base, "--yes", "--mode", "mirror"], env)
        assert result.exit_code == 6
        assert f"deletes {len(rows) - 2} remote record(s) but --max-deletes is 0" in result.stderr
        assert write_requests(sb) == before
        assert len(products(sb)) == len(rows)


def test_stale_saved_plan_gives_conflicts(tmp_path):
    provider = "royalti"
    catalog = fresh_catalog(provider, tmp_path)
    state = str(tmp_path / "state.db")
    with sandbox(provider) as sb:
        env = env_for(sb, provider, tmp_path)
        base = ["-p", provider, "--state", state, *FAST]
        assert run_cli(["apply", str(catalog), *base, "--yes"], env).exit_code == 0
        rows = read_rows(catalog)
        for row in rows[:2]:
            row["title"] += " (new)"
        write_rows(catalog, rows)
        plan_file = tmp_path / "plan.json"
        assert run_cli(["plan", str(catalog), *base, "-o", str(plan_file)], env).exit_code == 0
        saved = json.loads(plan_file.read_text())
        targets = [c for c in saved["changes"] if c["action"] == "update"]
        assert len(targets) == 2 and all(c["fingerprint"] for c in targets)
        # someone changes the first targeted record remotely between plan and apply
        import requests

        requests.put(
            f"{sb.url}/product/{targets[0]['remote_id']}",
            json={"title": "Changed elsewhere"},
            headers={"Authorization": f"Bearer {KEYS[provider]}"},
            timeout=5,
        ).raise_for_status()
        before = write_requests(sb)
        result = run_cli(["apply", str(plan_file), *base, "--yes", "--report", str(tmp_path / "r.json")], env)
        assert result.exit_code == 4
        report = report_json(tmp_path / "r.json")
        by_row = {r["row"]: r for r in report["rows"]}
        assert by_row[targets[0]["row"]]["status"] == "conflict"
        assert "changed since the plan" in by_row[targets[0]["row"]]["error"]
        assert by_row[targets[1]["row"]]["status"] == "ok"
        assert write_requests(sb) == before + 1  # only the untouched record was written
        remote = {p["id"]: p for p in products(sb)}
        assert remote[targets[0]["remote_id"]]["title"] == "Changed elsewhere"


def test_no_tty_without_yes_refuses(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        result = run_cli(["apply", str(catalog), "-p", "royalti", "--state", str(tmp_path / "s.db")], env)
        assert result.exit_code == 1
        assert "--yes" in result.stderr and "nothing was sent" in result.stderr
        assert write_requests(sb) == 0


def test_invalid_catalog_exit_3_nothing_read(tmp_path):
    rows = read_rows(fresh_catalog("royalti", tmp_path))
    rows[1]["title"] = ""
    catalog = write_rows(tmp_path / "bad.csv", rows)
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        state = ["--state", str(tmp_path / "s.db")]
        for command in (["plan"], ["apply", "--yes"]):
            result = run_cli([command[0], str(catalog), "-p", "royalti", *state, *command[1:]], env)
            assert result.exit_code == 3, result.output
            assert "C3 required" in result.stderr and "Nothing was read or sent" in result.stderr
            as_json = run_cli(
                [command[0], str(catalog), "-p", "royalti", *state, *command[1:], "--json"], env
            )
            assert as_json.exit_code == 3
            problems = json.loads(as_json.stdout)
            assert problems["valid"] is False and problems["problems"][0]["cell"] == "C3"
        assert sb.stats()["total_requests"] == 0


def test_only_failed_from_report_retries_exactly_those_rows(tmp_path):
    provider = "keevault"
    catalog = fresh_catalog(provider, tmp_path)
    state = str(tmp_path / "state.db")
    with sandbox(provider) as sb:
        env = env_for(sb, provider, tmp_path)
        base = ["-p", provider, "--state", state, *FAST]
        rows = read_rows(catalog)
        # a remote product that makes row 2's name ambiguous → conflict; the rest succeed
        import requests

        for _ in range(2):
            requests.post(
                f"{sb.url}/api/v1/create-product",
                data={
                    "api_key": KEYS[provider],
                    "name": rows[0]["name"],
                    "description": "x",
                    "source": "internal",
                    "require_non_expired": "0",
                    "status": "active",
                },
                timeout=5,
            ).raise_for_status()
        report = tmp_path / "r1.xlsx"
        first = run_cli(["apply", str(catalog), *base, "--yes", "--report", str(report)], env)
        assert first.exit_code == 4
        # the user removes the stray twin remotely, then retries only the failed row
        twin = next(p for p in products(sb) if p["name"] == rows[0]["name"])
        requests.post(
            f"{sb.url}/api/v1/delete-product",
            data={"api_key": KEYS[provider], "product_id": twin["id"]},
            timeout=5,
        ).raise_for_status()
        before = write_requests(sb)
        retry = run_cli(
            [
                "apply",
                *base,
                "--yes",
                "--only",
                "failed",
                "--from",
                str(report),
                "--report",
                str(tmp_path / "r2.json"),
            ],
            env,
        )
        assert retry.exit_code == 0, retry.output
        again = report_json(tmp_path / "r2.json")
        assert [r["row"] for r in again["rows"]] == [2]
        assert again["rows"][0]["action"] == "update" and again["rows"][0]["status"] == "ok"
        assert write_requests(sb) == before + 1
        assert_converged(provider, sb, catalog)


@pytest.mark.parametrize("provider", ["jogg", "keevault", "royalti"])
def test_no_secret_in_anything_a_run_wrote(provider, tmp_path):
    catalog = fresh_catalog(provider, tmp_path)
    state = tmp_path / "state" / "state.db"
    outputs = []
    with sandbox(provider) as sb:
        env = env_for(sb, provider, tmp_path)
        base = ["-p", provider, "--state", str(state), *FAST]
        outputs.append(
            run_cli(["plan", str(catalog), *base, "-o", str(tmp_path / "plan.json"), "--json"], env)
        )
        for suffix in ("csv", "xlsx", "json"):
            outputs.append(
                run_cli(
                    ["apply", str(catalog), *base, "--yes", "--report", str(tmp_path / f"report.{suffix}")],
                    env,
                )
            )
        outputs.append(run_cli(["apply", str(tmp_path / "plan.json"), *base, "--yes", "--json"], env))
        outputs.append(run_cli(["runs", "--state", str(state), "--json"], env))
        outputs.append(run_cli(["runs", "2", "--state", str(state)], env))
    secret = KEYS[provider]
    assert outputs[-1].exit_code == 0 and "create" in outputs[-1].stdout  # runs 2: the per-row outcomes
    assert [r["command"] for r in json.loads(outputs[-2].stdout)["runs"]][-2:] == ["apply", "plan"]
    for result in outputs:
        assert secret not in result.stdout and secret not in result.stderr
    scanned = 0
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix != ".pem":
            data = path.read_bytes()
            assert secret.encode() not in data, path
            scanned += 1
    assert scanned >= 6
    with sqlite3.connect(state) as db:
        dump = "\n".join(db.iterdump())
    assert secret not in dump and "api_key" not in dump
    spec = load_spec(provider)
    assert set(MATCH_KEY[provider]) <= set(spec.field_names)


def test_max_failures_stops_the_run_exit_6(tmp_path):
    provider = "jogg"  # ids JoggAI does not know: each update is refused by the provider
    rows = [
        {
            "product_id": f"Tk9QRV{i}",
            "url": "",
            "name": f"Ghost {i}",
            "description": "d",
            "target_audience": "",
            "media": "",
        }
        for i in range(5)
    ]
    catalog = write_rows(tmp_path / "ghosts.csv", rows)
    with sandbox(provider) as sb:
        env = env_for(sb, provider, tmp_path)
        result = run_cli(
            [
                "apply",
                str(catalog),
                "-p",
                provider,
                "--state",
                str(tmp_path / "s.db"),
                *FAST,
                "--yes",
                "--concurrency",
                "1",
                "--max-failures",
                "2",
                "--report",
                str(tmp_path / "r.json"),
            ],
            env,
        )
        assert result.exit_code == 6, result.output
        assert "--max-failures 2 reached" in result.stderr
        statuses = [r["status"] for r in report_json(tmp_path / "r.json")["rows"]]
        assert statuses == ["failed", "failed", "skipped", "skipped", "skipped"]
        assert write_requests(sb) == 2


def test_modes_and_blanks_over_http(tmp_path):
    provider = "royalti"
    catalog = fresh_catalog(provider, tmp_path)
    state = str(tmp_path / "state.db")
    with sandbox(provider) as sb:
        env = env_for(sb, provider, tmp_path)
        base = ["-p", provider, "--state", state, *FAST, "--yes"]
        rows = read_rows(catalog)
        write_rows(catalog, rows[:3])
        assert run_cli(["apply", str(catalog), *base, "--mode", "update"], env).exit_code == 0
        assert products(sb) == []  # update mode creates nothing
        assert run_cli(["apply", str(catalog), *base, "--mode", "create"], env).exit_code == 0
        assert len(products(sb)) == 3
        rows[0]["title"] += " changed"
        rows[1]["label"] = ""
        write_rows(catalog, rows)  # all rows back, one edited, one blank label
        create_only = run_cli(
            ["apply", str(catalog), *base, "--mode", "create", "--report", str(tmp_path / "c.json")], env
        )
        assert create_only.exit_code == 0
        actions = [r["action"] for r in report_json(tmp_path / "c.json")["rows"]]
        assert actions[:3] == ["skip", "unchanged", "unchanged"] and actions[3:] == ["create"] * (
            len(rows) - 3
        )
        by_ext = {p["externalId"]: p for p in products(sb)}
        assert not by_ext[rows[0]["externalId"]]["title"].endswith(" changed")
        assert by_ext[rows[1]["externalId"]]["label"]  # blanks keep: the empty cell changed nothing
        clear = run_cli(["apply", str(catalog), *base, "--blanks", "clear"], env)
        assert clear.exit_code == 0, clear.output
        by_ext = {p["externalId"]: p for p in products(sb)}
        assert by_ext[rows[0]["externalId"]]["title"].endswith(" changed")
        assert not by_ext[rows[1]["externalId"]]["label"]  # blanks clear: the field was cleared
        history = run_cli(["runs", "--state", state, "--json"], env)
        runs = json.loads(history.stdout)["runs"]
        assert [r["mode"] for r in runs][:2] == ["upsert", "create"]
        assert all(r["exit_code"] == 0 and r["finished_at"] for r in runs)
