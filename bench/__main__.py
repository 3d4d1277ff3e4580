"""``make bench``: measure the pipeline's stages and print ratios measured in this one run.

* load:     the same catalog as CSV and as XLSX → rows/s each, and the XLSX/CSV time ratio;
* validate: rows/s of the pandera + Excel-damage checks;
* plan:     the vectorised diff on N and 4N rows → the time ratio (≈ 4 means linear);
* apply:    creates against the royalti sandbox (20 ms latency) at concurrency 1 and 8 → speed-up.

Sizes are modest so the whole run takes well under a minute; pass ``--rows N`` to change them.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from click.testing import CliRunner

from catalog_sync.cli.main import cli
from catalog_sync.plan.diff import build_plan
from catalog_sync.providers.records import RemoteRecord
from catalog_sync.sandbox import FaultConfig, Sandbox
from catalog_sync.sheets import load_sheet, write_csv, write_xlsx
from catalog_sync.spec import load_spec
from catalog_sync.validation import validate_sheet


def gtin12(i: int) -> str:
    body = f"{i:011d}"
    odd = sum(int(d) for d in body[0::2])
    even = sum(int(d) for d in body[1::2])
    return body + str((10 - (odd * 3 + even) % 10) % 10)


def royalti_frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [""] * n,
            "upc": [gtin12(i) for i in range(n)],
            "title": [f"Release {i}" for i in range(n)],
            "displayArtist": ["Band"] * n,
            "externalId": [f"EXT-{i:06d}" for i in range(n)],
            "type": ["Audio"] * n,
            "format": ["Single"] * n,
            "releaseDate": [f"2024-01-{i % 28 + 1:02d}" for i in range(n)],
            "c_line_year": ["2024"] * n,
        },
        dtype=object,
    )


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def bench_load_validate(folder: Path, n: int) -> None:
    df = royalti_frame(n)
    csv_path, xlsx_path = folder / "big.csv", folder / "big.xlsx"
    write_csv(df, csv_path)
    write_xlsx(df, xlsx_path, text_columns=list(df.columns))
    t_csv, sheet = timed(load_sheet, csv_path)
    t_xlsx, _ = timed(load_sheet, xlsx_path)
    spec = load_spec("royalti")
    t_val, report = timed(validate_sheet, sheet, spec)
    assert report.valid, report.problems[:3]
    print(
        f"load      {n} rows: csv {n / t_csv:,.0f} rows/s, xlsx {n / t_xlsx:,.0f} rows/s; xlsx/csv time ratio {t_xlsx / t_csv:.1f}"
    )
    print(f"validate  {n} rows: {n / t_val:,.0f} rows/s")


def bench_plan(folder: Path, n: int) -> None:
    spec = load_spec("royalti")
    times = {}
    for size in (n, 4 * n):
        df = royalti_frame(size)
        path = folder / f"plan-{size}.csv"
        write_csv(df, path)
        sheet = load_sheet(path)
        fields = df.drop(columns=["id"]).to_dict("records")
        remote = [RemoteRecord(f"r{i}", {**f, "id": f"r{i}"}, f"fp{i}") for i, f in enumerate(fields)]
        # every 10th row edited: the plan has updates as well as unchanged rows
        sheet.data.loc[sheet.data.index[::10], "title"] = "Edited"
        times[size], plan = timed(build_plan, sheet, spec, remote)
        assert plan.summary["update"] == len(sheet.data.index[::10]), plan.summary
    print(
        f"plan      {n} rows {times[n]:.2f} s, {4 * n} rows {times[4 * n]:.2f} s; "
        f"time ratio {times[4 * n] / times[n]:.1f} for 4x the rows (4.0 = linear)"
    )


def bench_apply(folder: Path, n: int) -> None:
    seconds = {}
    for concurrency in (1, 8):
        with Sandbox("royalti", api_key="RWAK_bench", faults=FaultConfig(latency_ms=20), seed=1) as sb:
            catalog = folder / f"apply-{concurrency}.csv"
            write_csv(royalti_frame(n), catalog)
            env = {"ROYALTI_API_KEY": "RWAK_bench", "ROYALTI_BASE_URL": sb.url}
            args = ["apply", str(catalog), "-p", "royalti", "--yes", "--rate", "1000"]
            args += ["--concurrency", str(concurrency), "--state", str(folder / f"state-{concurrency}.db")]
            args += ["--report", str(folder / f"report-{concurrency}.json")]
            seconds[concurrency], result = timed(CliRunner().invoke, cli, args, env=env)
            assert result.exit_code == 0, result.output
            assert len(sb.state()["products"]) == n
    print(
        f"apply     {n} creates, 20 ms latency: concurrency 1 {n / seconds[1]:.0f} rows/s, "
        f"concurrency 8 {n / seconds[8]:.0f} rows/s; speed-up {seconds[1] / seconds[8]:.1f}x"
    )


def bench_help() -> None:
    """``catalog-sync --help`` and each command's ``--help`` as whole processes (target < 0.3 s)."""
    import subprocess
    import sys

    def once(args: list[str]) -> float:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "catalog_sync", *args, "--help"], capture_output=True, check=True
        )
        return time.perf_counter() - started

    floor = min(
        _process_seconds([sys.executable, "-c", "import click"]) for _ in range(3)
    )  # a process that only imports click
    figures = {"(top)": min(once([]) for _ in range(3))}
    for command in ("validate", "template", "plan", "apply", "pull", "run", "runs", "sandbox"):
        figures[command] = min(once([command]) for _ in range(3))
    slowest = max(figures, key=lambda k: figures[k])
    shown = ", ".join(f"{name} {seconds:.2f}" for name, seconds in figures.items())
    print(
        f"--help    seconds (best of 3, whole process): {shown}; slowest {slowest} "
        f"{figures[slowest]:.2f} s = {figures[slowest] / floor:.1f}x a process importing only click "
        f"({floor:.2f} s); target < 0.3 s: {'met' if figures[slowest] < 0.3 else 'missed'}"
    )


def _process_seconds(command: list[str]) -> float:
    import subprocess

    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument(
        "--rows", type=int, default=20_000, help="rows for load/validate/plan (default 20000)"
    )
    parser.add_argument(
        "--creates", type=int, default=200, help="creates for the apply benchmark (default 200)"
    )
    args = parser.parse_args()
    os.environ.setdefault("COLUMNS", "120")
    with tempfile.TemporaryDirectory(prefix="catalog-sync-bench-") as tmp:
        folder = Path(tmp)
        bench_load_validate(folder, args.rows)
        bench_plan(folder, args.rows // 4)
        bench_apply(folder, args.creates)
    bench_help()


if __name__ == "__main__":
    main()
