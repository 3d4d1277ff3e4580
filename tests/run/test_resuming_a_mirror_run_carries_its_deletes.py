"""Resuming an interrupted mirror run carries its unfinished deletes (issue 17 item 7), over real HTTP.

A mirror run whose deletes failed reported them ``unknown``; ``apply CATALOG --only failed --from
REPORT`` used to retry its rows only, say ``nothing`` and exit 0 while the records it was told to
delete stayed.  The retry now plans those deletes again under the mirror's rules: each needs
``--max-deletes``, one a row of the catalog names is kept, one changed since is a conflict.
"""

from __future__ import annotations

import json

from tests.support.sync import FAST, env_for, products, run_cli, sandbox, write_rows
from tests.support.three_way import put_product

ROW = {"id": "", "type": "Audio", "format": "Single", "displayArtist": "Band"}
ROWS = [{**ROW, "upc": f"00000000000{i}", "externalId": f"E-{i}", "title": f"T{i}"} for i in range(4)]


def _interrupted_mirror(tmp_path, sb):
    """Four releases; a mirror run of a one-row sheet whose three deletes are answered 500 each time."""
    env = env_for(sb, "royalti", tmp_path)
    base = ["-p", "royalti", "--state", str(tmp_path / "s.db"), *FAST]
    assert run_cli(["apply", str(write_rows(tmp_path / "all.csv", ROWS)), *base, "--yes"], env).exit_code == 0
    one = write_rows(tmp_path / "one.csv", ROWS[:1])
    sb.set_faults(error_rate=1.0, error_methods="DELETE", retry_after=0)
    mirror = [*base, "--mode", "mirror", "--max-deletes", "3", "--yes", "--report", str(tmp_path / "r.json")]
    assert run_cli(["apply", str(one), *mirror], env).exit_code != 0
    sb.set_faults(error_rate=0.0)
    assert len(products(sb)) == 4
    return env, base, one


def _retry(tmp_path, env, base, catalog, *extra: str):
    report = tmp_path / "retry.json"
    args = ["apply", str(catalog), *base, "--yes", "--only", "failed", "--from", str(tmp_path / "r.json")]
    result = run_cli([*args, "--report", str(report), *extra], env)
    return result, (json.loads(report.read_text())["rows"] if report.exists() else [])


def test_retrying_an_interrupted_mirror_run_finishes_its_deletes_under_the_mirrors_rules(tmp_path):
    with sandbox("royalti") as sb:
        env, base, _one = _interrupted_mirror(tmp_path, sb)
        ids = {p["externalId"]: p["id"] for p in products(sb)}
        refused, _ = _retry(tmp_path, env, base, tmp_path / "one.csv")
        assert refused.exit_code == 6 and "--max-deletes 3" in refused.stderr  # still guarded
        put_product(sb, ids["E-1"], title="T1", label="Label B")  # a colleague's edit since
        named = write_rows(tmp_path / "two.csv", [ROWS[0], ROWS[2]])  # E-2 is back in the sheet
        result, rows = _retry(tmp_path, env, base, named, "--max-deletes", "3")
        assert "carrying 3 delete(s)" in " ".join(result.output.split())
        assert result.exit_code == 4, result.output  # the conflict
        by_id = {r["remote_id"]: r for r in rows if r["row"] is None}
        assert by_id[ids["E-1"]]["status"] == "conflict" and "changed since" in by_id[ids["E-1"]]["error"]
        assert by_id[ids["E-2"]]["status"] == "skipped" and "names it" in by_id[ids["E-2"]]["error"]
        assert by_id[ids["E-3"]]["status"] == "ok"
        assert sorted(p["externalId"] for p in products(sb)) == ["E-0", "E-1", "E-2"]
