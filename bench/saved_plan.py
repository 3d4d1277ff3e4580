"""A saved plan's cost (issue 20 item 3): ``catalog-sync plan -o plan.json`` of N rows vs N records
(1% changed) against the fast stand-in server, beside the same ``plan`` without ``-o``.

What is measured: each command's wall seconds and peak RSS (a whole child process), the plan file's
bytes, and its bytes per row (the whole file over every row: the changed rows' bytes are counted
too, so the figure is an upper bound of what an unchanged row costs).  Targets: peak RSS of
``plan -o`` at 1M vs 1M ≤ 1.5 GB; ≤ ~100 bytes per unchanged row.

Like :mod:`bench.remote`, the client runs from whatever ``catalog_sync`` the caller's
``PYTHONPATH`` gives, so the same function measures an older checkout for a before/after:
``PYTHONPATH=../main/src python -m bench.saved_plan --records 100000``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from bench.measure import ProcessRun, catalog_sync, run_process
from bench.remote import KEY, PAGE_SIZE, write_catalog

__all__ = ["bench_plan_saved"]


def _plan(folder: Path, url: str, *extra: str) -> ProcessRun:
    env = {"ROYALTI_API_KEY": KEY, "ROYALTI_BASE_URL": url, "HOME": str(folder)}
    command = catalog_sync("plan", str(folder / "catalog.csv"), "-p", "royalti", *extra)
    run = run_process([*command, "--state", str(folder / "state.db")], env=env, cwd=folder)
    if not run.ok:
        raise RuntimeError(f"plan {' '.join(extra)} failed ({run.returncode}): {run.stderr[-2000:]}")
    return run


def _best(runs: list[ProcessRun]) -> dict[str, Any]:
    """The fastest run's seconds, and the lowest peak RSS of the runs."""
    fastest = min(runs, key=lambda r: r.seconds)
    return {"seconds": round(fastest.seconds, 3), "peak_rss_mb": round(min(r.peak_rss_mb for r in runs), 1)}


def bench_plan_saved(records: int = 100_000, repeats: int = 2) -> dict[str, Any]:
    """``plan`` and ``plan -o plan.json`` of N rows vs N records on the fast server: seconds, peak
    RSS, the file's bytes and bytes per row (best of ``repeats``)."""
    from bench.fast_server import fast_listing

    with tempfile.TemporaryDirectory(prefix="bench-saved-") as tmp:
        folder = Path(tmp)
        edits = write_catalog(folder / "catalog.csv", records, changed_every=100)
        saved = folder / "plan.json"
        with fast_listing(records) as url:
            shown = [_plan(folder, url) for _ in range(repeats)]
            written = []
            for _ in range(repeats):
                saved.unlink(missing_ok=True)
                written.append(_plan(folder, url, "-o", str(saved)))
            size = saved.stat().st_size
            summary = json.loads(saved.read_text(encoding="utf-8"))["summary"]
    return {
        "records": records,
        "pages": -(-records // PAGE_SIZE),
        "changed": edits,
        "plan": _best(shown),
        "plan_saved": _best(written),
        "file_bytes": size,
        "bytes_per_row": round(size / records, 1),
        "unchanged": summary.get("unchanged"),
        "target_bytes_per_unchanged_row": 100,
        "target_peak_rss_mb": 1536,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    print(json.dumps(bench_plan_saved(args.records, args.repeats), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
