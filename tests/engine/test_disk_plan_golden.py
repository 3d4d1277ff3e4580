"""The golden test of the two plan engines (issue 20 item 6): ``plan --json`` and ``plan -o`` of a
catalog against a listing served over real HTTP (:mod:`bench.fast_server`) are the same text from
``--engine memory`` and ``--engine disk`` (the time they were made and the estimate's measured
latency aside).  100k rows here; 1M rows in ``soak_disk_plan_golden_1m.py`` (``make soak``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from bench.fast_server import fast_listing
from bench.remote import KEY, write_catalog

#: Lines that differ between two plans of the same catalog made a second apart.
_MOMENT = ('  "created_at":', '  "estimate":')


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as fh:
        yield from (line for line in fh if not line.startswith(_MOMENT))


def _plan(folder: Path, url: str, engine: str, *extra: str) -> Path:
    """``catalog-sync plan`` in a process of its own, its stdout in a file."""
    out = folder / f"plan-{engine}{'-'.join(extra).replace('/', '_')}.out"
    env = {
        **os.environ,
        "ROYALTI_API_KEY": KEY,
        "ROYALTI_BASE_URL": url,
        "HOME": str(folder),
    }
    command = [sys.executable, "-m", "catalog_sync", "plan", str(folder / "catalog.csv"), "-p", "royalti"]
    command += ["--state", str(folder / f"state-{engine}.db"), "--engine", engine, *extra]
    with out.open("w", encoding="utf-8") as fh:
        done = subprocess.run(command, stdout=fh, stderr=subprocess.PIPE, text=True, env=env, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def _same_plans(folder: Path, rows: int) -> None:
    write_catalog(folder / "catalog.csv", rows, changed_every=100)
    with fast_listing(rows) as url:
        for extra in (["--json"], ["-o", str(folder / "saved-{engine}.json")]):
            made = {}
            for engine in ("memory", "disk"):
                shown = _plan(folder, url, engine, *(e.replace("{engine}", engine) for e in extra))
                made[engine] = shown if extra == ["--json"] else folder / f"saved-{engine}.json"
            assert list(_lines(made["disk"])) == list(_lines(made["memory"]))


def test_plan_json_and_saved_plans_of_both_engines_are_the_same_on_100k_rows(tmp_path: Path) -> None:
    _same_plans(tmp_path, 100_000)
