# mypy: disable-error-code="arg-type"
"""Round-2 review: what users and providers do that round 1 did not try (real HTTP, real CLI).

* a saved plan applied twice: the second apply sends nothing and reports ``ok`` (not conflicts);
* ``--blanks clear`` never clears a key column (Royalti refills an empty upc with ``TEMP…``);
* a hand-edited or damaged plan is refused with a clear message (exit 1, nothing sent);
* a state database from an older/newer version is refused with a clear message (exit 1);
* the Royalti e-mail/password login flow: neither the password nor any token learned at run
  time reaches stdout, stderr, the plan, the reports or the ledger.
"""

from __future__ import annotations

import json
import random
import shlex
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from catalog_sync.providers.registry import provider_info
from catalog_sync.providers.royalti.emulator_auth import RoyaltiAuth
from catalog_sync.sandbox import FaultConfig, Sandbox
from catalog_sync.state import SCHEMA_VERSION, Ledger
from tests.support.sync import (
    FAST,
    assert_converged,
    big_catalog,
    child_env,
    env_for,
    fresh_catalog,
    ledger_scope,
    products,
    read_rows,
    report_json,
    run_cli,
    sandbox,
    write_requests,
    write_rows,
)


@pytest.mark.parametrize("provider", ["jogg", "keevault", "royalti"])
def test_saved_plan_applied_twice_sends_nothing_the_second_time(provider, tmp_path):
    catalog = fresh_catalog(provider, tmp_path)
    state = str(tmp_path / "state.db")
    with sandbox(provider) as sb:
        env = env_for(sb, provider, tmp_path)
        base = ["-p", provider, "--state", state, *FAST]
        plan_file = tmp_path / "plan.json"
        assert run_cli(["plan", str(catalog), *base, "-o", str(plan_file)], env).exit_code == 0
        first = run_cli(["apply", str(plan_file), *base, "--yes"], env)
        assert first.exit_code == 0, first.output
        created = len(products(sb))
        before = write_requests(sb)
        second = run_cli(["apply", str(plan_file), *base, "--yes", "--report", str(tmp_path / "r.json")], env)
        assert second.exit_code == 0, second.output
        assert write_requests(sb) == before  # not one write twice
        assert len(products(sb)) == created
        rows = report_json(tmp_path / "r.json")["rows"]
        assert {r["status"] for r in rows} == {"ok"} and all(r["remote_id"] for r in rows)
        assert all("already" in r["error"] for r in rows)

        # an update plan applied twice: the second run finds the values there, no conflict
        rows = read_rows(catalog)
        column = provider_info(provider).demo_edit
        rows[0][column] = "edited once"
        write_rows(catalog, rows)
        assert run_cli(["plan", str(catalog), *base, "-o", str(plan_file)], env).exit_code == 0
        assert run_cli(["apply", str(plan_file), *base, "--yes"], env).exit_code == 0
        before = write_requests(sb)
        again = run_cli(["apply", str(plan_file), *base, "--yes", "--json"], env)
        assert again.exit_code == 0, again.output
        assert json.loads(again.stdout)["summary"]["status"]["conflict"] == 0
        assert write_requests(sb) == before


def test_blanks_clear_never_clears_a_key_column(tmp_path):
    rows = [
        {"id": "", "upc": "", "externalId": f"E{i}", "title": f"T{i}", "displayArtist": "B", "label": "L"}
        for i in range(2)
    ]
    catalog = write_rows(tmp_path / "c.csv", rows)
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        base = ["-p", "royalti", "--state", state, *FAST, "--yes"]
        assert run_cli(["apply", str(catalog), *base], env).exit_code == 0
        assert all(p["upc"].startswith("TEMP") for p in products(sb))  # the provider filled the upc
        rows[0]["label"] = ""
        write_rows(catalog, rows)
        result = run_cli(
            ["apply", str(catalog), *base, "--blanks", "clear", "--report", str(tmp_path / "r.json")], env
        )
        assert result.exit_code == 0, result.output
        report = {r["row"]: r for r in report_json(tmp_path / "r.json")["rows"]}
        assert report[2]["action"] == "update" and report[2]["changed"] == "label"
        assert report[3]["action"] == "unchanged"
        by_ext = {p["externalId"]: p for p in products(sb)}
        assert by_ext["E0"]["label"] == "" and by_ext["E1"]["label"] == "L"
        assert all(p["upc"].startswith("TEMP") for p in products(sb))
        plan = run_cli(["plan", str(catalog), *base[:-1], "--blanks", "clear", "--detailed-exitcode"], env)
        assert plan.exit_code == 0, plan.output  # converged: clear plans nothing more


DAMAGE = {
    "changes not a list": lambda p: p.update(changes={"a": 1}),
    "change not an object": lambda p: p["changes"].append("x"),
    "fields not an object": lambda p: p["changes"][0].update(fields=["x"]),
    "values not an object": lambda p: p["changes"][0].update(values=[1]),
    "unknown field": lambda p: p["changes"][0]["fields"].update(bogus={"old": "", "new": "x"}),
    "update without remote id": lambda p: p["changes"][0].update(action="update", remote_id=None),
    "delete without remote id": lambda p: p["changes"][0].update(action="delete", remote_id=""),
    "other format": lambda p: p.update(format="catalog-sync-plan/9"),
    "bad action": lambda p: p["changes"][0].update(action="upsert"),
}


def test_damaged_or_hand_edited_plans_are_refused_clearly(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        base = ["-p", "royalti", "--state", state, *FAST, "--yes", "--max-deletes", "9"]
        plan_file = tmp_path / "plan.json"
        assert run_cli(["plan", str(catalog), *base[:-3], "-o", str(plan_file)], env).exit_code == 0
        saved = json.loads(plan_file.read_text())
        for name, damage in DAMAGE.items():
            edited = json.loads(json.dumps(saved))
            damage(edited)
            target = tmp_path / f"{name.replace(' ', '-')}.json"
            target.write_text(json.dumps(edited))
            result = run_cli(["apply", str(target), *base], env)
            assert result.exit_code == 1, (name, result.output)
            assert "plan" in result.stderr and "unexpected" not in result.stderr, (name, result.stderr)
        assert write_requests(sb) == 0


def test_state_database_of_another_version_is_refused_clearly(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        older = tmp_path / "older.db"
        with sqlite3.connect(older) as db:
            db.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, command TEXT)")
        result = run_cli(["plan", str(catalog), "-p", "royalti", "--state", str(older)], env)
        assert result.exit_code == 1
        assert "table runs lacks" in result.stderr and "unexpected" not in result.stderr
        assert run_cli(["runs", "--state", str(older)], env).exit_code == 1

        good = tmp_path / "good.db"
        assert run_cli(["plan", str(catalog), "-p", "royalti", "--state", str(good)], env).exit_code == 0
        with sqlite3.connect(good) as db:
            assert (
                db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            )  # the current schema, written at once
            db.execute("PRAGMA user_version=42")
        result = run_cli(["plan", str(catalog), "-p", "royalti", "--state", str(good)], env)
        assert result.exit_code == 1 and "newer catalog-sync" in result.stderr

        garbage = tmp_path / "garbage.db"
        garbage.write_bytes(b"not sqlite at all " * 500)
        result = run_cli(["apply", str(catalog), "-p", "royalti", "--state", str(garbage), "--yes"], env)
        assert result.exit_code == 1 and "cannot open the state database" in result.stderr
        assert write_requests(sb) == 0


def test_royalti_login_flow_leaks_neither_password_nor_tokens(tmp_path, monkeypatch):
    issued: list[str] = []
    original = RoyaltiAuth.token

    def recording(self: RoyaltiAuth, kind: str) -> str:
        token = original(self, kind)
        issued.append(token)
        return token

    monkeypatch.setattr(RoyaltiAuth, "token", recording)
    login = {"email": "ops@label.test", "password": "pw-Secret-4471!", "workspace": "ws-77"}
    catalog = fresh_catalog("royalti", tmp_path)
    state = tmp_path / "state" / "state.db"
    with Sandbox("royalti", api_key="RWAK_unused_key_0000", **login) as sb:
        env = {
            "ROYALTI_EMAIL": login["email"],
            "ROYALTI_PASSWORD": login["password"],
            "ROYALTI_WORKSPACE": login["workspace"],
            "ROYALTI_BASE_URL": sb.url,
            "ROYALTI_API_KEY": "",
        }
        base = ["-p", "royalti", "--state", str(state), *FAST]
        outputs = [run_cli(["plan", str(catalog), *base, "-o", str(tmp_path / "plan.json"), "--json"], env)]
        for suffix in ("csv", "xlsx", "json"):
            report = str(tmp_path / f"report.{suffix}")
            outputs.append(run_cli(["apply", str(catalog), *base, "--yes", "--report", report], env))
        outputs.append(run_cli(["apply", str(tmp_path / "plan.json"), *base, "--yes", "--json"], env))
        outputs.append(run_cli(["runs", "--state", str(state), "--json"], env))
        assert len(products(sb)) == len(read_rows(catalog))
    assert all(r.exit_code == 0 for r in outputs), [r.output for r in outputs]
    assert issued, "the run never logged in"
    secrets = [login["password"], *issued, *(t.split(".")[2] for t in issued)]
    for result in outputs:
        for secret in secrets:
            assert secret not in result.stdout and secret not in result.stderr
    scanned = 0
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, path
            scanned += 1
    assert scanned >= 6
    with sqlite3.connect(state) as db:
        dump = "\n".join(db.iterdump())
    assert not any(s in dump for s in secrets) and "eyJ" not in dump


@pytest.mark.parametrize("provider", ["keevault", "royalti"])
def test_ctrl_c_mid_run_records_what_was_sent_and_the_next_run_finishes(provider, tmp_path):
    rows = 40
    catalog = big_catalog(provider, tmp_path, rows)
    state = tmp_path / "state.db"
    with sandbox(provider, faults=FaultConfig(latency_ms=50)) as sb:
        env = child_env(env_for(sb, provider, tmp_path))
        command = [sys.executable, "-m", "catalog_sync", "apply", str(catalog), "-p", provider]
        command += ["--state", str(state), "--yes", "--concurrency", "3", *FAST]
        proc = subprocess.Popen(
            [*command, "--report", str(tmp_path / "r.json")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 20
        while write_requests(sb) < 5 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, out + err
        assert "interrupted" in err.lower() and "Traceback" not in err
        created = len(products(sb))
        assert 0 < created < rows
        report = report_json(tmp_path / "r.json")
        statuses = [r["status"] for r in report["rows"]]
        assert len(statuses) == rows  # every row reported exactly once
        assert statuses.count("ok") == created  # what the server holds is what the report says
        assert statuses.count("skipped") == rows - created
        assert report["summary"]["stopped"] == "interrupted"
        with Ledger(state) as ledger:
            run = ledger.runs()[0]
            assert run["exit_code"] == 130 and run["finished_at"]
            assert len(ledger.outcomes(run["id"])) == rows
            assert ledger.open_intents(ledger_scope(provider, sb.url)) == []
        finish = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert finish.returncode == 0, finish.stdout + finish.stderr
        assert_converged(provider, sb, catalog)
        assert write_requests(sb) == rows  # nothing was sent twice


def test_progress_bar_on_a_tty_keeps_stdout_clean(tmp_path):
    catalog = big_catalog("royalti", tmp_path, 30)
    state = tmp_path / "state.db"
    with sandbox("royalti", faults=FaultConfig(latency_ms=20)) as sb:
        env = child_env(env_for(sb, "royalti", tmp_path))
        command = [sys.executable, "-m", "catalog_sync", "apply", str(catalog), "-p", "royalti"]
        command += ["--state", str(state), "--yes", "--concurrency", "2", *FAST]

        def on_a_tty(shell: str) -> subprocess.CompletedProcess[str]:
            # script(1) gives the run a terminal on stdin, stdout and stderr
            return subprocess.run(
                ["script", "-q", "-e", "-c", shell, str(tmp_path / "typescript")],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )

        shown = on_a_tty(shlex.join(command))
        assert shown.returncode == 0, shown.stdout
        assert "applying" in shown.stdout and "30/30" in shown.stdout  # the bar ran to the end
        assert "Status: 30 ok" in shown.stdout and "Traceback" not in shown.stdout
        rows = read_rows(catalog)
        for row in rows[:5]:
            row["title"] += " (tty)"
        write_rows(catalog, rows)
        out = tmp_path / "out.json"
        piped = on_a_tty(f"{shlex.join([*command, '--json'])} > {shlex.quote(str(out))}")
        assert piped.returncode == 0, piped.stdout
        data = json.loads(out.read_text(encoding="utf-8"))  # stdout is exactly one JSON document
        assert data["summary"]["action"]["update"] == 5 and data["summary"]["status"]["ok"] == 30
        assert len(products(sb)) == 30


def test_only_failed_also_retries_rows_a_stopped_run_never_attempted(tmp_path):
    rows = [
        {"product_id": f"R2hvc3Q{i}", "url": "", "name": f"Ghost {i}", "description": "d"} for i in range(5)
    ]
    catalog = write_rows(tmp_path / "ghosts.csv", rows)  # ids JoggAI does not know: refused
    with sandbox("jogg") as sb:
        env = env_for(sb, "jogg", tmp_path)
        base = ["-p", "jogg", "--state", str(tmp_path / "s.db"), *FAST, "--yes", "--concurrency", "1"]
        report = tmp_path / "r1.csv"
        first = run_cli(["apply", str(catalog), *base, "--max-failures", "2", "--report", str(report)], env)
        assert first.exit_code == 6
        assert [r["status"] for r in read_rows(report)] == ["failed"] * 2 + ["skipped"] * 3
        assert write_requests(sb) == 2
        retry = run_cli(
            [
                "apply",
                *base,
                "--only",
                "failed",
                "--from",
                str(report),
                "--report",
                str(tmp_path / "r2.json"),
            ],
            env,
        )
        assert retry.exit_code == 4
        again = report_json(tmp_path / "r2.json")["rows"]
        assert [r["row"] for r in again] == [2, 3, 4, 5, 6]  # the 3 never attempted are retried too
        assert {r["status"] for r in again} == {"failed"}
        assert write_requests(sb) == 2 + 5


def test_an_unwritable_report_path_is_refused_before_anything_is_sent(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        base = ["-p", "royalti", "--state", str(tmp_path / "s.db"), *FAST, "--yes"]
        result = run_cli(["apply", str(catalog), *base, "--report", str(blocker / "r.csv")], env)
        assert result.exit_code == 1
        assert "cannot write the report" in result.stderr and "nothing was sent" in result.stderr
        assert write_requests(sb) == 0


@pytest.mark.slow
@pytest.mark.parametrize("provider", ["keevault", "royalti"])
def test_kill_9_during_updates_and_mirror_deletes_converges(provider, tmp_path):
    rng = random.Random(3)
    catalog = big_catalog(provider, tmp_path, 40)
    state = tmp_path / "state.db"
    with sandbox(provider, faults=FaultConfig(latency_ms=60, jitter_ms=40), seed=3) as sb:
        env = child_env(env_for(sb, provider, tmp_path))
        command = [sys.executable, "-m", "catalog_sync", "apply", str(catalog), "-p", provider]
        command += ["--state", str(state), "--yes", "--concurrency", "3", *FAST]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        rows = read_rows(catalog)
        column = "title" if provider == "royalti" else "description"
        for row in rows:
            row[column] += " v2"
        write_rows(catalog, rows[:30])  # 30 updates, 10 mirror deletes
        mirror = [*command, "--mode", "mirror", "--max-deletes", "10"]
        for _ in range(3):
            before = write_requests(sb)
            proc = subprocess.Popen(mirror, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 20
            while write_requests(sb) == before and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.05, 0.4))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finish = subprocess.run(mirror, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert finish.returncode == 0, finish.stdout + finish.stderr
        assert_converged(provider, sb, catalog)
        before = write_requests(sb)
        again = subprocess.run(mirror, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert again.returncode == 0 and write_requests(sb) == before
    with Ledger(state) as ledger:
        states = [row[0] for row in ledger.db.execute("SELECT state FROM intents WHERE action != 'create'")]
    assert "in-flight" not in states and "settled" in states  # killed writes were left, then settled


def test_a_saved_plan_refuses_a_different_mode_or_blanks(tmp_path):
    catalog = fresh_catalog("keevault", tmp_path)
    with sandbox("keevault") as sb:
        env = env_for(sb, "keevault", tmp_path)
        base = ["-p", "keevault", "--state", str(tmp_path / "s.db"), *FAST]
        plan_file = tmp_path / "plan.json"
        assert run_cli(["plan", str(catalog), *base, "-o", str(plan_file)], env).exit_code == 0
        for extra in (["--mode", "mirror"], ["--blanks", "clear"]):
            result = run_cli(["apply", str(plan_file), *base, "--yes", *extra], env)
            assert result.exit_code == 1 and "a saved plan is applied exactly" in result.stderr
        assert write_requests(sb) == 0
        same = run_cli(["apply", str(plan_file), *base, "--yes", "--mode", "upsert"], env)
        assert same.exit_code == 0, same.output
