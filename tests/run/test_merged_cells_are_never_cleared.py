"""A merged range over the data is refused by plan and apply (issue 17 item 11), over real HTTP.

Before: C2:C4 merged showing ``Shirts``, ``apply --blanks clear`` cleared the label of rows 3–4 (the
covered cells read blank) and ``validate`` said nothing.  Now ``validate`` warns ``merged-cells``
naming the range, and ``plan``/``apply`` refuse the sheet (exit 3) before anything is read or sent.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl

from tests.support.sync import FAST, env_for, products, run_cli, sandbox, write_requests, write_rows

ROWS = [
    {"externalId": f"E{i}", "title": title, "label": "Shirts"}
    for i, title in enumerate(["Blue", "Red", "Green"], 1)
]


def _merged_sheet(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Products"
    ws.append(["externalId", "title", "label"])
    for row in ROWS:
        ws.append([row["externalId"], row["title"], row["label"] if row["externalId"] == "E1" else None])
    ws.merge_cells("C2:C4")  # what the user sees: Shirts on every row
    wb.save(path)
    return path


def test_a_merged_label_is_named_by_validate_and_never_cleared(tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        base = ["-p", "royalti", "--state", state, *FAST]
        seeded = run_cli(["apply", str(write_rows(tmp_path / "seed.csv", ROWS)), *base, "--yes"], env)
        assert seeded.exit_code == 0, seeded.output
        sheet = _merged_sheet(tmp_path / "products.xlsx")

        checked = run_cli(["validate", str(sheet), "-p", "royalti"], env)
        assert checked.exit_code == 0, checked.output
        assert "merged-cells" in checked.output and "C2:C4 is merged" in checked.output

        writes = write_requests(sb)
        planned = run_cli(["plan", str(sheet), *base, "--blanks", "clear"], env)
        assert planned.exit_code == 3, planned.output
        assert "C2:C4 is merged" in planned.stderr
        applied = run_cli(["apply", str(sheet), *base, "--blanks", "clear", "--yes"], env)
        assert applied.exit_code == 3, applied.output
        assert write_requests(sb) == writes
        assert sorted(p["label"] for p in products(sb)) == ["Shirts"] * 3
