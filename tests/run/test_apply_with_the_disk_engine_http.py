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
    """Create the catalog, then apply an edit of it, with ``engine``: what each run left."""
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
        for step in ("create", "edit"):
            if step == "edit":
                write_rows(catalog, _edited(read_rows(catalog), provider))
            report = folder / f"{step}.csv"
            ran = run_cli(["apply", str(catalog), *base, "--report", str(report)], env)
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
    assert disk["store"] == memory["store"]
    assert disk["ledger"] == memory["ledger"]
    assert [writes for _code, _report, writes in (disk["create"], disk["edit"])] == [
        len(read_rows(fresh_catalog(provider, tmp_path))),
        len(read_rows(fresh_catalog(provider, tmp_path))) + 2,  # one update, one create
    ]
    report = disk["edit"][1].decode("utf-8-sig")
    assert "Notes" in report.splitlines()[0] and "a new row" in report  # the ignored columns, carried


def test_auto_takes_the_disk_engine_for_a_csv_over_the_memory_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catalog_sync.engine import plan as disk_plan

    planned: list[str] = []
    real = disk_plan.plan_on_disk

    def watched(catalog: Any, *args: Any, **kwargs: Any) -> Any:
        planned.append(str(catalog.path))
        return real(catalog, *args, **kwargs)

    monkeypatch.setattr(disk_plan, "plan_on_disk", watched)
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
