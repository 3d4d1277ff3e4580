"""What pandas, pyarrow and pandera leave in memory lives as long as the process, and the cyclic
collector leaves it alone (issue 20 item 4: 0.2–0.3 s of start-up went to collections while it
loaded, and 0.5–0.9 s of every run to walking it again at interpreter exit):

* a command's modules load with the collector paused, then are frozen (``cli.main.load_paused``);
* the process exits without collecting the heap (``gc.freeze()`` once the command is done), and
  nothing the run wrote is lost by it: the report holds every row, the ledger's run record is
  finished with its exit code and report path, stdout has the summary, the exit code is the
  command's."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.support.sync import env_for, fresh_catalog, read_rows, sandbox, write_rows

#: The console entry point, saying at exit how many objects were frozen (the collection the interpreter
#: skips; atexit handlers run after ``main`` has returned or raised SystemExit) and how many collections
#: ran while pandas was loaded but not frozen (while the command's modules loaded).
ENTRY = """
import atexit, gc, sys
from catalog_sync.cli.main import main
loading = []
gc.callbacks.append(
    lambda phase, info: loading.append(1) if phase == "start" and "pandas" in sys.modules
    and not gc.get_freeze_count() else None
)
atexit.register(lambda: print(f"frozen at exit: {gc.get_freeze_count()}", file=sys.stderr))
atexit.register(lambda: print(f"collections while loading: {len(loading)}", file=sys.stderr))
sys.argv[0] = "catalog-sync"
main()
"""


def _catalog_sync(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", ENTRY, *args]
    return subprocess.run(
        command, env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def _said(stderr: str, what: str) -> int:
    line = next(x for x in stderr.splitlines() if x.startswith(f"{what}: "))
    return int(line.rsplit(" ", 1)[1])


def _frozen(stderr: str) -> int:
    return _said(stderr, "frozen at exit")


def test_a_commands_modules_load_without_collections_and_stay_out_of_them(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    done = _catalog_sync(["validate", str(catalog), "-p", "royalti"], {}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert _said(done.stderr, "collections while loading") == 0
    assert _frozen(done.stderr) > 100_000  # pandas, pyarrow and pandera: left out of every collection


def test_an_apply_process_ends_with_its_report_and_ledger_complete(tmp_path):
    catalog = fresh_catalog("royalti", tmp_path)
    rows = read_rows(catalog)
    state, report = tmp_path / "state.db", tmp_path / "report.json"
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        args = ["apply", str(catalog), "-p", "royalti", "--yes", "--rate", "1000"]
        done = _catalog_sync([*args, "--state", str(state), "--report", str(report)], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert _frozen(done.stderr) > 0  # the heap was frozen: the interpreter did not walk it at exit
    written = json.loads(report.read_text(encoding="utf-8"))
    assert [r["status"] for r in written["rows"]] == ["ok"] * len(rows)
    assert written["summary"]["status"]["ok"] == len(rows)
    assert str(report) in "".join(done.stdout.split())  # the summary names the report (wrapped at 80)
    with sqlite3.connect(state) as db:
        run = db.execute("SELECT command, finished_at, exit_code, report FROM runs").fetchall()
    assert len(run) == 1 and run[0][0] == "apply"
    assert run[0][1] is not None and run[0][2] == 0 and run[0][3] == str(report)


def test_a_refused_run_keeps_its_exit_code_and_message(tmp_path):
    bad = read_rows(fresh_catalog("royalti", tmp_path))
    bad[0]["upc"] = "12345"  # not a GTIN: the catalog is invalid, nothing is sent
    catalog = write_rows(tmp_path / "bad.csv", bad)
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        args = ["apply", str(catalog), "-p", "royalti", "--yes", "--state", str(tmp_path / "state.db")]
        done = _catalog_sync(args, env, tmp_path)
        assert sb.stats()["writes_applied"] == 0
    assert done.returncode == 3, done.stderr
    assert "upc" in done.stderr and _frozen(done.stderr) > 0


def test_commands_run_again_in_one_process_freeze_nothing_more(tmp_path):
    """click's test runner (or a program calling the CLI) runs many commands in one process: only the
    first loads the modules and freezes them; the later ones leave the collector as it is."""
    import gc

    from click.testing import CliRunner

    from catalog_sync.cli.main import cli

    catalog = str(fresh_catalog("royalti", tmp_path))
    first = CliRunner().invoke(cli, ["validate", catalog, "-p", "royalti"])
    frozen = gc.get_freeze_count()
    again = CliRunner().invoke(cli, ["validate", catalog, "-p", "royalti"])
    assert first.exit_code == again.exit_code == 0, again.output
    assert gc.get_freeze_count() == frozen and gc.isenabled()  # (the first froze, unless already loaded)
