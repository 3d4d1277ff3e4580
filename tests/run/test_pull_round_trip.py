"""`pull` and the round-trip promise (issue 8 items 2 and 3), over real HTTP and real LibreOffice.

pull → open and save in headless LibreOffice (xlsx and ods) → `plan` shows zero changes, for
sheets holding leading-zero UPCs, 18-digit numeric ids, `NA`, text like `=SUM(A1)`, `00123`,
dates and non-Latin text.  The hidden `_catalog_sync` sheet holds the base and no credential.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from catalog_sync.cli.pull_cmd import pull_command
from catalog_sync.planning.merge_base import BASE_SHEET
from tests.support.sync import (
    FAST,
    KEYS,
    env_for,
    fresh_catalog,
    read_rows,
    run_cli,
    sandbox,
    write_requests,
    write_rows,
)

TRICKY = [
    {
        "id": "",
        "upc": "012345678905",
        "externalId": "123456789012345678",
        "catalogNumber": "00123",
        "title": "=SUM(A1)",
        "displayArtist": "Zoë Ωμέγα 東京",
        "type": "Audio",
        "format": "Single",
        "label": "NA",
        "releaseDate": "2024-06-15",
    },
    {
        "id": "",
        "upc": "000000000000",
        "externalId": "000042",
        "catalogNumber": "CAT-0007",
        "title": "+1 -1 @me",
        "displayArtist": "Ünïcødé  two  spaces",
        "type": "Audio",
        "format": "EP",
        "label": "N/A",
        "releaseDate": "1999-12-31",
    },
]


def _pull(args: list[str], env: dict[str, str]):
    return CliRunner().invoke(pull_command, args, env=env, catch_exceptions=False)


def _seeded(provider: str, tmp_path: Path, sb, state: str) -> dict[str, str]:
    env = env_for(sb, provider, tmp_path)
    catalog = (
        write_rows(tmp_path / "seed.csv", TRICKY)
        if provider == "royalti"
        else fresh_catalog(provider, tmp_path)
    )
    applied = run_cli(["apply", str(catalog), "-p", provider, "--state", state, "--yes", *FAST], env)
    assert applied.exit_code == 0, applied.output
    return env


def _plan_is_empty(path: Path, provider: str, state: str, env: dict[str, str]) -> dict:
    result = run_cli(
        ["plan", str(path), "-p", provider, "--state", state, "--json", "--detailed-exitcode"], env
    )
    plan = json.loads(result.stdout)
    assert result.exit_code == 0, (result.stderr, [c for c in plan["changes"] if c["action"] != "unchanged"])
    return plan


@pytest.mark.parametrize("provider", ["royalti", "keevault", "jogg"])
@pytest.mark.parametrize("suffix", [".xlsx", ".ods", ".csv"])
def test_a_pulled_sheet_plans_zero_changes(provider, suffix, tmp_path):
    state = str(tmp_path / "state.db")
    with sandbox(provider) as sb:
        env = _seeded(provider, tmp_path, sb, state)
        out = tmp_path / f"pulled{suffix}"
        result = _pull(["-p", provider, "-o", str(out), "--state", state], env)
        assert result.exit_code == 0, result.output
        writes = write_requests(sb)
        plan = _plan_is_empty(out, provider, state, env)
        assert plan["summary"]["unchanged"] == len(sb.state()["products"])
        assert write_requests(sb) == writes
        assert KEYS[provider] not in out.read_bytes().decode("latin-1")


@pytest.mark.libreoffice
@pytest.mark.parametrize("suffix", ["xlsx", "ods"])
def test_pull_then_libreoffice_save_then_plan_shows_zero_changes(suffix, tmp_path, convert):
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env = _seeded("royalti", tmp_path, sb, state)
        out = tmp_path / f"pulled.{suffix}"
        assert _pull(["-p", "royalti", "-o", str(out), "--state", state], env).exit_code == 0
        saved = convert(out, suffix)  # opened and saved again by LibreOffice
        plan = _plan_is_empty(saved, "royalti", state, env)
        assert plan["summary"]["unchanged"] == 2
        book = CalamineWorkbook.from_path(str(saved))
        rows = book.get_sheet_by_name("Products").to_python()
        upcs = {str(r[1]) for r in rows[1:] if r and r[1]}
        assert {"012345678905", "000000000000"} <= upcs  # still text with their zeros
        assert BASE_SHEET in book.sheet_names


def test_the_base_sheet_is_hidden_and_holds_provider_url_time_and_values(tmp_path):
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env = _seeded("royalti", tmp_path, sb, state)
        out = tmp_path / "pulled.xlsx"
        assert _pull(["-p", "royalti", "-o", str(out), "--state", state], env).exit_code == 0
        book = CalamineWorkbook.from_path(str(out))
        visible = {s.name: s.visible for s in book.sheets_metadata}
        assert str(visible[BASE_SHEET]).lower().endswith("hidden")
        base = book.get_sheet_by_name(BASE_SHEET).to_python()
        meta = {r[0]: r[1] for r in base if len(r) > 1 and r[0] and r[0] != "remote_id"}
        assert meta["provider"] == "royalti" and meta["base_url"] == sb.url and meta["pulled_at"]
        header = next(r for r in base if r and r[0] == "remote_id")
        assert header[1:3] == ["id", "upc"]
        ids = {p["id"] for p in sb.state()["products"]}
        assert {r[0] for r in base[base.index(header) + 1 :]} == ids
        assert KEYS["royalti"] not in out.read_bytes().decode("latin-1")


def test_the_pulled_workbook_has_the_templates_header_notes_dropdowns_and_frozen_text_columns(tmp_path):
    from openpyxl import load_workbook

    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env = _seeded("royalti", tmp_path, sb, state)
        out = tmp_path / "pulled.xlsx"
        assert (
            _pull(["-p", "royalti", "-o", str(out), "--state", state, "--sheet", "Releases"], env).exit_code
            == 0
        )
    ws = load_workbook(out)["Releases"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    assert "match key #2" in ws["B1"].comment.text  # upc
    lists = {str(dv.sqref).split(":")[0][:1]: dv.formula1 for dv in ws.data_validations.dataValidation}
    assert any("Single" in f for f in lists.values())  # format's enumeration
    assert ws["B2"].data_type == "s" and ws["B2"].number_format == "@"


# ------------------------------------------------ formula-looking values in a pulled CSV (issue 17 item 11)
#: What the provider holds; the pulled CSV guards the first three as reports do, never the last two.
FORMULA_LIKE = {
    "=SUM(1)": "'=SUM(1)",
    "-5 off": "'-5 off",
    "'=already quoted": "''=already quoted",  # a value that really starts with ' keeps it
    "'hello": "'hello",  # not formula-looking: no guard, and its own ' stays
    "-42": "-42",  # a plain number runs as nothing
}


def _seed_descriptions(sb, tmp_path: Path) -> None:
    """Keevault products holding FORMULA_LIKE's values, created with the client (no sheet in between)."""
    from catalog_sync.providers import get_provider

    client = get_provider("keevault").from_env(base_url=sb.url, env=env_for(sb, "keevault", tmp_path))
    base = {"source": "internal", "require_non_expired": "1", "status": "active"}
    for i, text in enumerate(FORMULA_LIKE, 1):
        client.create({**base, "name": f"Product {i}", "description": text, "external_reference": f"R{i}"})
    client.close()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_formula_looking_values_are_guarded_in_a_pulled_csv_and_plan_nothing_read_back(suffix, tmp_path):
    state = str(tmp_path / "state.db")
    with sandbox("keevault") as sb:
        _seed_descriptions(sb, tmp_path)
        env = env_for(sb, "keevault", tmp_path)
        out = tmp_path / f"pulled{suffix}"
        assert _pull(["-p", "keevault", "-o", str(out), "--state", state], env).exit_code == 0
        if suffix == ".csv":
            descriptions = [row["description"] for row in read_rows(out)]
            assert sorted(descriptions) == sorted(FORMULA_LIKE.values())
        else:  # a workbook's text cells never run: the values as they are, no guard
            book = CalamineWorkbook.from_path(str(out))
            rows = book.get_sheet_by_name("Products").to_python()
            column = rows[0].index("description")
            assert sorted(r[column] for r in rows[1:]) == sorted(FORMULA_LIKE)
        writes = write_requests(sb)
        plan = _plan_is_empty(out, "keevault", state, env)
        assert plan["summary"]["unchanged"] == len(FORMULA_LIKE)
        assert write_requests(sb) == writes
