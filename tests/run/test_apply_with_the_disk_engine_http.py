"""``apply CATALOG --engine disk`` over real HTTP: the out-of-core engine plans the catalog and the
run carries the plan out exactly as ``--engine memory`` does (the same writes, ledger rows, sandbox
store, report bytes and exit code); ``--engine auto`` takes it for a CSV over the memory budget; what
it does not plan yet is refused by name before anything is sent."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from catalog_sync.sheets import limits
from catalog_sync.spec import load_spec
from tests.support.sync import (
    FAST,
    MATCH_KEY,
    assert_converged,
    env_for,
    fresh_catalog,
    products,
    read_rows,
    run_cli,
    sandbox,
    write_requests,
    write_rows,
)

ENGINES = ("memory", "disk")
#: the field each test edits, and an extra column the loader ignores (carried to the report)
EDIT = {"royalti": "title", "keevault": "description"}


def _ledger(state: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The ledger's rows a run writes, without run ids, times and base URLs (one sandbox each), and
    without the records' fingerprints (of the record as the sandbox answered, its times included)."""
    with sqlite3.connect(state) as db:
        return {
            "outcomes": db.execute(
                "SELECT row, key, action, status, remote_id, changed, error_code, error FROM outcomes "
                "ORDER BY run_id, rowid"
            ).fetchall(),
            "records": db.execute("SELECT remote_id, fields FROM records ORDER BY remote_id").fetchall(),
            "replaced": db.execute(
                "SELECT row, key, action, remote_id, before, after FROM replaced ORDER BY run_id, rowid"
            ).fetchall(),
            "runs": db.execute("SELECT command, mode, counts, exit_code FROM runs ORDER BY id").fetchall(),
        }


def _store(sb: Any) -> list[dict[str, Any]]:
    """The sandbox's records without their times (each sandbox writes its own clock)."""
    return [
        {k: v for k, v in record.items() if "at" not in k.lower() or k in ("format", "status")}
        for record in products(sb)
    ]


def _report_bytes(path: Path) -> bytes:
    return path.read_bytes()


def _edited(rows: list[dict[str, str]], provider: str) -> list[dict[str, str]]:
    """One row's field edited, one row new, an extra column (ignored, carried to the report) filled."""
    edited = [{**row, "Notes": f"note {i}"} for i, row in enumerate(rows)]
    edited[1][EDIT[provider]] += " (second edition)"
    new = dict(edited[0])
    spec = load_spec(provider)
    new.update({key: "" for key in spec.keys if key in new})
    key = MATCH_KEY[provider][0]
    new[key] = edited[0][key] + "-NEW"
    new["Notes"] = "a new row"
    return [*edited, new]


def _apply_runs(provider: str, engine: str, folder: Path) -> dict[str, Any]:
    """Create the catalog, apply an edit of it, then mirror it with a row dropped, with ``engine``:
    what each run left."""
    folder.mkdir()
    catalog = fresh_catalog(provider, folder)
    state = folder / "state.db"
    seen: dict[str, Any] = {}
    with sandbox(provider) as sb:
        env = env_for(sb, provider, folder)
        # one write at a time: the sandbox numbers records in the order they are created
        base = [
            "-p",
            provider,
            "--state",
            str(state),
            *FAST,
            "--concurrency",
            "1",
            "--engine",
            engine,
            "--yes",
        ]
        for step, extra in (
            ("create", []),
            ("edit", []),
            ("mirror", ["--mode", "mirror", "--max-deletes", "1"]),
        ):
            if step == "edit":
                write_rows(catalog, _edited(read_rows(catalog), provider))
            if step == "mirror":  # the third row dropped: its record deleted
                rows = read_rows(catalog)
                write_rows(catalog, rows[:2] + rows[3:])
            report = folder / f"{step}.csv"
            ran = run_cli(["apply", str(catalog), *base, *extra, "--report", str(report)], env)
            assert ran.exit_code == 0, ran.output
            seen[step] = (ran.exit_code, _report_bytes(report), write_requests(sb))
        seen["store"] = _store(sb)
    seen["ledger"] = _ledger(state)
    return seen


@pytest.mark.parametrize("provider", ["royalti", "keevault"])
def test_apply_with_the_disk_engine_does_what_the_memory_engine_does(provider: str, tmp_path: Path) -> None:
    memory, disk = (_apply_runs(provider, engine, tmp_path / engine) for engine in ENGINES)
    assert disk["create"] == memory["create"]
    assert disk["edit"] == memory["edit"]
    assert disk["mirror"] == memory["mirror"]
    assert disk["store"] == memory["store"]
    assert disk["ledger"] == memory["ledger"]
    assert [writes for _code, _report, writes in (disk["create"], disk["edit"])] == [
        len(read_rows(fresh_catalog(provider, tmp_path))),
        len(read_rows(fresh_catalog(provider, tmp_path))) + 2,  # one update, one create
    ]
    report = disk["edit"][1].decode("utf-8-sig")
    assert "Notes" in report.splitlines()[0] and "a new row" in report  # the ignored columns, carried
    assert disk["mirror"][2] == disk["edit"][2] + 1  # one delete
    assert ",delete,ok," in disk["mirror"][1].decode("utf-8-sig")


def test_auto_takes_the_disk_engine_for_a_csv_over_the_memory_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned = _watch_disk_plans(monkeypatch)
    monkeypatch.setattr(limits, "MEMORY_BUDGET_BYTES", 1024)
    catalog = fresh_catalog("royalti", tmp_path)
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        base = ["-p", "royalti", "--state", str(tmp_path / "s.db"), *FAST, "--yes"]
        ran = run_cli(["apply", str(catalog), *base], env)
        assert ran.exit_code == 0, ran.output
        assert planned == [str(catalog)]
        assert write_requests(sb) == len(read_rows(catalog))
        assert_converged("royalti", sb, catalog)


def test_the_disk_engine_refuses_joggai_before_anything_is_sent(tmp_path: Path) -> None:
    catalog = fresh_catalog("jogg", tmp_path)
    with sandbox("jogg") as sb:
        env = env_for(sb, "jogg", tmp_path)
        base = ["-p", "jogg", "--state", str(tmp_path / "s.db"), *FAST, "--yes"]
        ran = run_cli(["apply", str(catalog), *base, "--engine", "disk"], env)
        assert ran.exit_code == 1 and "--engine memory" in ran.output
        assert write_requests(sb) == 0


def test_write_ids_and_retries_are_refused_with_the_disk_engine_before_anything_is_read(
    tmp_path: Path,
) -> None:
    catalog = fresh_catalog("royalti", tmp_path)
    report = write_rows(tmp_path / "report.csv", [{"row": "2", "status": "failed", "title": "x"}])
    env = {"ROYALTI_API_KEY": "RWAK_x", "ROYALTI_BASE_URL": "http://127.0.0.1:9"}  # nothing listens there
    base = ["-p", "royalti", "--state", str(tmp_path / "s.db"), "--engine", "disk", "--yes"]
    for args in (
        [str(catalog), "--write-ids", str(tmp_path / "ids.csv")],
        ["--only", "failed", "--from", str(report)],
    ):
        ran = run_cli(["apply", *args, *base], env)
        assert ran.exit_code == 1, ran.output
        assert "--engine memory" in ran.output and "cannot connect" not in ran.output.lower()
    assert not (tmp_path / "ids.csv").exists()


def _watch_disk_plans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The catalogs the out-of-core engine plans from now on."""
    from catalog_sync.engine import plan as disk_plan

    planned: list[str] = []
    real = disk_plan.plan_on_disk

    def watched(catalog: Any, *args: Any, **kwargs: Any) -> Any:
        planned.append(str(catalog.path))
        return real(catalog, *args, **kwargs)

    monkeypatch.setattr(disk_plan, "plan_on_disk", watched)
    return planned


def test_a_cron_job_with_engine_disk_is_planned_by_the_out_of_core_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.jobs import blank_provider_env, credentials_file, write_config

    planned = _watch_disk_plans(monkeypatch)
    catalog = fresh_catalog("royalti", tmp_path)
    with sandbox("royalti") as sb:
        creds = credentials_file(tmp_path, sb)
        jobs = (
            f'credentials = "{creds.name}"\n[defaults]\nrate = 1000\n'
            '[jobs.big]\nprovider = "royalti"\ncatalog = "catalog.csv"\nengine = "disk"\n'
        )
        config = write_config(tmp_path, jobs)
        ran = run_cli(["run", "--config", str(config)], blank_provider_env())
        assert ran.exit_code == 0, ran.output
        assert planned == [str(catalog)]
        assert_converged("royalti", sb, catalog)


def test_a_cron_job_names_an_unknown_engine(tmp_path: Path) -> None:
    from catalog_sync.config.jobs import load_run_config
    from catalog_sync.errors import ConfigError

    path = tmp_path / "catalog-sync.toml"
    path.write_text(
        '[jobs.big]\nprovider = "royalti"\ncatalog = "c.csv"\nengine = "spark"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="engine must be one of auto, memory, disk"):
        load_run_config(path)


def test_the_library_plans_and_syncs_with_the_engine_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import catalog_sync
    from catalog_sync import Target

    planned = _watch_disk_plans(monkeypatch)
    catalog = fresh_catalog("royalti", tmp_path)
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        target = Target("royalti", state=tmp_path / "state.db", rate=1000, env=env)
        plan = catalog_sync.plan(catalog, target, engine="disk").plan
        assert plan.summary["create"] == len(read_rows(catalog)) and write_requests(sb) == 0
        done = catalog_sync.sync(catalog, target, engine="disk", report=tmp_path / "report.csv")
        assert done.exit_code == 0 and done.summary["status"]["ok"] == len(read_rows(catalog))
        again = catalog_sync.apply(catalog, target, engine="disk")
        assert again.summary["action"]["unchanged"] == len(read_rows(catalog))
        assert planned == [str(catalog)] * 3
        assert_converged("royalti", sb, catalog)
