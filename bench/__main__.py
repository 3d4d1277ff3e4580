"""``make bench``: the issue-10 figures, each beside its anchor and its target, in one run.

  validate  N rows (whole process) vs a process that only parses the file with pyarrow
            (≤ 8×) and vs ``frictionless validate`` with the same rules (≥ 10× faster); peak RSS ≤ 1.5 GB
  validate-10m  10M rows (--big-rows) by the out-of-core engine (--engine disk), whole process:
            peak RSS ≤ 2 GB, time per row beside the N-row in-memory validate (≤ 3×)
  plan      N rows vs N remote records (1% changed) on the Royalti sandbox vs a plain
            sequential read of the same pages with requests (≤ 1.5×)
  plan-fast the same plan against a fast stand-in server (pages made once, a dict look-up a
            request) vs a plain read of its pages (≤ 1.5×): the client's own cost, and its CPU
            milliseconds per 1,000 records listed
  plan-saved ``plan -o plan.json`` of the same catalog on the fast server: peak RSS (≤ 1.5 GB)
            beside plan alone, and the saved plan's bytes per row (≤ ~100)
  plan-10m  10M rows vs 10M records (--plan-big-rows) by the out-of-core engine, ``plan --engine disk
            -o plan.json`` against the fast server (pages made on asking), whole process: peak RSS ≤ 2 GB
  xlsx      read a 100k-row xlsx: ours vs openpyxl read-only (≥ 5× faster)
  apply     1,000 updates at 50 ms latency vs 8 plain concurrent clients (≥ 85%)
  pacing    a default apply against a sandbox limiting to R requests/s (≥ 95% of R, ≤ 2% 429s)
  help      ``--help`` of catalog-sync and every command (< 0.3 s)

Every figure is measured as whole child processes (wall time, peak RSS); the table is
printed and written with the machine to bench/results.json.  Default sizes are the issue's
(1M rows); ``--quick`` is ``--rows 100000``; ``--only NAME`` runs some figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from bench.figures import FIGURES
from bench.machine import describe
from bench.measure import compile_sources
from bench.report import Figure, render, write_json
from bench.sizes import Sizes

RESULTS = Path(__file__).resolve().parent / "results.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=None, help="rows to validate and plan (default 1,000,000)"
    )
    parser.add_argument("--quick", action="store_true", help="fast iteration: --rows 100000")
    parser.add_argument(
        "--big-rows",
        type=int,
        help="rows of the validate-10m figure (default 10,000,000; 2x --rows with --rows or --quick)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME[,NAME]",
        help=f"run only these figures (repeatable): {', '.join(FIGURES)}",
    )
    parser.add_argument(
        "--plan-rows", type=int, help="rows and remote records of the plan figure (default --rows)"
    )
    parser.add_argument(
        "--plan-big-rows",
        type=int,
        help="rows and remote records of the plan-10m figure (default 10,000,000; 2x --plan-rows with "
        "--rows, --plan-rows or --quick)",
    )
    parser.add_argument(
        "--xlsx-rows", type=int, help="rows of the xlsx figure (default 100,000, at most --rows)"
    )
    parser.add_argument(
        "--updates", type=int, help="updates of the apply figure (default 1,000, at most --rows/10)"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=50.0, help="sandbox latency of the apply figure (50)"
    )
    parser.add_argument(
        "--rps", type=float, default=40.0, help="R, the rate-limited sandbox's requests/s (40)"
    )
    parser.add_argument("--pacing-updates", type=int, help="updates of the pacing figure (default 400)")
    parser.add_argument("--help-repeats", type=int, default=3, help="best of this many --help runs (3)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds one child process may take")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    parser.add_argument(
        "--workdir", type=Path, help="where catalogs and states go (default: a temporary folder)"
    )
    args = parser.parse_args(argv)
    unknown = [n for name in args.only for n in name.split(",") if n not in FIGURES]
    if unknown:
        parser.error(f"unknown figure {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
    return args


def sizes_from(args: argparse.Namespace) -> Sizes:
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    small = max(10, rows // 10)
    return Sizes(
        rows=rows,
        big_rows=args.big_rows or (2 * rows if args.rows or args.quick else 10_000_000),
        plan_rows=args.plan_rows or rows,
        plan_big_rows=args.plan_big_rows
        or (2 * (args.plan_rows or rows) if args.rows or args.plan_rows or args.quick else 10_000_000),
        xlsx_rows=args.xlsx_rows or min(100_000, rows),
        updates=args.updates or min(1_000, small),
        latency_ms=args.latency_ms,
        rps=args.rps,
        pacing_updates=args.pacing_updates or min(400, small),
        help_repeats=args.help_repeats,
        timeout_s=args.timeout,
    )


def run(names: list[str], sizes: Sizes, work: Path, out: Path) -> list[Figure]:
    """Measure each figure in turn; results.json is rewritten after each, so a long run keeps what it has."""
    machine, options = describe(), {"figures": names, **asdict(sizes)}
    compile_sources()
    figures: list[Figure] = []
    for name in names:
        print(f"bench: measuring {name} …", file=sys.stderr, flush=True)
        folder = work / name
        folder.mkdir(parents=True, exist_ok=True)
        figures.append(FIGURES[name](sizes, folder))
        write_json(out, machine, options, figures)
    render(figures, machine)
    return figures


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = [n for name in args.only for n in name.split(",")] or list(FIGURES)
    with tempfile.TemporaryDirectory(prefix="catalog-sync-bench-") as tmp:
        run(names, sizes_from(args), args.workdir or Path(tmp), args.out)
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
