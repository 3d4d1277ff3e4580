"""``catalog-sync undo RUN_ID`` over real HTTP against the sandboxes (issue 19 item 3).

A run updates fields, creates a record and (mirror) deletes one; its undo, applied like any saved
plan, puts every record back as the sandbox held it before the run, compared field by field (a
record created again has a new id: records are compared by natural key).  A colleague's edit since
the run is a ``conflict`` and is kept.  JoggAI's updates go back; its creates are ``cannot-undo``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from catalog_sync.providers import get_provider
from catalog_sync.spec import load_spec
from catalog_sync.state import Ledger
from tests.support.sync import (
    FAST,
    KEYS,
    env_for,
    fresh_catalog,
    match_key,
    products,
    read_rows,
    report_json,
    run_cli,
    sandbox,
    sheet_terms,
    write_rows,
)

#: per provider: the fields the run edits on its first row, the field it edits on its second (which a
#: colleague then edits again), and a row the run creates
EDITS = {
    "royalti": (("title", "label"), "title"),
    "keevault": (("description", "status"), "description"),
}
NEW_ROW = {
    "royalti": {
        "externalId": "EXT-NEW",
        "title": "Brand New",
        "displayArtist": "Band",
        "type": "Audio",
        "format": "Single",
    },
    "keevault": {
        "name": "Brand New Tool",
        "description": "Made by the run",
        "source": "internal",
        "require_non_expired": "0",
        "status": "active",
    },
}


def _by_key(provider: str, sb) -> dict[str, dict[str, str]]:
    """What the sandbox holds, in sheet terms, by natural key (the provider's own id left out; a value
    the provider fills in itself, as Royalti's TEMP… UPCs, as blank)."""
    spec = load_spec(provider)
    held = {}
    for raw in products(sb):
        fields = sheet_terms(provider, raw)
        held[match_key(provider, fields)] = {
            name: spec.field(name).as_user_set(value)
            for name, value in fields.items()
            if name != spec.remote_id
        }
    return held


def _colleague_edits(provider: str, sb, env: dict[str, str], rid: str, name: str, value: str) -> None:
    """An edit made through the provider's API by someone else (their own client, no ledger)."""
    client = get_provider(provider).from_env(base_url=sb.url, env=env, rate=1000.0)
    try:
        current = {r.remote_id: r for r in client.list_remote()}[rid]
        client.update(rid, {name: value}, current)
    finally:
        client.close()


def _four_records(
    provider: str, tmp_path: Path, env: dict[str, str], base: list[str]
) -> list[dict[str, str]]:
    """The sample catalog applied: a record per row; its rows."""
    catalog = fresh_catalog(provider, tmp_path)
    assert run_cli(["apply", str(catalog), *base, "--yes"], env).exit_code == 0
    return read_rows(catalog)


def _the_run_to_undo(
    provider: str, tmp_path: Path, rows: list[dict[str, str]], env: dict[str, str], base: list[str]
) -> tuple[int, list[dict]]:
    """A mirror run that edits two records, deletes the third and creates one: its id and report rows."""
    (first, second), edited = EDITS[provider]
    rows = [dict(r) for r in rows]
    rows[0][first] += " (edited)"
    rows[0][second] = "inactive" if second == "status" else "Other Label"
    rows[1][edited] += " (edited)"
    changed = [*rows[:2], *rows[3:], {name: "" for name in rows[0]} | NEW_ROW[provider]]  # the third goes
    sheet = write_rows(tmp_path / "changed.csv", changed, header=list(rows[0]))
    mirror = ["--mode", "mirror", "--max-deletes", "1", "--yes"]
    result = run_cli(["apply", str(sheet), *base, *mirror, "--report", str(tmp_path / "run.json")], env)
    assert result.exit_code == 0, result.output
    report = report_json(tmp_path / "run.json")
    counts = report["summary"]["action"]
    assert (counts["update"], counts["create"], counts["delete"]) == (2, 1, 1), counts
    return report["summary"]["run_id"], report["rows"]


@pytest.mark.parametrize("provider", ["royalti", "keevault"])
def test_undo_restores_every_replaced_field_and_keeps_an_edit_made_since(provider, tmp_path):
    state = tmp_path / "state.db"
    with sandbox(provider) as sb:
        env = env_for(sb, provider, tmp_path)
        base = ["-p", provider, "--state", str(state), *FAST]
        rows = _four_records(provider, tmp_path, env, base)
        before = _by_key(provider, sb)
        run_id, report = _the_run_to_undo(provider, tmp_path, rows, env, base)
        assert _by_key(provider, sb) != before

        # a colleague edits, since the run, the field the run edited on the second row
        _, edited = EDITS[provider]
        second = next(r for r in report if r["action"] == "update" and r["row"] == 3)
        _colleague_edits(provider, sb, env, second["remote_id"], edited, "A colleague's value")

        undo = tmp_path / "undo.json"
        shown = run_cli(["undo", str(run_id), *base, "-o", str(undo)], env)
        assert shown.exit_code == 4, shown.output  # the colleague's edit is a conflict
        assert f"apply {undo} -p {provider} --max-deletes 1" in "".join(shown.output.split("\n"))
        plan = json.loads(undo.read_text(encoding="utf-8"))
        assert plan["mode"] == "undo"
        assert plan["summary"] == {
            "create": 1,
            "update": 1,
            "delete": 1,
            "conflict": 1,
            "protected": 0,
            "skip": 0,
            "unchanged": 0,
        }, plan["summary"]
        conflict = next(c for c in plan["changes"] if c["action"] == "conflict")
        assert conflict["remote_id"] == second["remote_id"] and "changed since run" in conflict["reason"]

        undo_report = tmp_path / "undo-run.json"
        applied = run_cli(
            ["apply", str(undo), *base, "--yes", "--max-deletes", "1", "--report", str(undo_report)], env
        )
        assert applied.exit_code == 4, applied.output  # the conflict row is not written
        after = _by_key(provider, sb)
        assert set(after) == set(before)  # the record created is gone, the record deleted is back
        kept = next(k for k, v in after.items() if v[edited] == "A colleague's value")
        for key, fields in before.items():
            expected = {**fields, edited: "A colleague's value"} if key == kept else fields
            assert after[key] == expected, key  # field by field

        # an undo is a run like any other: it can be undone in turn
        again = run_cli(["undo", str(report_json(undo_report)["summary"]["run_id"]), *base, "--json"], env)
        assert again.exit_code == 0, again.output
        redo = json.loads(again.stdout)["summary"]
        assert (redo["create"], redo["delete"], redo["update"]) == (1, 1, 1), redo

    with sqlite3.connect(state) as db:  # what runs replaced is product data, never a credential
        replaced = db.execute("SELECT * FROM replaced").fetchall()
    assert replaced and KEYS[provider] not in json.dumps(replaced)
    assert KEYS[provider].encode() not in state.read_bytes()


def test_undo_of_a_jogg_run_puts_updates_back_and_lists_its_creates_as_cannot_undo(tmp_path):
    provider, state = "jogg", tmp_path / "state.db"
    with sandbox(provider) as sb:
        env = env_for(sb, provider, tmp_path)
        base = ["-p", provider, "--state", str(state), *FAST]
        rows = _four_records(provider, tmp_path, env, base)
        before = _by_key(provider, sb)
        edited = next(r for r in rows if r["description"])
        edited["description"] += " (edited)"
        new = {name: "" for name in rows[0]} | {"url": "https://shop.example.com/p/new", "name": "New"}
        sheet = write_rows(tmp_path / "changed.csv", [*rows, new])
        report = tmp_path / "run.json"
        assert run_cli(["apply", str(sheet), *base, "--yes", "--report", str(report)], env).exit_code == 0
        created = next(r["remote_id"] for r in report_json(report)["rows"] if r["action"] == "create")

        undo = tmp_path / "undo.json"
        shown = run_cli(["undo", str(report_json(report)["summary"]["run_id"]), *base, "-o", str(undo)], env)
        assert shown.exit_code == 0, shown.output
        plan = json.loads(undo.read_text(encoding="utf-8"))
        assert (plan["summary"]["update"], plan["summary"]["skip"]) == (1, 1), plan["summary"]
        skipped = next(c for c in plan["changes"] if c["action"] == "skip")
        assert skipped["remote_id"] == created and skipped["reason"].startswith("cannot-undo:")
        assert "cannot-undo" in " ".join(shown.output.split())

        book = tmp_path / "undo.xlsx"  # the same plan as a review workbook, applied as approved
        assert (
            run_cli(
                ["undo", str(report_json(report)["summary"]["run_id"]), *base, "-o", str(book)], env
            ).exit_code
            == 0
        )
        assert run_cli(["apply", str(book), *base, "--yes"], env).exit_code == 0
        after = _by_key(provider, sb)
        assert {key: after[key] for key in before} == before  # every field the run replaced is back
        assert set(after) - set(before) == {"url=https://shop.example.com/p/new"}  # JoggAI cannot delete it


def test_undo_refuses_unknown_and_foreign_runs_and_says_when_there_is_nothing(tmp_path):
    provider, state = "royalti", tmp_path / "state.db"
    with sandbox(provider) as sb:
        env = env_for(sb, provider, tmp_path)
        base = ["-p", provider, "--state", str(state), *FAST]
        catalog = fresh_catalog(provider, tmp_path)
        assert run_cli(["plan", str(catalog), *base], env).exit_code == 0  # run 1: a plan
        assert run_cli(["apply", str(catalog), *base, "--yes"], env).exit_code == 0  # run 2

        unknown = run_cli(["undo", "99", *base], env)
        assert unknown.exit_code == 1 and "holds no run 99" in unknown.stderr

        nothing = run_cli(["undo", "1", *base], env)
        assert (
            nothing.exit_code == 0
            and "Nothing to undo: run 1 (`plan`) changed no product record" in nothing.stdout
        )

        elsewhere = run_cli(["undo", "2", *base, "--base-url", "http://127.0.0.1:9"], env)
        assert elsewhere.exit_code == 1 and f"was made against {sb.url}" in elsewhere.stderr

        with Ledger(state) as ledger:  # a run whose process died before it finished its record
            killed = ledger.start_run("apply", provider, sb.url, str(catalog), "upsert")
        unfinished = run_cli(["undo", str(killed), *base], env)  # undone from what it recorded: nothing
        assert unfinished.exit_code == 0 and f"run {killed} did not finish" in unfinished.stdout
        assert "sent no write: there is nothing to undo" in unfinished.stdout
