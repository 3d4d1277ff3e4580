"""How quickly a plan to approve in Excel is written and read back (issue 18 item 2): a measurement,
not a test.  ``.venv/bin/python -m bench.plan_workbook [CHANGES ...]`` (default 10,000 and 100,000).

Each plan lists every change (two fields changed on each: updates, creates, and every tenth a
three-way conflict), as ``plan -o PLAN.xlsx`` of a big catalog would.  Prints per size: seconds to
write the workbook (:func:`save_plan_workbook`) and to read it back (:func:`read_plan_workbook`),
each as wall and CPU seconds, the file's size and, with ``--memory``, the peak of Python's
allocations during each (tracemalloc; slower).
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from catalog_sync.planning.model import Change, Plan
from catalog_sync.planning.workbook import read_plan_workbook, save_plan_workbook


def listed_plan(changes: int) -> Plan:
    """A plan of ``changes`` listed changes, each changing two fields (title and label)."""
    listed = []
    for n in range(changes):
        action = "conflict" if n % 10 == 9 else ("create" if n % 3 == 0 else "update")
        change = Change(
            row=n + 2,
            key=f"externalId=EXT-{n:06d}",
            action=action,
            values={"externalId": f"EXT-{n:06d}", "title": f"Release {n}", "label": "Label B"},
        )
        if action != "create":
            change.remote_id, change.fingerprint = f"r{n}", f"{n:016x}"
        if action == "conflict":
            change.conflicts = {"title": {"old": f"Old {n}", "sheet": f"Sheet {n}", "remote": f"Remote {n}"}}
            change.fields = {"label": {"old": "Label A", "new": "Label B"}}
            change.reason = "title changed on both sides since the pull"
        else:
            old = action == "update"
            change.fields = {
                "title": {"old": f"Old {n}" if old else "", "new": f"Release {n}"},
                "label": {"old": "Label A" if old else "", "new": "Label B"},
            }
        listed.append(change)
    return Plan(
        provider="royalti",
        catalog="big.csv",
        base_url="http://127.0.0.1:9",
        columns=["externalId", "title", "label"],
        changes=listed,
    )


def _traced(work: Callable[[], Any]) -> tuple[float, float, float, Any]:
    """(seconds, CPU seconds, peak MB of Python allocations, result) of one call (traced: slower)."""
    tracemalloc.start()
    seconds, cpu, _, result = _timed(work)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, cpu, peak / 1e6, result


def _timed(work: Callable[[], Any]) -> tuple[float, float, float, Any]:
    """(seconds, CPU seconds, 0, result) of one call: on a shared machine the CPU time is the steadier."""
    start, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - start, time.process_time() - cpu, 0.0, result


def measure(changes: int, *, memory: bool = False) -> dict[str, object]:
    """Write and read back a plan workbook of ``changes`` changes (``memory``: trace allocations, slower)."""
    path = Path(tempfile.mkdtemp(prefix="plan-workbook-bench-")) / "plan.xlsx"
    plan = listed_plan(changes)
    run = _traced if memory else _timed
    written, write_cpu, write_mb, _ = run(lambda: save_plan_workbook(plan, path))
    read, read_cpu, read_mb, back = run(lambda: read_plan_workbook(path))
    assert len(back.changes) == changes
    figures: dict[str, object] = {
        "changes": changes,
        "write_s": round(written, 3),
        "write_cpu_s": round(write_cpu, 3),
        "read_s": round(read, 3),
        "read_cpu_s": round(read_cpu, 3),
        "size_mb": round(path.stat().st_size / 1e6, 2),
    }
    if memory:
        figures |= {"write_peak_mb": round(write_mb, 1), "read_peak_mb": round(read_mb, 1)}
    return figures


if __name__ == "__main__":
    args = sys.argv[1:]
    traced = "--memory" in args
    for count in [int(a) for a in args if a != "--memory"] or [10_000, 100_000]:
        print(measure(count, memory=traced), flush=True)
