"""`pull --refresh FILE` (issue 19 item 1): a pulled workbook's base, and the cells nobody edited,
brought up to date after an apply, the user's edits left alone; over real HTTP (Royalti sandbox)
with real xlsx files edited as a user would, and a real LibreOffice round trip.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from openpyxl import load_workbook
from openpyxl.styles import Font

from catalog_sync.planning.merge_base import BASE_SHEET
from tests.support.sync import FAST, KEYS, env_for, products, run_cli, sandbox, write_rows

ROW = {"id": "", "type": "Audio", "format": "Single", "displayArtist": "Band", "label": "Label A"}
NAMES = ["applied-title", "applied-label", "pending", "remote-edit", "untouched"]
ADDED = {
    "externalId": "added",
    "title": "Added",
    "type": "Audio",
    "format": "Single",
    "displayArtist": "Band",
}


def _pulled(tmp_path: Path, sb, state: str, names: list[str]) -> tuple[dict[str, str], Path]:
    env = env_for(sb, "royalti", tmp_path)
    seed = write_rows(tmp_path / "seed.csv", [{**ROW, "externalId": n, "title": f"T {n}"} for n in names])
    assert (
        run_cli(["apply", str(seed), "-p", "royalti", "--state", state, "--yes", *FAST], env).exit_code == 0
    )
    pulled = tmp_path / "pulled.xlsx"
    assert run_cli(["pull", "-p", "royalti", "-o", str(pulled), "--state", state], env).exit_code == 0
    return env, pulled


def _edit(path: Path, edits: dict[str, dict[str, str]], add: dict[str, str] | None = None) -> None:
    """Cells edited as a user would, by the row's externalId; ``add`` appended as a new row."""
    wb = load_workbook(path)
    ws = wb["Products"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        for name, value in edits.get(row[header.index("externalId")].value, {}).items():
            cell = row[header.index(name)]
            cell.value, cell.data_type = value, "s"
    if add:
        ws.append([add.get(name, "") for name in header])
    wb.save(path)


def _put(sb, rid: str, **fields: str) -> None:
    """A colleague's edit through the API."""
    answer = requests.put(
        f"{sb.url}/product/{rid}",
        json=fields,
        headers={"Authorization": f"Bearer {KEYS['royalti']}"},
        timeout=5,
    )
    answer.raise_for_status()


def _cells(path: Path, sheet: str = "Products") -> dict[str, dict[str, str]]:
    """The sheet's rows by externalId, every cell as read back."""
    ws = load_workbook(path)[sheet]
    rows = [[c.value or "" for c in row] for row in ws.iter_rows()]
    return {r[rows[0].index("externalId")]: dict(zip(rows[0], r, strict=True)) for r in rows[1:] if any(r)}


def _changes(env, path: Path, state: str) -> tuple[int, dict[str, dict]]:
    result = run_cli(["plan", str(path), "-p", "royalti", "--state", state, "--json"], env)
    plan = json.loads(result.stdout)
    return result.exit_code, {c["values"].get("externalId") or c["key"]: c for c in plan["changes"]}


def _refresh(env, path: Path, state: str, *more: str):
    return run_cli(["pull", "-p", "royalti", "--refresh", str(path), "--state", state, "--json", *more], env)


def _applied_then_refreshed(tmp_path: Path, sb, state: str, path: Path | None = None):
    """Two edits and a new row applied, a third edit made after, a colleague's remote edit; refreshed."""
    env, pulled = _pulled(tmp_path, sb, state, NAMES)
    path = path or pulled
    if path != pulled:
        path.write_bytes(pulled.read_bytes())
    _edit(path, {"applied-title": {"title": "New title"}, "applied-label": {"label": "Label B"}}, add=ADDED)
    applied = run_cli(["apply", str(path), "-p", "royalti", "--state", state, "--yes", *FAST], env)
    assert applied.exit_code == 0, applied.output
    _edit(path, {"pending": {"title": "Not applied yet"}})
    ids = {p["externalId"]: p["id"] for p in products(sb)}
    _put(sb, ids["remote-edit"], title="Colleague's title")
    return env, path, ids, _refresh(env, path, state)


def test_after_a_refresh_only_the_edit_not_applied_yet_is_planned_and_remote_edits_show(tmp_path):
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env, path, ids, refreshed = _applied_then_refreshed(tmp_path, sb, state)
        assert refreshed.exit_code == 0, refreshed.output
        counts = json.loads(refreshed.stdout)
        assert counts["refreshed"] == 2  # the colleague's title; the status Royalti gave the added row
        assert counts["caught_up"] == 2  # the two applied edits
        assert counts["kept"] == 1  # the edit not applied yet
        assert counts["ids_filled"] == 1 and counts["gone"] == 0 and counts["not_in_sheet"] == 0
        code, changes = _changes(env, path, state)
        assert code == 0
        planned = {key: c["action"] for key, c in changes.items() if c["action"] != "unchanged"}
        assert planned == {"pending": "update"}
        assert changes["pending"]["fields"] == {"title": {"old": "T pending", "new": "Not applied yet"}}
        assert not any(c.get("remote_changed") for c in changes.values())
        cells = _cells(path)
        assert cells["remote-edit"]["title"] == "Colleague's title"
        assert cells["added"]["id"] == ids["added"] and cells["added"]["status"] == "Pending"
        assert cells["applied-title"]["title"] == "New title"


def test_a_refresh_keeps_the_workbooks_other_sheets_formats_dropdowns_and_notes(tmp_path):
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env, pulled = _pulled(tmp_path, sb, state, ["one", "two"])
        wb = load_workbook(pulled)
        wb.create_sheet("My notes")["A1"] = "keep me"
        wb["Products"]["C2"].font = Font(italic=True)
        wb.save(pulled)
        ids = {p["externalId"]: p["id"] for p in products(sb)}
        _put(sb, ids["one"], title="Changed remotely")
        assert _refresh(env, pulled, state, "--sheet", "Products").exit_code == 0  # as plan: 2 sheets
        wb = load_workbook(pulled)
        ws = wb["Products"]
        assert wb["My notes"]["A1"].value == "keep me"
        assert wb[BASE_SHEET].sheet_state == "hidden"
        assert ws["C2"].font.italic and ws.freeze_panes == "A2"
        assert "match key #2" in ws["B1"].comment.text
        assert any("Single" in dv.formula1 for dv in ws.data_validations.dataValidation)
        title = next(c for c in ws[1] if c.value == "title").column_letter
        changed = [ws[f"{title}{r}"] for r in (2, 3) if ws[f"{title}{r}"].value == "Changed remotely"]
        assert changed and changed[0].data_type == "s" and changed[0].number_format == "@"


def test_a_conflict_the_apply_left_stays_a_conflict_after_a_refresh(tmp_path):
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env, pulled = _pulled(tmp_path, sb, state, ["both", "other"])
        ids = {p["externalId"]: p["id"] for p in products(sb)}
        _edit(pulled, {"both": {"title": "Mine"}})
        _put(sb, ids["both"], title="Theirs")
        applied = run_cli(["apply", str(pulled), "-p", "royalti", "--state", state, "--yes", *FAST], env)
        assert applied.exit_code == 4  # the conflict: nothing of it sent, the remote value kept
        refreshed = _refresh(env, pulled, state)
        assert json.loads(refreshed.stdout)["kept"] == 1
        code, changes = _changes(env, pulled, state)
        assert code == 4 and changes["both"]["action"] == "conflict"
        assert changes["both"]["conflicts"] == {
            "title": {"old": "T both", "sheet": "Mine", "remote": "Theirs"}
        }


def test_records_gone_remotely_keep_their_rows_and_new_remote_records_are_not_added(tmp_path):
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env, pulled = _pulled(tmp_path, sb, state, ["stays", "goes"])
        ids = {p["externalId"]: p["id"] for p in products(sb)}
        headers = {"Authorization": f"Bearer {KEYS['royalti']}"}
        requests.delete(f"{sb.url}/product/{ids['goes']}", headers=headers, timeout=5).raise_for_status()
        created = {**ROW, "externalId": "later", "title": "Created remotely"}
        created.pop("id")
        requests.post(f"{sb.url}/product/", json=created, headers=headers, timeout=5).raise_for_status()
        refreshed = _refresh(env, pulled, state)
        assert refreshed.exit_code == 0, refreshed.output
        counts = json.loads(refreshed.stdout)
        assert counts["gone_ids"] == [ids["goes"]] and counts["not_in_sheet"] == 1
        assert ids["goes"] in refreshed.stderr and "`pull` lists them" in refreshed.stderr
        assert set(_cells(pulled)) == {"stays", "goes"}


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("pulled.csv", "compared two ways"),
        ("pulled.ods", "save it as .xlsx"),
        ("bare.xlsx", "no _catalog_sync"),
    ],
)
def test_files_without_a_base_that_can_be_rewritten_are_refused(name, said, tmp_path):
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env, pulled = _pulled(tmp_path, sb, state, ["one"])
        path = tmp_path / name
        if name == "bare.xlsx":
            wb = load_workbook(pulled)
            del wb[BASE_SHEET]
            wb.save(path)
        else:
            assert run_cli(["pull", "-p", "royalti", "-o", str(path), "--state", state], env).exit_code == 0
        before = path.read_bytes()
        refused = _refresh(env, path, state)
        assert refused.exit_code == 2 and said in refused.stderr
        assert path.read_bytes() == before


def test_a_workbook_holding_a_chart_rewriting_would_lose_is_refused(tmp_path):
    from openpyxl.chart import BarChart, Reference

    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env, pulled = _pulled(tmp_path, sb, state, ["one"])
        wb = load_workbook(pulled)
        chart = BarChart()
        chart.add_data(Reference(wb["Products"], min_col=1, min_row=1, max_row=2))
        wb.create_sheet("Chart").add_chart(chart, "A1")
        wb.save(pulled)
        before = pulled.read_bytes()
        refused = _refresh(env, pulled, state, "--sheet", "Products")
        assert refused.exit_code == 2 and "charts" in refused.stderr
        assert pulled.read_bytes() == before


def test_a_workbook_pulled_from_another_base_url_is_refused(tmp_path):
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as first:
        _env, pulled = _pulled(tmp_path, first, state, ["one"])
        first_url = first.url
    with sandbox("royalti") as other:
        env = env_for(other, "royalti", tmp_path)
        refused = _refresh(env, pulled, str(tmp_path / "other.db"))
        assert refused.exit_code == 2 and first_url in refused.stderr


def test_out_and_refresh_go_one_at_a_time(tmp_path):
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env, pulled = _pulled(tmp_path, sb, state, ["one"])
        both = _refresh(env, pulled, state, "-o", str(tmp_path / "new.xlsx"))
        assert both.exit_code == 2 and "not both" in both.stderr
        neither = run_cli(["pull", "-p", "royalti", "--state", state], env)
        assert neither.exit_code == 2


@pytest.mark.libreoffice
def test_a_workbook_saved_by_libreoffice_refreshed_and_saved_again_plans_zero_changes(tmp_path, convert):
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env, pulled = _pulled(tmp_path, sb, state, ["one", "two"])
        saved = convert(pulled, "xlsx")  # the user opened and saved it in LibreOffice
        _edit(saved, {"one": {"title": "New title"}}, add=ADDED)
        assert (
            run_cli(["apply", str(saved), "-p", "royalti", "--state", state, "--yes", *FAST], env).exit_code
            == 0
        )
        ids = {p["externalId"]: p["id"] for p in products(sb)}
        _put(sb, ids["two"], title="T two", label="Label B")
        assert _refresh(env, saved, state).exit_code == 0
        again = convert(saved, "xlsx")
        code, changes = _changes(env, again, state)
        assert code == 0 and {c["action"] for c in changes.values()} == {"unchanged"}
        assert not any(c.get("remote_changed") for c in changes.values())
        assert _cells(again)["two"]["label"] == "Label B" and _cells(again)["added"]["id"] == ids["added"]
