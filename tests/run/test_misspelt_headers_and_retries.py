"""What a new user's catalog meets in plan and apply (issue 9 items 1 and 5), over real HTTP.

* a header one or two edits from a field name gets "did you mean …?" in validate and is an
  error in plan/apply unless --ignore-unknown-columns; plan and apply show the catalog's
  warnings (a count per code and the first few);
* ``--only failed --from REPORT`` given the catalog too retries the failed rows with the
  catalog's current values; without it, with the report's values, and says so.
"""

from __future__ import annotations

import json

from tests.support.sync import FAST, env_for, products, read_rows, run_cli, sandbox, write_rows

BASE = {"id": "", "displayArtist": "Band", "type": "Audio", "format": "Single"}


def test_a_header_two_edits_from_a_field_is_refused_by_plan_and_suggested_by_validate(tmp_path):
    rows = [{**BASE, "externalId": "E-1", "tilte": "Summer", "relaseDate": "2024-06-15"}]
    catalog = write_rows(tmp_path / "typo.csv", rows)
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        checked = run_cli(["validate", str(catalog), "-p", "royalti", "--json"], env)
        found = {(p["cell"], p["code"]): p["message"] for p in json.loads(checked.stdout)["problems"]}
        assert "did you mean 'releaseDate'?" in found[("G1", "unknown-column")]
        state = ["--state", str(tmp_path / "s.db"), *FAST]
        plan = run_cli(["plan", str(catalog), "-p", "royalti", *state], env)
        assert plan.exit_code == 3, plan.output
        assert "misspelt header" in plan.stderr and "--ignore-unknown-columns" in plan.stderr
        ignored = run_cli(
            [
                "apply",
                str(write_rows(tmp_path / "ok.csv", [{**rows[0], "title": "Summer"}])),
                "-p",
                "royalti",
                *state,
                "--yes",
                "--ignore-unknown-columns",
            ],
            env,
        )
        assert ignored.exit_code == 0, ignored.output
        said = " ".join(ignored.stderr.split())
        assert (
            "2 warning(s) in the catalog: 2 unknown-column" in said and "did you mean 'releaseDate'?" in said
        )
        assert [p["title"] for p in products(sb)] == ["Summer"]


def test_plan_shows_the_encoding_guessed_warning(tmp_path):
    catalog = tmp_path / "cp1252.csv"
    header = "id;externalId;title;displayArtist;type;format\r\n"
    catalog.write_bytes((header + ";E-1;Caf\xe9 Gr\xf6\xdfe;Band;Audio;Single\r\n").encode("cp1252"))
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        plan = run_cli(["plan", str(catalog), "-p", "royalti", "--state", str(tmp_path / "s.db"), *FAST], env)
    assert plan.exit_code == 0, plan.output
    assert "1 encoding-guessed" in " ".join(plan.stderr.split())


def test_only_failed_with_the_catalog_retries_with_its_corrected_values(tmp_path):
    state = ["--state", str(tmp_path / "s.db"), *FAST]
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        first = [{**BASE, "externalId": "E-1", "title": "One", "upc": "012345678905"}]
        assert (
            run_cli(
                ["apply", str(write_rows(tmp_path / "a.csv", first)), "-p", "royalti", *state, "--yes"], env
            ).exit_code
            == 0
        )
        rows = [  # a new UPC on the row whose externalId matched E-1's release: a conflict
            {**BASE, "externalId": "E-0", "title": "Zero", "upc": "000000000000"},
            {**BASE, "externalId": "E-1", "title": "Two", "upc": "036000291452"},
        ]
        catalog = write_rows(tmp_path / "catalog.csv", rows)
        report = tmp_path / "r.csv"
        failed = run_cli(
            ["apply", str(catalog), "-p", "royalti", *state, "--yes", "--report", str(report)], env
        )
        assert failed.exit_code == 4
        assert [r["status"] for r in read_rows(report)] == ["ok", "conflict"]
        # the stale values of the report alone would hit the same conflict: it says where they came from
        stale = run_cli(
            ["apply", "-p", "royalti", *state, "--yes", "--only", "failed", "--from", str(report)], env
        )
        assert stale.exit_code == 4 and "with the values recorded in" in " ".join(stale.stderr.split())
        # corrected in the catalog: the retry takes the catalog's value
        rows[1]["externalId"] = "E-2"  # it was another release
        write_rows(catalog, rows)
        fixed = run_cli(
            [
                "apply",
                str(catalog),
                "-p",
                "royalti",
                *state,
                "--yes",
                "--only",
                "failed",
                "--from",
                str(report),
                "--report",
                str(tmp_path / "r2.json"),
            ],
            env,
        )
        assert fixed.exit_code == 0, fixed.output
        assert "with their current values from" in " ".join(fixed.stderr.split())
        retried = json.loads((tmp_path / "r2.json").read_text())["rows"]
        assert [(r["key"], r["status"]) for r in retried] == [
            ("upc=036000291452", "ok")
        ]  # only the failed row
        assert sorted(p["upc"] for p in products(sb)) == ["000000000000", "012345678905", "036000291452"]
