"""`pull` writes records in the provider's own order, the order they were created (issue 18 item 5):
a user who imported a catalog finds it pulled back in the order they know, not sorted by id."""

from __future__ import annotations

import pytest

from catalog_sync.spec import load_spec
from tests.support.sync import FAST, env_for, fresh_catalog, read_rows, run_cli, sandbox, write_rows


@pytest.mark.parametrize("provider", ["royalti", "keevault", "jogg"])
def test_pull_lists_records_in_the_order_they_were_created(provider, tmp_path):
    catalog = fresh_catalog(provider, tmp_path)
    label = load_spec(provider).labels[0]
    created = [row[label] for row in read_rows(catalog)]
    state = str(tmp_path / "s.db")
    with sandbox(provider) as sb:
        env = env_for(sb, provider, tmp_path)
        applied = run_cli(
            ["apply", str(catalog), "-p", provider, "--state", state, "--yes", "--concurrency", "1", *FAST],
            env,
        )
        assert applied.exit_code == 0, applied.output
        rows = read_rows(catalog)  # an edit of the first record since must not move it
        field = "title" if provider == "royalti" else "description"
        rows[0][field] += " (edited)"
        write_rows(catalog, rows)
        edited = run_cli(["apply", str(catalog), "-p", provider, "--state", state, "--yes", *FAST], env)
        assert edited.exit_code == 0, edited.output
        created[0] = rows[0][label]
        pulled = tmp_path / "pulled.csv"
        out = run_cli(["pull", "-p", provider, "--state", state, "-o", str(pulled), *FAST], env)
        assert out.exit_code == 0, out.output
    rows = read_rows(pulled)
    rid = load_spec(provider).remote_id
    assert [row[label] for row in rows] == created
    if provider == "royalti":  # its ids are UUIDs: sorted by id, the sheet's order was lost
        assert [row[rid] for row in rows] != sorted(row[rid] for row in rows)
