"""A saved plan carries its unchanged rows compactly (issue 20 item 3): key, remote id and a
fingerprint per row in the ``unchanged`` block, no cells, so its size grows with the changes, not
with the catalog; it reads back in the same order, an old-format plan still loads, and an apply of
it behaves per row as the apply of a plan that listed every row."""

from __future__ import annotations

import json
from pathlib import Path

from bench.fast_server import fast_listing
from bench.remote import KEY, write_catalog

from catalog_sync.planning.model import PLAN_FORMAT, Change, Plan
from catalog_sync.providers import get_provider
from catalog_sync.run import PlanRequest, Target, run_plan
from tests.support.sync import (
    FAST,
    env_for,
    fresh_catalog,
    products,
    read_rows,
    run_cli,
    sandbox,
    write_requests,
    write_rows,
)

#: The budget of issue 20: a saved plan holds at most about this many bytes per unchanged row.
BYTES_PER_UNCHANGED_ROW = 100


def _fast_plan(folder: Path, rows: int, out: Path) -> Plan:
    catalog = folder / "catalog.csv"
    write_catalog(catalog, rows, changed_every=100)
    with fast_listing(rows) as url:
        target = Target("royalti", url, folder / "state.db", env={"ROYALTI_API_KEY": KEY})
        return run_plan(PlanRequest(target=target, catalog=str(catalog), out=out)).plan


def test_a_saved_plan_of_100k_rows_stays_under_the_byte_budget_per_unchanged_row(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    plan = _fast_plan(tmp_path, 100_000, out)
    summary = plan.summary
    assert summary["unchanged"] == 99_000 and summary["update"] == 1_000
    data = json.loads(out.read_text(encoding="utf-8"))
    changed_bytes = sum(len(json.dumps(c, ensure_ascii=False)) + 6 for c in data["changes"])
    per_unchanged = (out.stat().st_size - changed_bytes) / summary["unchanged"]
    assert per_unchanged <= BYTES_PER_UNCHANGED_ROW, per_unchanged
    assert len(data["changes"]) == 1_000 and len(data["unchanged"]["row"]) == 99_000
    assert "values" not in data["unchanged"]  # no cell of an unchanged row is in the file


def test_a_compact_plan_reads_back_in_the_same_order_with_the_same_changes(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    plan = _fast_plan(tmp_path, 500, out)
    back = Plan.load(out)
    assert back.summary == plan.summary and len(back.changes) == len(plan.changes) == 500
    for made, read in zip(plan.changes, back.changes, strict=True):
        assert (made.row, made.key, made.action, made.remote_id, made.match, made.fields) == (
            read.row,
            read.key,
            read.action,
            read.remote_id,
            read.match,
            read.fields,
        )
        assert read.fingerprint and made.fingerprint and made.fingerprint.startswith(read.fingerprint)
    assert back.to_dict() == plan.to_dict()


def test_plan_json_lists_every_row_with_its_cells(tmp_path: Path) -> None:
    """``plan --json`` stays complete (docs/reference/output.md): the compact block is the saved plan's."""
    catalog = tmp_path / "catalog.csv"
    write_catalog(catalog, 300, changed_every=100)
    with fast_listing(300) as url:
        env = {"ROYALTI_API_KEY": KEY, "ROYALTI_BASE_URL": url, "HOME": str(tmp_path)}
        shown = run_cli(
            ["plan", str(catalog), "-p", "royalti", "--json", "--state", str(tmp_path / "s.db")], env
        )
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert len(data["changes"]) == 300 and "unchanged" not in data
    unchanged = [c for c in data["changes"] if c["action"] == "unchanged"]
    assert len(unchanged) == 297 and all(c["values"]["title"] for c in unchanged)
    assert data["format"] == PLAN_FORMAT


def test_a_plan_of_the_first_format_still_loads(tmp_path: Path) -> None:
    listed = [
        Change(
            2, "id=a", "unchanged", remote_id="a", fingerprint="f" * 64, match="id", values={"title": "A"}
        ),
        Change(
            3, "id=b", "update", {"title": {"old": "B", "new": "B2"}}, remote_id="b", fingerprint="e" * 64
        ),
    ]
    old = {"format": "catalog-sync-plan/1", "provider": "royalti", "changes": [c.to_dict() for c in listed]}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    plan = Plan.load(path)
    assert [c.action for c in plan.changes] == ["unchanged", "update"]
    assert plan.changes[0].values == {"title": "A"} and plan.summary["unchanged"] == 1


def test_an_unchanged_row_changed_remotely_after_a_compact_plan_is_left_alone_and_reported(
    tmp_path: Path,
) -> None:
    """The apply of a compact plan: the edited row whose record a colleague changed since is a
    conflict (not overwritten); the unchanged row a colleague changed sends nothing (as with a plan
    listing it in full); the report still has the catalog's own cells for every row."""
    provider = "royalti"
    with sandbox(provider) as sb:
        env = env_for(sb, provider, tmp_path)
        base = ["-p", provider, "--state", str(tmp_path / "s.db"), *FAST]
        catalog = fresh_catalog(provider, tmp_path)
        assert run_cli(["apply", str(catalog), *base, "--yes"], env).exit_code == 0
        rows = read_rows(catalog)
        rows[0]["title"] += " (edited)"
        write_rows(catalog, rows)
        saved = tmp_path / "plan.json"
        assert run_cli(["plan", str(catalog), *base, "-o", str(saved)], env).exit_code == 0
        data = json.loads(saved.read_text(encoding="utf-8"))
        assert [c["action"] for c in data["changes"]] == ["update"]
        assert len(data["unchanged"]["row"]) == len(rows) - 1

        by_id = {str(p["id"]): p for p in products(sb)}
        edited_id = data["changes"][0]["remote_id"]
        quiet_id = data["unchanged"]["remote_id"][0] or data["unchanged"]["key"][0].partition("=")[2]
        with get_provider(provider).from_env(env=env, rate=1000) as colleague:
            for rid in (edited_id, quiet_id):
                colleague.update(rid, {"label": "Colleague Records"}, colleague.find({"id": rid}))
        assert {edited_id, quiet_id} <= set(by_id)
        before = write_requests(sb)
        report = tmp_path / "report.json"
        applied = run_cli(["apply", str(saved), *base, "--yes", "--report", str(report)], env)
        assert applied.exit_code == 4, applied.output  # the stale update is a conflict
        assert write_requests(sb) == before  # nothing was sent
        got = {r["remote_id"]: r for r in json.loads(report.read_text(encoding="utf-8"))["rows"]}
        assert got[edited_id]["status"] == "conflict" and "changed since the plan" in got[edited_id]["error"]
        assert got[quiet_id]["action"] == "unchanged" and got[quiet_id]["status"] == "ok"
        for row in json.loads(report.read_text(encoding="utf-8"))["rows"]:
            assert row["values"]["title"] == rows[row["row"] - 2]["title"], row  # the catalog's own cells
