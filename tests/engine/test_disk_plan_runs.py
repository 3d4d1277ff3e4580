"""``plan --engine disk`` in a run: a saved plan of the out-of-core engine is applied like any other
(Royalti and Keevault against their sandboxes), and what the engine does not plan yet is refused by
name, pointing at ``--engine memory``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from catalog_sync.engine.plan import refuse_on_disk
from catalog_sync.engine.remote_side import refuse
from catalog_sync.errors import ConfigError
from tests.support.sync import FAST, env_for, fresh_catalog, read_rows, run_cli, sandbox, write_rows


@pytest.mark.parametrize("provider", ["royalti", "keevault"])
def test_a_plan_saved_by_the_disk_engine_applies_and_the_next_plan_is_clean(
    provider: str, tmp_path: Path
) -> None:
    with sandbox(provider) as sb:
        env = env_for(sb, provider, tmp_path)
        base = ["-p", provider, "--state", str(tmp_path / "s.db"), *FAST]
        catalog = fresh_catalog(provider, tmp_path)
        assert run_cli(["apply", str(catalog), *base, "--yes"], env).exit_code == 0
        rows = read_rows(catalog)
        label = "title" if provider == "royalti" else "description"
        rows[0][label] = "changed on disk"
        write_rows(catalog, rows)
        saved = {engine: tmp_path / f"plan-{engine}.json" for engine in ("memory", "disk")}
        for engine, out in saved.items():
            made = run_cli(["plan", str(catalog), *base, "--engine", engine, "-o", str(out)], env)
            assert made.exit_code == 0, made.output
        memory, disk = (json.loads(p.read_text(encoding="utf-8")) for p in saved.values())
        for plan in (memory, disk):
            plan.pop("created_at")
        assert disk == memory
        assert [c["action"] for c in disk["changes"]] == ["update"]
        applied = run_cli(["apply", str(saved["disk"]), *base, "--yes"], env)
        assert applied.exit_code == 0, applied.output
        again = run_cli(["plan", str(catalog), *base, "--engine", "disk", "--detailed-exitcode"], env)
        assert again.exit_code == 0, again.output  # nothing pending: the update went through


def test_the_disk_engine_refuses_by_name_what_it_does_not_plan_yet() -> None:
    class Unlisted:
        can_list, name, title = False, "jogg", "JoggAI"

    unlisted: Any = Unlisted()
    for refusal in (
        lambda: refuse(unlisted),
        lambda: refuse_on_disk(base=object()),
        lambda: refuse_on_disk(carried=object()),
    ):
        with pytest.raises(ConfigError, match="--engine memory"):
            refusal()


def test_a_workbook_is_refused_by_the_disk_plan_engine(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["upc", "title"])
    book.save(tmp_path / "catalog.xlsx")
    shown = run_cli(
        [
            "plan",
            str(tmp_path / "catalog.xlsx"),
            "-p",
            "royalti",
            "--engine",
            "disk",
            "--state",
            str(tmp_path / "s.db"),
        ],
        {"ROYALTI_API_KEY": "RWAK_x", "ROYALTI_BASE_URL": "http://127.0.0.1:9"},
    )
    assert shown.exit_code != 0 and "out-of-core engine reads CSV" in shown.output
