"""The library API (``import catalog_sync``): the calls the commands make, against a real sandbox.

Also the write gate as a user of the library meets it: a run's client (``Target.connect``) sends a
write only through :class:`~catalog_sync.execute.gate.WriteGate`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import catalog_sync
from catalog_sync import ReadOptions, Target
from catalog_sync.errors import InvalidCatalogError, UngatedWriteError
from catalog_sync.execute.gate import Write, WriteGate
from catalog_sync.state import Ledger
from tests.support.sync import ROOT, env_for, fresh_catalog, products, sandbox, write_requests


def test_importing_the_package_loads_nothing_heavy() -> None:
    code = (
        "import sys, catalog_sync; "
        "print(','.join(m for m in ('pandas', 'pyarrow', 'requests', 'openpyxl') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_validate_returns_the_report_without_sending() -> None:
    good = catalog_sync.validate(ROOT / "samples" / "royalti" / "catalog.csv", "royalti")
    bad = catalog_sync.validate(ROOT / "samples" / "royalti" / "missing_title.csv", "royalti")
    assert good.valid and not good.errors
    assert not bad.valid and {p.code for p in bad.errors} == {"required"}


def test_plan_sync_and_pull_as_calls(tmp_path: Path) -> None:
    catalog = fresh_catalog("royalti", tmp_path)
    with sandbox("royalti") as sb:
        target = Target(
            "royalti", state=tmp_path / "state.db", rate=1000, env=env_for(sb, "royalti", tmp_path)
        )
        planned = catalog_sync.plan(catalog, target, out=tmp_path / "plan.json").plan
        assert planned.summary["create"] == len(fresh_rows(catalog)) and write_requests(sb) == 0

        done = catalog_sync.sync(catalog, target, report=tmp_path / "report.csv")
        assert (
            done.exit_code == 0
            and done.summary["status"]["ok"] == len(products(sb)) == planned.summary["create"]
        )
        assert done.report == tmp_path / "report.csv" and done.report.exists()

        sent = write_requests(sb)
        again = catalog_sync.sync(catalog, target)
        assert again.exit_code == 0 and write_requests(sb) == sent  # nothing is created twice

        pulled = catalog_sync.pull(target, tmp_path / "pulled.xlsx")
        assert pulled.records == len(products(sb))
        assert not catalog_sync.plan(tmp_path / "pulled.xlsx", target).plan.pending
        with Ledger(tmp_path / "state.db") as ledger:
            assert [r["command"] for r in ledger.runs()][::-1] == ["plan", "apply", "apply", "pull", "plan"]


def test_a_catalog_the_gate_refuses_raises_with_exit_3(tmp_path: Path) -> None:
    with pytest.raises(InvalidCatalogError) as refused:
        catalog_sync.plan(
            ROOT / "samples" / "royalti" / "missing_title.csv", Target("royalti", state=tmp_path / "s.db")
        )
    assert refused.value.exit_code == 3


def test_sync_takes_a_catalog_not_a_saved_plan(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="apply a saved plan"):
        catalog_sync.sync(tmp_path / "plan.json", "royalti")


def test_read_options_reach_the_loader(tmp_path: Path) -> None:
    sheet = tmp_path / "semi.csv"
    sheet.write_text("title;upc;displayArtist;type;format\nA;012345678905;B;Audio;Single\n", encoding="utf-8")
    assert catalog_sync.validate(sheet, "royalti", ReadOptions(delimiter=";")).valid
    assert not catalog_sync.validate(sheet, "royalti", ReadOptions(delimiter=",")).valid


def test_a_runs_client_sends_a_write_only_through_the_gate(tmp_path: Path) -> None:
    row = {"title": "Gate", "upc": "012345678905", "displayArtist": "B", "type": "Audio", "format": "Single"}
    with sandbox("royalti") as sb:
        client = Target("royalti", state=tmp_path / "s.db", env=env_for(sb, "royalti", tmp_path)).connect()
        with client, pytest.raises(UngatedWriteError, match="outside the write gate"):
            client.create(row)
        assert write_requests(sb) == 0 and products(sb) == []
        created = WriteGate(client).send(Write("create", row))
        assert created.remote_id and [p["title"] for p in products(sb)] == ["Gate"]


def fresh_rows(catalog: Path) -> list[str]:
    return [line for line in catalog.read_text(encoding="utf-8-sig").splitlines()[1:] if line.strip()]
