"""A Royalti catalog applied, then pulled into a workbook with a base (``_catalog_sync``), and the
tools to edit it in the sheet (openpyxl) and remotely (the sandbox's API): what the three-way
merge tests, the review page tests and the control tests start from."""

from __future__ import annotations

import requests
from click.testing import CliRunner
from openpyxl import load_workbook

from catalog_sync.cli.pull_cmd import pull_command
from tests.support.sync import FAST, KEYS, env_for, products, run_cli, write_rows

ROW = {"id": "", "type": "Audio", "format": "Single", "displayArtist": "Band", "label": "Label A"}
NAMES = ["same", "sheet-edit", "remote-edit", "both-same", "both-differ", "dropped"]


def put_product(sb, rid: str, **fields: str) -> None:
    answer = requests.put(
        f"{sb.url}/product/{rid}",
        json=fields,
        headers={"Authorization": f"Bearer {KEYS['royalti']}"},
        timeout=5,
    )
    answer.raise_for_status()


def post_product(sb, **fields: str) -> None:
    answer = requests.post(
        f"{sb.url}/product/", json=fields, headers={"Authorization": f"Bearer {KEYS['royalti']}"}, timeout=5
    )
    answer.raise_for_status()


def pulled_royalti(tmp_path, sb, state: str):
    env = env_for(sb, "royalti", tmp_path)
    rows = [{**ROW, "externalId": name, "title": f"T {name}"} for name in NAMES]
    seeded = write_rows(tmp_path / "seed.csv", rows)
    assert (
        run_cli(["apply", str(seeded), "-p", "royalti", "--state", state, "--yes", *FAST], env).exit_code == 0
    )
    pulled = tmp_path / "pulled.xlsx"
    assert (
        CliRunner()
        .invoke(pull_command, ["-p", "royalti", "-o", str(pulled), "--state", state], env=env)
        .exit_code
        == 0
    )
    ids = {p["externalId"]: p["id"] for p in products(sb)}
    return env, pulled, ids


def edit_sheet(pulled, edits: dict[str, dict[str, str]], drop: set[str], add: dict[str, str] | None = None):
    wb = load_workbook(pulled)
    ws = wb["Products"]
    header = [c.value for c in ws[1]]
    for row in list(ws.iter_rows(min_row=2)):
        ext = row[header.index("externalId")].value
        for name, value in edits.get(ext, {}).items():
            cell = row[header.index(name)]
            if value == "":  # an emptied cell
                cell.value = None
            else:
                cell.value, cell.data_type = value, "s"
    for row_number in sorted(
        (r[0].row for r in ws.iter_rows(min_row=2) if r[header.index("externalId")].value in drop),
        reverse=True,
    ):
        ws.delete_rows(row_number)
    if add:
        ws.append([add.get(name, "") for name in header])
    wb.save(pulled)
