"""``--blanks clear`` on a field the provider's API cannot clear (issue 17 item 9), over real HTTP.

Royalti's OpenAPI marks no field ``nullable`` and takes no empty value for its enums, dates, years,
counts or ``reissue``: clearing ``type`` could only be refused.  ``plan`` and ``apply`` refuse it
first (exit 3, ``cannot-clear`` at the cell, nothing sent); clearing a field the API can clear
(``label``, ``displayArtist``: plain text) still works.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.sync import FAST, env_for, products, run_cli, sandbox, write_requests, write_rows

HEADER = ["id", "externalId", "title", "displayArtist", "type", "releaseDate", "label", "totalTracks"]
ROW = {
    "id": "",
    "externalId": "EXT-1",
    "title": "Summer Vibes",
    "displayArtist": "John Doe",
    "type": "Audio",
    "releaseDate": "2024-06-15",
    "label": "Sunset Records",
    "totalTracks": "12",
}


def _catalog(folder: Path, **cells: str) -> Path:
    return write_rows(folder / "catalog.csv", [{**ROW, **cells}], HEADER)


def _seeded(tmp_path: Path, sb, state: str) -> dict[str, str]:
    env = env_for(sb, "royalti", tmp_path)
    created = run_cli(
        ["apply", str(_catalog(tmp_path)), "-p", "royalti", "--state", state, "--yes", *FAST], env
    )
    assert created.exit_code == 0, created.output
    return env


def test_plan_and_apply_refuse_to_clear_what_the_api_cannot_clear(tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env = _seeded(tmp_path, sb, state)
        catalog = _catalog(tmp_path, type="", releaseDate="", totalTracks="", label="")
        base = ["-p", "royalti", "--state", state, "--blanks", "clear", *FAST]
        writes = write_requests(sb)

        plan = run_cli(["plan", str(catalog), *base, "--json"], env)
        assert plan.exit_code == 3, plan.output
        problems = json.loads(plan.stdout)["problems"]
        assert [(p["cell"], p["code"]) for p in problems] == [
            ("E2", "cannot-clear"),
            ("F2", "cannot-clear"),
            ("H2", "cannot-clear"),
        ]  # label (G2) can be cleared: it is not among them
        assert "--blanks keep" in problems[0]["message"] and "'Audio'" in problems[0]["message"]
        assert "E2" in plan.stderr and "Nothing was sent" in plan.stderr

        applied = run_cli(["apply", str(catalog), *base, "--yes"], env)
        assert applied.exit_code == 3, applied.output
        assert write_requests(sb) == writes  # nothing sent
        (product,) = products(sb)
        assert (product["type"], product["label"]) == ("Audio", "Sunset Records")


def test_clearing_a_field_the_api_can_clear_still_works(tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env = _seeded(tmp_path, sb, state)
        catalog = _catalog(tmp_path, label="", displayArtist="")
        base = ["-p", "royalti", "--state", state, "--blanks", "clear", *FAST]
        applied = run_cli(["apply", str(catalog), *base, "--yes"], env)
        assert applied.exit_code == 0, applied.output
        (product,) = products(sb)
        assert (product["label"], product["displayArtist"], product["type"]) == ("", "", "Audio")
        again = run_cli(["plan", str(catalog), *base, "--detailed-exitcode"], env)
        assert again.exit_code == 0, again.output  # converged: nothing more to clear


def test_blanks_keep_leaves_a_field_the_api_cannot_clear_alone(tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    with sandbox("royalti") as sb:
        env = _seeded(tmp_path, sb, state)
        catalog = _catalog(tmp_path, type="", releaseDate="")
        plan = run_cli(
            ["plan", str(catalog), "-p", "royalti", "--state", state, *FAST, "--detailed-exitcode"], env
        )
        assert plan.exit_code == 0, plan.output
